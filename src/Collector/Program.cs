using System.CommandLine;
using PvsFleet.Collector.Cli;

var root = new RootCommand("PvsFleet collector: decodes Citrix Provisioning network boots from the wire")
{
    AnalyzeCommand.Create(),
    SimulateCommand.Create(),
    RunCommand.Create(),
    ReplayCommand.Create(),
    InterfacesCommand.Create(),
};

// The agent's generic host handles SIGTERM/Ctrl+C itself (stop capture, flush, exit): System.CommandLine must not.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
