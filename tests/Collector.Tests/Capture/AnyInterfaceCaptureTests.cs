using System.Runtime.InteropServices;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

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
            Assert.Equal(AnyInterfaceRecording.ExpectedFrames, report.Packets);
            Assert.Equal(report.Packets / 2, report.DuplicateFrames);
        }
    }

    [SkippableFact]
    public void Live_capture_on_any_reads_the_cooked_frames_and_counts_the_bridge_copies()
    {
        using var lab = AnyInterfaceRecording.TryCreate(out var whyNot);
        if (lab is null)
        {
            Assert.False(OnCi, $"cannot build the test's network under CI: {whyNot}");
            Skip.If(true, $"cannot build the test's network here: {whyNot}");
        }

        var spoolDirectory = Path.Combine(lab!.Folder, "spool");
        using var spool = new EventSpool(spoolDirectory);
        var pipeline = new CollectorPipeline(new TrackerOptions(), spool);
        using var stop = new CancellationTokenSource();
        using var opened = new ManualResetEventSlim();
        LiveCapture? capture = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                // This thread alone moves into the lab's namespace, so "any" means the lab's interfaces, not the host's.
                EnterNetworkNamespace(lab.ServerNamespace);
                capture = LiveCapture.Open("any", LiveSource.Filter(new AgentOptions()), 16 << 20);
                opened.Set();
                capture.Run(pipeline, stop.Token);
            }
            catch (Exception e)
            {
                failure = e;
                opened.Set();
            }
        });
        thread.Start();
        try
        {
            Assert.True(opened.Wait(TimeSpan.FromSeconds(30)), "the capture did not open");
            Assert.Null(failure);
            Assert.True(capture!.LinkType is LinkType.LinuxSll or LinkType.LinuxSll2, $"any is captured as {capture.LinkType}");

            lab.PlayBoot();

            // The capture thread may lag the exchange on a loaded machine (its first frames are JIT-compiled on
            // the way): wait until both copies of the exchange's datagrams are read, or 20 s.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (pipeline.Counters.Packets - pipeline.Counters.Arp < AnyInterfaceRecording.ExpectedFrames && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
        finally
        {
            stop.Cancel();
            thread.Join(TimeSpan.FromSeconds(10));
            capture?.Dispose();
        }

        Assert.Null(failure);
        Assert.Equal(0, pipeline.Counters.Malformed);
        Assert.True(pipeline.Counters.Packets - pipeline.Counters.Arp >= AnyInterfaceRecording.ExpectedFrames, $"{pipeline.Counters.Packets} frames");
        // The filter passes ARP too, should the namespaces resolve each other again: ARP is not IP, so never a copy.
        Assert.Equal((pipeline.Counters.Packets - pipeline.Counters.Arp) / 2, pipeline.Counters.DuplicateFrames);
        var last = spool.Peek(10_000).OfType<SessionEvent>().Last(e => e.Session.Mac == AnyInterfaceRecording.DeviceMac).Session;
        Assert.Equal(BootPhase.PvsLogon, last.Phase);
        Assert.Equal(AnyInterfaceRecording.DeviceIp, last.Ip);
        Assert.All(last.Phases, p => Assert.Equal(0, p.Retries));
    }

    private static void EnterNetworkNamespace(string name)
    {
        const int CloneNewNet = 0x40000000;
        using var handle = File.OpenHandle($"/var/run/netns/{name}");
        if (SetNamespace((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new InvalidOperationException($"setns({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNamespace(int descriptor, int type);

    private static void AssertFramesCarryTheDevicesMac(string capture, CaptureReaderKind kind, LinkType expected)
    {
        using var reader = CaptureFile.Open(capture, kind);
        var fromDevice = 0;
        var seen = new List<string>();
        while (reader.TryRead(out _, out var frame, out var linkType))
        {
            Assert.Equal(expected, linkType);
            Assert.True(LinkFrame.TryParse(linkType, frame, out var link));
            Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
            Assert.True(Ipv4Packet.TryParse(link.Payload, out var ip));
            seen.Add($"{Ipv4Address.Format(ip.Source)}>{Ipv4Address.Format(ip.Destination)}:{(UdpDatagram.TryParse(ip.Payload, out var udp) ? udp.DestinationPort : 0)}");
            if (Ipv4Address.Format(ip.Source) == AnyInterfaceRecording.DeviceIp)
            {
                // The cooked header's address is the link-layer sender: the device's NIC.
                Assert.True(link.HasSourceMac);
                Assert.Equal(AnyInterfaceRecording.DeviceMac, link.SourceMac.ToString());
                fromDevice++;
            }
        }

        Assert.True(fromDevice >= 6, $"{fromDevice} frames from the device in {kind} of {expected}: {string.Join(", ", seen)}");
    }
}
