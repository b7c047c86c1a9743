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

return await root.Parse(args).InvokeAsync();
