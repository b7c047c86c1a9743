using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Simulation;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Simulation;

/// <summary>The tracker, reading a simulated storm, must tell exactly the story the simulator wrote down.</summary>
public sealed class SimulateAnalyzeAgreementTests(SimulationOutput output) : IClassFixture<SimulationOutput>
{
    private static readonly BootIssueKind[] TruthKinds = [BootIssueKind.TftpError, BootIssueKind.PxeRestarted, BootIssueKind.DhcpNak, BootIssueKind.Stuck, BootIssueKind.BootLoop];

    [Fact]
    public void Analyze_agrees_with_the_truth_of_a_1000_device_storm()
    {
        var storm = output.SmallStorm("agreement-1000", devices: 1000, seed: 2026) with { StaggerSeconds = 60 };
        var result = BootStormSimulator.Run(storm);

        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([result.CapturePath]);

        AssertAgrees(result.Truth, report);
        Assert.Equal(1000, report.Devices.Count);
        foreach (var outcome in new[] { BootOutcome.Booted, BootOutcome.Failed, BootOutcome.Stuck })
        {
            Assert.Contains(report.Devices, d => d.Sessions.Any(s => s.Outcome == outcome));
        }
    }

    [Fact]
    public void Analyze_agrees_on_a_recording_that_starts_mid_boot()
    {
        // A third of the healthy devices were already booting: their recording begins at the bootstrap's RRQ, the logon or a read.
        var storm = output.SmallStorm("agreement-joined", devices: 300, seed: 77) with { JoinedShare = 0.35, Port69TftpShare = 0.3 };
        var result = BootStormSimulator.Run(storm);

        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([result.CapturePath]);

        AssertAgrees(result.Truth, report);
        var joined = report.Devices.SelectMany(d => d.Sessions).Where(s => s.JoinedMidBoot).ToList();
        Assert.True(joined.Count >= 50, $"{joined.Count} sessions joined mid-boot");
        Assert.Contains(joined, s => s.Phases[0].Name == BootPhase.BootstrapDownload);
        Assert.Contains(joined, s => s.Phases[0].Name == BootPhase.PvsLogon && s.Phases[0].End == s.Phases[0].Start);
        Assert.All(joined, s => Assert.Equal(BootOutcome.Booted, s.Outcome));
    }

    [Fact]
    public void Simulate_and_analyze_commands_agree_through_their_files()
    {
        var capture = Path.Combine(output.Folder, "cli.pcapng");
        var simulate = CollectorProcess.Run("simulate", "--devices", "40", "--out", capture, "--seed", "5",
            "--single-read-ios", "5", "--bnistack-ios", "5", "--stagger", "10",
            "--port69-share", "0.5", "--login-port-streaming-share", "0.5", "--joined-share", "0.3");
        Assert.Equal(0, simulate.ExitCode);

        var analyze = CollectorProcess.Run("analyze", "--json", capture);

        Assert.Equal(0, analyze.ExitCode);
        var truth = ReportJson.Deserialize(File.ReadAllText(Path.ChangeExtension(capture, ".truth.json")));
        AssertAgrees(truth, ReportJson.Deserialize(analyze.Stdout));
    }

    [Fact]
    public void Simulate_command_puts_the_devices_in_the_mac_range_it_is_given()
    {
        // The API's build writes the demo's storms this way: each collector's devices in a range of their own.
        var capture = Path.Combine(output.Folder, "cli-mac-offset.pcapng");
        var simulate = CollectorProcess.Run("simulate", "--devices", "3", "--out", capture, "--mac-offset", "327680" /* 0x05_0000 */,
            "--single-read-ios", "2", "--bnistack-ios", "2", "--failure-share", "0");
        Assert.True(simulate.ExitCode == 0, simulate.Stderr);

        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([capture]);

        Assert.Equal(["52:54:00:05:00:01", "52:54:00:05:00:02", "52:54:00:05:00:03"], report.Devices.Select(d => d.Mac).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Simulate_command_refuses_a_mac_offset_beyond_the_three_bytes_it_has()
    {
        var capture = Path.Combine(output.Folder, "cli-mac-overflow.pcapng");

        var simulate = CollectorProcess.Run("simulate", "--devices", "3", "--out", capture, "--mac-offset", "16777214");

        Assert.Equal(2, simulate.ExitCode);
        Assert.Contains("MacOffset must be between 0 and 16777212", simulate.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(capture));
    }

    [Fact]
    public void Mapped_and_sharppcap_readers_give_the_same_report_on_pcapng()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("readers", devices: 60, seed: 3));

        var mapped = new CaptureAnalyzer(new TrackerOptions(), CaptureReaderKind.Mapped).Analyze([result.CapturePath]);
        var libpcap = new CaptureAnalyzer(new TrackerOptions(), CaptureReaderKind.SharpPcap).Analyze([result.CapturePath]);

        Assert.Equal(ReportJson.Serialize(libpcap), ReportJson.Serialize(mapped));
    }

    internal static void AssertAgrees(AnalysisReport truth, AnalysisReport report)
    {
        Assert.Equal(truth.Packets, report.Packets);
        Assert.Equal(truth.DuplicateFrames, report.DuplicateFrames);
        Assert.Equal(0, report.Malformed);
        Assert.Equal(truth.CaptureStart, report.CaptureStart);
        Assert.Equal(truth.CaptureEnd, report.CaptureEnd);
        Assert.Equal(truth.Devices.Select(d => d.Mac), report.Devices.Select(d => d.Mac));
        foreach (var (expected, actual) in truth.Devices.Zip(report.Devices))
        {
            Assert.True(expected.Sessions.Count == actual.Sessions.Count, $"{expected.Mac}: {actual.Sessions.Count} sessions, truth has {expected.Sessions.Count}");
            foreach (var (want, got) in expected.Sessions.Zip(actual.Sessions))
            {
                var where = $"{expected.Mac} session at {want.Start:O}";
                Assert.True(Same(want, got), $"{where}: analyze {Describe(got)}\n truth {Describe(want)}");
                Assert.True(want.Phases.Select(p => p.Timing).SequenceEqual(got.Phases.Select(p => p.Timing)), $"{where}: phases\n analyze {string.Join("; ", got.Phases)}\n truth {string.Join("; ", want.Phases)}");
                Assert.True(TruthIssues(want).SequenceEqual(TruthIssues(got)),
                    $"{where}: issues\n analyze {string.Join("; ", TruthIssues(got).Select(i => $"{i.Item1} {i.Item2:O}"))}\n truth {string.Join("; ", TruthIssues(want).Select(i => $"{i.Item1} {i.Item2:O}"))}");
            }
        }
    }

    private static bool Same(SessionReport a, SessionReport b) =>
        a.Ip == b.Ip && a.Firmware == b.Firmware && a.BootFile == b.BootFile && a.Start == b.Start && a.End == b.End
        && a.Outcome == b.Outcome && a.Phase == b.Phase && a.JoinedMidBoot == b.JoinedMidBoot && a.LoopCount == b.LoopCount
        && a.DhcpServer == b.DhcpServer && a.TftpServer == b.TftpServer && a.PvsServer == b.PvsServer && a.HostName == b.HostName;

    private static string Describe(SessionReport s) =>
        $"{s.Ip} {s.Firmware} {s.BootFile} {s.Start:O}–{s.End:O} {s.Outcome} in {s.Phase} joined={s.JoinedMidBoot} loops={s.LoopCount} "
        + $"dhcp={s.DhcpServer} tftp={s.TftpServer} pvs={s.PvsServer} host={s.HostName}";

    /// <summary>The verdicts the simulator knows (it leaves retransmit-storm judgement to the tracker), with their times.</summary>
    private static List<(BootIssueKind, DateTime)> TruthIssues(SessionReport session) =>
        session.Issues.Where(i => TruthKinds.Contains(i.Kind)).Select(i => (i.Kind, i.At)).Order().ToList();
}
