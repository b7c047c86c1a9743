using System.CommandLine;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Cli;

/// <summary><c>analyze FILE... [--json]</c>: every PXE/PVS boot in the captures, as a table or as JSON.</summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "pcap or pcapng files, read in order as one recording", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout" };
        var reader = new Option<CaptureReaderKind>("--reader") { Description = "Capture reader: Auto (memory-mapped where possible), SharpPcap or Mapped", DefaultValueFactory = _ => CaptureReaderKind.Auto };
        var explain = new Option<string?>("--explain") { Description = "Walk through one device's boot frame by frame (its MAC, e.g. 52:54:00:00:00:01)" };
        var command = new Command("analyze", "Decode every PXE/PVS boot in capture files") { files, json, reader, explain };
        command.SetAction(parse =>
        {
            var options = new TrackerOptions();
            var analyzer = new CaptureAnalyzer(options, parse.GetValue(reader)) { Progress = Console.Error };
            DeviceWalkthrough? walkthrough = null;
            if (parse.GetValue(explain) is { } mac)
            {
                try
                {
                    walkthrough = new DeviceWalkthrough(MacAddress.Parse(mac), options);
                }
                catch (Exception e) when (e is FormatException or OverflowException)
                {
                    Console.Error.WriteLine($"analyze: --explain {mac}: not a MAC address (write it as 52:54:00:00:00:01)");
                    return 2;
                }
            }

            var jsonWarmUp = walkthrough is null && parse.GetValue(json) ? Task.Run(ReportJson.WarmUp) : null;
            AnalysisReport report;
            try
            {
                report = analyzer.Analyze(parse.GetValue(files)!, walkthrough);
            }
            catch (CaptureException e)
            {
                Console.Error.WriteLine($"analyze: {e.Message}");
                return 2;
            }

            foreach (var warning in report.Warnings)
            {
                Console.Error.WriteLine($"analyze: warning: {warning}");
            }

            if (walkthrough is not null)
            {
                walkthrough.Write(Console.Out, analyzer.Frames);
            }
            else if (parse.GetValue(json))
            {
                jsonWarmUp!.Wait();
                Console.Out.WriteLine(ReportJson.Serialize(report));
            }
            else
            {
                ReportTable.Write(report, Console.Out);
            }

            return 0;
        });
        return command;
    }
}
