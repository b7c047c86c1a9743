using System.CommandLine;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
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
        var command = new Command("analyze", "Decode every PXE/PVS boot in capture files") { files, json, reader };
        command.SetAction(parse =>
        {
            var analyzer = new CaptureAnalyzer(new TrackerOptions(), parse.GetValue(reader)) { Progress = Console.Error };
            AnalysisReport report;
            try
            {
                report = analyzer.Analyze(parse.GetValue(files)!);
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

            if (parse.GetValue(json))
            {
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
