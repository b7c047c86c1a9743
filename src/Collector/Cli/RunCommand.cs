using System.CommandLine;
using PvsFleet.Collector.Agent;

namespace PvsFleet.Collector.Cli;

/// <summary><c>run</c>: capture live on the mirror interfaces and ship every boot to the API.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var flags = new AgentFlags();
        var interfaces = new Option<string[]>("--interface", "-i") { Description = "A capture interface (repeatable; 'any' for all at once; Collector:Interfaces)" };
        var filter = new Option<string?>("--filter") { Description = "A BPF filter instead of the default boot-traffic filter" };
        var command = new Command("run", "Capture PXE/PVS boots live on mirror ports and ship them to the API") { interfaces, filter };
        flags.AddTo(command);
        command.SetAction((parse, _) =>
        {
            var config = flags.Read(parse);
            var names = parse.GetValue(interfaces) ?? [];
            for (var i = 0; i < names.Length; i++)
            {
                config[$"Collector:Interfaces:{i}"] = names[i];
            }

            AgentFlags.Set(config, "Filter", parse.GetValue(filter));
            return AgentHost.RunAsync(config, needsInterfaces: true, (options, _) => new LiveSource(options.Interfaces, LiveSource.Filter(options), options.CaptureBufferMegabytes << 20));
        });
        return command;
    }
}
