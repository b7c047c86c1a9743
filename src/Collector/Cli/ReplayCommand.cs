using System.CommandLine;
using System.Globalization;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Capture;

namespace PvsFleet.Collector.Cli;

/// <summary><c>replay FILE... --api URL --key KEY [--speed 1|10|max] [--loop] [--shift-to-now]</c>.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var flags = new AgentFlags();
        var files = new Argument<string[]>("FILE") { Description = "pcap or pcapng files, played in order", Arity = ArgumentArity.OneOrMore };
        var speed = new Option<string>("--speed") { Description = "1 = as recorded, 10 = ten times faster, max = as fast as it reads", DefaultValueFactory = _ => "1" };
        var loop = new Option<bool>("--loop") { Description = "Play the files again and again, each pass after the last" };
        var shift = new Option<bool>("--shift-to-now") { Description = "Move the recording to the present, as if it happened now" };
        var command = new Command("replay", "Play captures through the collector pipeline and ship them to the API as if live") { files, speed, loop, shift };
        flags.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            if (!TryParseSpeed(parse.GetValue(speed)!, out var factor))
            {
                await Console.Error.WriteLineAsync("replay: --speed takes a positive number (1, 10, …) or max");
                return 2;
            }

            var paths = parse.GetValue(files)!;
            foreach (var path in paths)
            {
                try
                {
                    CaptureFile.Open(path).Dispose();
                }
                catch (CaptureException e)
                {
                    await Console.Error.WriteLineAsync($"replay: {e.Message}");
                    return 2;
                }
            }

            return await AgentHost.RunAsync(flags.Read(parse), needsInterfaces: false,
                (_, clock) => new ReplaySource(paths, factor, parse.GetValue(loop), parse.GetValue(shift), clock));
        });
        return command;
    }

    private static bool TryParseSpeed(string text, out double? factor)
    {
        factor = null;
        if (text.Equals("max", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            factor = value;
            return true;
        }

        return false;
    }
}
