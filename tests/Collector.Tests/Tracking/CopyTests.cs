using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Tracking;

/// <summary>A frame captured on several interfaces at once is one frame: copies are counted, never retries or progress.</summary>
public class CopyTests
{
    private static readonly TimeSpan Microsecond = TimeSpan.FromTicks(10);

    /// <summary>A whole boot: DHCP with one DISCOVER retry, the bootstrap download, logon and streaming.</summary>
    private static BootScenario Boot(TrackerOptions? options = null)
    {
        var scenario = new BootScenario { Options = options ?? new TrackerOptions() }
            .At(0).Discover(7).At(1).Discover(7, secs: 1)
            .At(1.5).Offer(7).At(1.6).Request(7).At(1.7).Ack(7)
            .Download(2)
            .At(3).Logon(1).At(3.1).Logon(2);
        for (var io = 0; io < 20; io++)
        {
            scenario.At(4 + (io * 0.01)).Read(io).At(4.001 + (io * 0.01)).Burst(io);
        }

        return scenario;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void A_boot_captured_on_several_interfaces_reads_as_the_same_boot(int copies)
    {
        var once = Boot().Run();
        var scenario = Boot().CapturedAgain(copies, 3 * Microsecond);
        var framesOnce = Boot().Frames.Count;

        var again = scenario.Run();

        Assert.Equal(framesOnce * copies, again.DuplicateFrames);
        Assert.Equal(framesOnce * (copies + 1), again.Packets);
        Assert.Equal(0, once.DuplicateFrames);
        var want = Assert.Single(Assert.Single(once.Devices).Sessions);
        var got = Assert.Single(Assert.Single(again.Devices).Sessions);
        Assert.Equal(want.Phases, got.Phases);
        Assert.Equal(1, got.Phases[0].Retries);
        Assert.All(got.Phases.Skip(1), p => Assert.Equal(0, p.Retries));
        Assert.Equal(want.Bootstrap, got.Bootstrap);
        Assert.Equal(want.Issues.Select(i => i.Kind), got.Issues.Select(i => i.Kind));
    }

    [Fact]
    public void Copies_under_other_link_layers_are_still_copies()
    {
        // The trunk port sees the frame tagged, the access port untagged, "-i any" cooked: the IP datagram is one.
        var scenario = Boot().CapturedAgain(2, 2 * Microsecond, (frame, copy) => copy == 1 ? FrameBuilder.Tagged(frame, 100, 2001) : frame);
        var report = scenario.Run();

        Assert.Equal(2 * Boot().Frames.Count, report.DuplicateFrames);
        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        Assert.Equal(1, session.Phases[0].Retries);
    }

    [Fact]
    public void A_cooked_copy_of_an_ethernet_frame_is_a_copy()
    {
        var tracker = new BootTracker(new TrackerOptions(), (_, _) => { });
        var at = BootScenario.Origin;
        foreach (var frame in Boot().Frames)
        {
            at = at.AddMilliseconds(10);
            tracker.Process(at, frame);
            tracker.Process(at + Microsecond, FrameBuilder.Sll2(frame), LinkType.LinuxSll2);
        }

        Assert.Equal(Boot().Frames.Count, tracker.Counters.DuplicateFrames);
        Assert.Equal(0, tracker.Counters.Malformed);
    }

    [Fact]
    public void The_same_bytes_after_the_copy_window_are_a_retransmit()
    {
        var discover = new BootScenario().At(0).Discover(7).Frames[0];

        var session = Only(new BootScenario().At(0).Add(discover).At(0.006).Add(discover).At(0.5).Offer(7).Run());

        Assert.Equal(1, session.Phases[0].Retries);
    }

    [Fact]
    public void A_datagram_sent_again_is_a_retransmit_even_within_the_window()
    {
        // The client's stack numbers its datagrams: a DISCOVER sent again has another IP id, so it is no copy.
        var report = new BootScenario().At(0).Discover(7).At(0.001).Discover(7).At(0.5).Offer(7).Run();

        Assert.Equal(0, report.DuplicateFrames);
        Assert.Equal(1, Only(report).Phases[0].Retries);
    }

    [Fact]
    public void The_copy_window_is_configurable_and_zero_turns_it_off()
    {
        var discover = new BootScenario().At(0).Discover(7).Frames[0];
        BootScenario Twice(double apart, TrackerOptions options) =>
            new BootScenario { Options = options }.At(0).Add(discover).At(apart).Add(discover).At(0.5).Offer(7);

        Assert.Equal(0, Only(Twice(0.004, new TrackerOptions()).Run()).Phases[0].Retries);

        var off = Twice(0.000002, new TrackerOptions { CopyWindow = TimeSpan.Zero }).Run();
        Assert.Equal(0, off.DuplicateFrames);
        Assert.Equal(1, Only(off).Phases[0].Retries);

        var wide = Twice(0.02, new TrackerOptions { CopyWindow = TimeSpan.FromMilliseconds(50) }).Run();
        Assert.Equal(1, wide.DuplicateFrames);
        Assert.Equal(0, Only(wide).Phases[0].Retries);
        Assert.Throws<ArgumentException>(() => new TrackerOptions { CopyWindow = TimeSpan.FromMilliseconds(-1) }.Validate());
    }

    [Fact]
    public void Long_datagrams_that_differ_only_in_their_payload_are_not_copies()
    {
        // TFTP DATA from a stack that sends IP id 0 and no UDP checksum: the block number tells the blocks apart.
        var tracker = new BootTracker(new TrackerOptions(), (_, _) => { });
        for (ushort block = 1; block <= 20; block++)
        {
            var data = FrameBuilder.Udp(BootScenario.Server, BootScenario.Device, BootScenario.ServerIp, BootScenario.DeviceIp, 40000, 2070,
                FrameBuilder.Tftp(3, block, new byte[1432]));
            data[18] = 0;
            data[19] = 0;
            tracker.Process(BootScenario.Origin.AddTicks(block * 10), data);
        }

        Assert.Equal(0, tracker.Counters.DuplicateFrames);
    }

    [Fact]
    public void A_forwarded_copy_is_not_a_copy_its_ttl_changed()
    {
        var scenario = new BootScenario().At(0).Discover(7).At(0.5).Offer(7);
        var frame = scenario.Frames[0];
        var routed = frame.ToArray();
        routed[14 + 8]--; // TTL, one hop later (the checksum would change too; the datagram differs either way)
        var tracker = new BootTracker(new TrackerOptions(), (_, _) => { });
        tracker.Process(BootScenario.Origin, frame);
        tracker.Process(BootScenario.Origin + Microsecond, routed);

        Assert.Equal(0, tracker.Counters.DuplicateFrames);
    }

    private static SessionReport Only(AnalysisReport report) => Assert.Single(Assert.Single(report.Devices).Sessions);
}
