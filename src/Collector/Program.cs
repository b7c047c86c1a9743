using System.CommandLine;
using PvsFleet.Collector.Cli;

var root = new RootCommand("PvsFleet collector: decodes Citrix Provisioning network boots from the wire")
{
    AnalyzeCommand.Create(),
    SimulateCommand.Create(),
};

return root.Parse(args).Invoke();
