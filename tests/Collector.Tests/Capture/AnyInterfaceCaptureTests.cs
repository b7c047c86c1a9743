using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>
/// A boot recorded by this test with <c>tcpdump -i any</c> (Linux cooked v1 and v2) on a bridge and its port:
/// both readers decode it, and the copies the two interfaces make are copies, not retransmits.
/// </summary>
public sealed class AnyInterfaceCaptureTests
{
    private static bool OnCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    [SkippableTheory]
    [InlineData(null, LinkType.LinuxSll2)]
    [InlineData("LINUX_SLL", LinkType.LinuxSll)]
    public void A_boot_recorded_with_tcpdump_any_on_a_bridge_reads_as_one_clean_boot(string? tcpdumpLinkType, LinkType expected)
    {
        using var lab = AnyInterfaceRecording.TryCreate(out var whyNot);
        if (lab is null)
        {
            // Root, iproute2 and tcpdump are there on this machine kind and in CI: there, a missing lab fails.
            Assert.False(OnCi, $"cannot record with tcpdump -i any under CI: {whyNot}");
            Skip.If(true, $"cannot record with tcpdump -i any here: {whyNot}");
        }

        var capture = lab!.RecordBoot(tcpdumpLinkType);

        foreach (var kind in new[] { CaptureReaderKind.Mapped, CaptureReaderKind.SharpPcap })
        {
            AssertFramesCarryTheDevicesMac(capture, kind, expected);
            var report = new CaptureAnalyzer(new TrackerOptions(), kind).Analyze([capture]);

            Assert.Equal(0, report.Malformed);
            Assert.Empty(report.Warnings);
            var device = Assert.Single(report.Devices);
            Assert.Equal(AnyInterfaceRecording.DeviceMac, device.Mac);
            var session = Assert.Single(device.Sessions);
            Assert.Equal(AnyInterfaceRecording.DeviceIp, session.Ip);
            Assert.Equal("ARDBP32.bin", session.BootFile);
            Assert.Equal(Firmware.Bios, session.Firmware);
            Assert.Equal([BootPhase.IpAcquisition, BootPhase.BootstrapDownload, BootPhase.PvsLogon], session.Phases.Select(p => p.Name));
            Assert.All(session.Phases, p => Assert.Equal(0, p.Retries));
            Assert.Equal(new BootstrapReport(3, 512, 1, null, true), session.Bootstrap);

            // Every datagram crossed the bridge port and the bridge: each was captured twice, each second one a copy.
            Assert.True(report.Packets >= 20, $"{report.Packets} frames");
            Assert.Equal(report.Packets / 2, report.DuplicateFrames);
        }
    }

    private static void AssertFramesCarryTheDevicesMac(string capture, CaptureReaderKind kind, LinkType expected)
    {
        using var reader = CaptureFile.Open(capture, kind);
        var fromDevice = 0;
        while (reader.TryRead(out _, out var frame, out var linkType))
        {
            Assert.Equal(expected, linkType);
            Assert.True(LinkFrame.TryParse(linkType, frame, out var link));
            Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
            Assert.True(Ipv4Packet.TryParse(link.Payload, out var ip));
            if (Ipv4Address.Format(ip.Source) == AnyInterfaceRecording.DeviceIp)
            {
                // The cooked header's address is the link-layer sender: the device's NIC.
                Assert.True(link.HasSourceMac);
                Assert.Equal(AnyInterfaceRecording.DeviceMac, link.SourceMac.ToString());
                fromDevice++;
            }
        }

        Assert.True(fromDevice >= 6, $"{fromDevice} frames from the device");
    }
}
