using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Simulation;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Tests.Simulation;

/// <summary>
/// The same storm captured the ways admins capture: on several interfaces at once (every frame 2–6 times) and with
/// <c>tcpdump -i any</c> (Linux cooked v2). The tracker must tell the same story as from one clean Ethernet port.
/// </summary>
public sealed class CaptureKindsAgreementTests(SimulationOutput output) : IClassFixture<SimulationOutput>
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Analyze_agrees_with_a_storm_captured_on_several_interfaces(int copies)
    {
        var storm = output.SmallStorm($"copies-{copies}", devices: 80, seed: 11) with { Copies = copies };
        var result = BootStormSimulator.Run(storm);
        var plain = BootStormSimulator.Run(output.SmallStorm("copies-none", devices: 80, seed: 11));

        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([result.CapturePath]);

        SimulateAnalyzeAgreementTests.AssertAgrees(result.Truth, report);
        Assert.Equal((plain.Packets - 1) * copies, report.DuplicateFrames); // every device frame, not the closing ARP
        Assert.Equal(plain.Truth.Devices, result.Truth.Devices, DeviceReportComparer.Instance);
    }

    [Theory]
    [InlineData(CaptureReaderKind.Mapped)]
    [InlineData(CaptureReaderKind.SharpPcap)]
    public void Analyze_agrees_with_a_storm_recorded_as_linux_cooked_v2(CaptureReaderKind reader)
    {
        var storm = output.SmallStorm($"sll2-{reader}", devices: 60, seed: 12) with { LinkType = LinkType.LinuxSll2, Copies = 1 };
        var result = BootStormSimulator.Run(storm);
        using (var file = CaptureFile.Open(result.CapturePath, reader))
        {
            Assert.True(file.TryRead(out _, out var frame, out var linkType));
            Assert.Equal(LinkType.LinuxSll2, linkType);
            Assert.True(LinkFrame.TryParse(linkType, frame, out var link));
            Assert.True(link.HasSourceMac);
        }

        var report = new CaptureAnalyzer(new TrackerOptions(), reader).Analyze([result.CapturePath]);

        SimulateAnalyzeAgreementTests.AssertAgrees(result.Truth, report);
        Assert.True(report.DuplicateFrames > 0);
    }

    [Fact]
    public void Simulate_writes_copies_and_sll2_that_analyze_reads_through_the_commands()
    {
        var capture = Path.Combine(output.Folder, "cli-any.pcapng");
        var simulate = CollectorProcess.Run("simulate", "--devices", "30", "--out", capture, "--seed", "8",
            "--single-read-ios", "4", "--bnistack-ios", "4", "--stagger", "5", "--copies", "2", "--link-type", "sll2");
        Assert.Equal(0, simulate.ExitCode);

        var analyze = CollectorProcess.Run("analyze", "--json", capture);

        Assert.Equal(0, analyze.ExitCode);
        Assert.Contains("\"duplicateFrames\":", analyze.Stdout, StringComparison.Ordinal);
        var truth = ReportJson.Deserialize(File.ReadAllText(Path.ChangeExtension(capture, ".truth.json")));
        var report = ReportJson.Deserialize(analyze.Stdout);
        SimulateAnalyzeAgreementTests.AssertAgrees(truth, report);
        Assert.True(report.DuplicateFrames > 0);

        var refused = CollectorProcess.Run("simulate", "--devices", "1", "--out", capture, "--link-type", "token-ring");
        Assert.NotEqual(0, refused.ExitCode);
    }

    /// <summary>Sessions equal by value (records hold lists, which compare by reference).</summary>
    private sealed class DeviceReportComparer : IEqualityComparer<DeviceReport>
    {
        public static readonly DeviceReportComparer Instance = new();

        public bool Equals(DeviceReport? x, DeviceReport? y) =>
            x is not null && y is not null && ReportJson.Serialize(Wrap(x)) == ReportJson.Serialize(Wrap(y));

        public int GetHashCode(DeviceReport obj) => obj.Mac.GetHashCode(StringComparison.Ordinal);

        private static AnalysisReport Wrap(DeviceReport device) => new(null, null, 0, 0, [device]);
    }
}
