using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>The lab recordings of real PXE firmware (samples/captures, copied from shared/captures).</summary>
public class RealCaptureTests
{
    private static AnalysisReport Analyze(string name, CaptureReaderKind reader = CaptureReaderKind.Auto) =>
        new CaptureAnalyzer(new TrackerOptions(), reader).Analyze([Repository.Sample(name)]);

    [Theory]
    [InlineData(CaptureReaderKind.Mapped)]
    [InlineData(CaptureReaderKind.SharpPcap)]
    public void Bios_lab_boot_is_one_session_waiting_in_pvs_logon(CaptureReaderKind reader)
    {
        var report = Analyze("real-bios-1.pcap", reader);

        Assert.Equal(135, report.Packets);
        Assert.Equal(0, report.Malformed);
        var device = Assert.Single(report.Devices);
        Assert.Equal("52:54:00:00:00:01", device.Mac);
        var session = Assert.Single(device.Sessions);
        Assert.Equal(Firmware.Bios, session.Firmware);
        Assert.Equal("10.1.1.156", session.Ip);
        Assert.Equal("ARDBP32.bin", session.BootFile);
        Assert.Equal(new BootstrapReport(51, 1432, 1, 72292, true), session.Bootstrap);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);
        Assert.Equal(BootOutcome.InProgress, session.Outcome);
        Assert.Null(session.End);
        Assert.Equal(1, session.Phases[0].Retries); // one DISCOVER retry before the two OFFERs
        Assert.Empty(session.Issues);
        var silence = report.CaptureEnd!.Value - session.Phases[2].Start;
        Assert.InRange(silence.TotalSeconds, 9, 11);
    }

    [Theory]
    [InlineData(CaptureReaderKind.Mapped)]
    [InlineData(CaptureReaderKind.SharpPcap)]
    public void A_capture_behind_a_symbolic_link_reads_as_the_file_itself(CaptureReaderKind reader)
    {
        // Admins link the day's capture from a ring directory; the link's own length is a few bytes.
        var directory = Directory.CreateTempSubdirectory("pvsfleet-link-");
        try
        {
            var link = Path.Combine(directory.FullName, "today.pcap");
            File.CreateSymbolicLink(link, Repository.Sample("real-uefi-1.pcap"));
            var analyzer = new CaptureAnalyzer(new TrackerOptions(), reader);

            var throughLink = analyzer.Analyze([link]);

            var direct = Analyze("real-uefi-1.pcap", reader);
            Assert.Empty(throughLink.Warnings);
            Assert.Equal(374, throughLink.Packets);
            Assert.Equal(direct.Packets, throughLink.Packets);
            Assert.Equal(
                direct.Devices.SelectMany(d => d.Sessions).Select(s => (s.Start, s.End, s.Outcome, s.Phase)),
                throughLink.Devices.SelectMany(d => d.Sessions).Select(s => (s.Start, s.End, s.Outcome, s.Phase)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(CaptureReaderKind.Mapped)]
    [InlineData(CaptureReaderKind.SharpPcap)]
    public void Uefi_lab_boot_restarts_pxe_after_the_bootstrap_then_sticks_in_pvs_logon(CaptureReaderKind reader)
    {
        var report = Analyze("real-uefi-1.pcap", reader);

        var device = Assert.Single(report.Devices);
        Assert.Equal(2, device.Sessions.Count);

        var ipxe = device.Sessions[0];
        Assert.Equal(BootOutcome.Failed, ipxe.Outcome);
        Assert.Equal(Firmware.Uefi, ipxe.Firmware);
        Assert.Equal("pvsnbpx64.efi", ipxe.BootFile);
        Assert.Equal(83, ipxe.Bootstrap!.Blocks);
        Assert.Equal(1432, ipxe.Bootstrap.BlockSize);
        Assert.Equal(BootIssueKind.PxeRestarted, Assert.Single(ipxe.Issues).Kind);
        Assert.Equal(ipxe.End, device.Sessions[1].Start);

        var firmware = device.Sessions[1];
        Assert.Equal(BootOutcome.Stuck, firmware.Outcome);
        Assert.Equal(BootPhase.PvsLogon, firmware.Phase);
        Assert.Null(firmware.End);
        Assert.Equal(new BootstrapReport(81, 1468, 1, null, true), firmware.Bootstrap);
        Assert.DoesNotContain(firmware.Issues, i => i.Kind is BootIssueKind.TftpError or BootIssueKind.TftpClientAbort);
        Assert.Equal(0, firmware.Phases.Single(p => p.Name == BootPhase.BootstrapDownload).Retries);
        var stuck = Assert.Single(firmware.Issues);
        Assert.Equal(BootIssueKind.Stuck, stuck.Kind);
        Assert.InRange((report.CaptureEnd!.Value - firmware.Phases[2].Start).TotalSeconds, 30, 32);
    }

    [Theory]
    [InlineData("real-bios-1.pcap")]
    [InlineData("real-uefi-1.pcap")]
    public void Mapped_and_sharppcap_readers_see_the_same_frames(string name)
    {
        using var mapped = CaptureFile.Open(Repository.Sample(name), CaptureReaderKind.Mapped);
        using var libpcap = CaptureFile.Open(Repository.Sample(name), CaptureReaderKind.SharpPcap);
        var frames = 0;
        while (mapped.TryRead(out var t1, out var f1))
        {
            var bytes = f1.ToArray();
            Assert.True(libpcap.TryRead(out var t2, out var f2));
            Assert.Equal(t2, t1);
            Assert.True(f2.SequenceEqual(bytes));
            frames++;
        }

        Assert.False(libpcap.TryRead(out _, out _));
        Assert.True(frames > 100);
        Assert.Null(mapped.Damage);
    }

    [Fact]
    public void Json_report_has_the_documented_shape()
    {
        var json = ReportJson.Serialize(Analyze("real-uefi-1.pcap"));
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var root = document.RootElement;
        foreach (var name in new[] { "captureStart", "captureEnd", "packets", "malformed", "devices" })
        {
            Assert.True(root.TryGetProperty(name, out _), name);
        }

        var session = root.GetProperty("devices")[0].GetProperty("sessions")[1];
        Assert.Equal("Stuck", session.GetProperty("outcome").GetString());
        Assert.Equal("PvsLogon", session.GetProperty("phase").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, session.GetProperty("end").ValueKind);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", session.GetProperty("start").GetString());
        var phase = session.GetProperty("phases")[0];
        Assert.Equal("IpAcquisition", phase.GetProperty("name").GetString());
        Assert.Equal(0, phase.GetProperty("retries").GetInt32());
        Assert.Equal("Stuck", session.GetProperty("issues")[0].GetProperty("kind").GetString());
    }
}
