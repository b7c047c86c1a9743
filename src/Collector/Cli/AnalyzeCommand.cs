using System.CommandLine;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Cli;

/// <summary><c>analyze FILE... [--json] [--explain MAC] [--evidence DIR]</c>: every PXE/PVS boot in the captures, as a table or as JSON.</summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "pcap or pcapng files, read in order as one recording", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout" };
        var reader = new Option<CaptureReaderKind>("--reader") { Description = "Capture reader: Auto (memory-mapped where possible), SharpPcap or Mapped", DefaultValueFactory = _ => CaptureReaderKind.Auto };
        var explain = new Option<string?>("--explain") { Description = "Walk through one device's boot frame by frame (its MAC, e.g. 52:54:00:00:00:01)" };
        var evidenceDirectory = new Option<string?>("--evidence") { Description = "Write one pcapng clip per failed, stuck or looping boot into this directory (the device's frames, for Wireshark)" };
        var command = new Command("analyze", "Decode every PXE/PVS boot in capture files") { files, json, reader, explain, evidenceDirectory };
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
            EvidenceCollector? evidence = null;
            var clips = 0;
            if (parse.GetValue(evidenceDirectory) is { } directory)
            {
                try
                {
                    Directory.CreateDirectory(directory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    Console.Error.WriteLine($"analyze: --evidence {directory}: {e.Message}");
                    return 2;
                }

                evidence = new EvidenceCollector(new EvidenceOptions(), clip =>
                {
                    File.WriteAllBytes(Path.Combine(directory, ClipFiles.Name(clip)), clip.Pcapng);
                    clips++;
                });
            }

            AnalysisReport report;
            try
            {
                report = analyzer.Analyze(parse.GetValue(files)!, walkthrough, evidence);
            }
            catch (CaptureException e)
            {
                Console.Error.WriteLine($"analyze: {e.Message}");
                return 2;
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"analyze: writing evidence: {e.Message}");
                return 2;
            }

            if (evidence is not null)
            {
                var c = evidence.Counters;
                Console.Error.WriteLine($"analyze: evidence: {clips} clips in {parse.GetValue(evidenceDirectory)}; peak {c.PeakBytesInUse / 1024} KB of frames kept, {c.FramesEvictedForBudget} frames evicted for the budget, {c.FramesDropped} dropped");
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
