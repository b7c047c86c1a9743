using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Tests.Simulation;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Collector.Simulation;

namespace PvsFleet.Collector.Tests.Evidence;

/// <summary>The evidence store's memory is bounded per device and per collector, and what it lets go is counted.</summary>
public sealed class EvidenceBoundsTests(SimulationOutput output) : IClassFixture<SimulationOutput>
{
    private static readonly DateTime T0 = new(2026, 1, 5, 7, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_full_budget_lets_the_oldest_streaming_frames_go_first_then_the_oldest_control_frames_and_counts()
    {
        var counters = new EvidenceCounters();
        var store = new FrameStore(64 << 10, counters); // 512 chunks of 128 bytes
        var streaming = new FrameStore.DeviceFrames();
        var control = new FrameStore.DeviceFrames();
        var frame = new byte[256]; // two chunks each

        for (var i = 1; i <= 256 + 10; i++)
        {
            store.Append(streaming, EvidenceKind.Stream, int.MaxValue, int.MaxValue, T0.AddMilliseconds(i), i, frame, 1506, LinkType.Ethernet, 0);
        }

        Assert.Equal(10, counters.FramesEvictedForBudget);
        Assert.Equal(256, streaming.TotalFrames);
        Assert.Equal(64 << 10, counters.BytesInUse);
        var ordinals = new List<long>();
        store.ForEach(streaming, f => ordinals.Add(f.Ordinal));
        Assert.Equal(Enumerable.Range(11, 256).Select(i => (long)i), ordinals); // the 10 oldest went

        // Control frames take the place of streaming frames; once none is left, the oldest control frames make room:
        // the newest frames are how a boot ends.
        for (var i = 0; i < 300; i++)
        {
            store.Append(control, EvidenceKind.Control, 0, int.MaxValue, T0.AddSeconds(1).AddMilliseconds(i), 1000 + i, frame, frame.Length, LinkType.Ethernet, 0);
        }

        Assert.Equal(0, streaming.TotalFrames);
        Assert.Equal(256, control.TotalFrames);
        Assert.Equal(0, counters.FramesDropped);
        Assert.Equal(10 + 256 + 44, counters.FramesEvictedForBudget);
        Assert.True(counters.PeakBytesInUse <= store.CapacityBytes);
        ordinals.Clear();
        store.ForEach(control, f => ordinals.Add(f.Ordinal));
        Assert.Equal(Enumerable.Range(1044, 256).Select(i => (long)i), ordinals);

        // A frame larger than the whole budget cannot be kept: dropped, counted.
        store.Append(control, EvidenceKind.Control, 0, int.MaxValue, T0.AddSeconds(3), 9000, new byte[(64 << 10) + 1], 70_000, LinkType.Ethernet, 0);
        Assert.Equal(1, counters.FramesDropped);

        store.Release(control);
        Assert.Equal(0, counters.BytesInUse);
        store.Append(streaming, EvidenceKind.Stream, 4, int.MaxValue, T0.AddSeconds(2), 5000, frame, frame.Length, LinkType.Ethernet, 0);
        Assert.Equal(1, streaming.TotalFrames);
    }

    [Fact]
    public void A_device_keeps_its_last_n_streaming_frames_within_its_own_bound()
    {
        var counters = new EvidenceCounters();
        var store = new FrameStore(1 << 20, counters);
        var device = new FrameStore.DeviceFrames();
        var frame = new byte[200];

        for (var i = 1; i <= 100; i++)
        {
            store.Append(device, EvidenceKind.Stream, 8, 4096, T0.AddMilliseconds(i), i, frame, frame.Length, LinkType.Ethernet, 0);
        }

        Assert.Equal(8, device.Count(EvidenceKind.Stream));
        for (var i = 0; i < 40; i++)
        {
            store.Append(device, EvidenceKind.Control, 0, 4096, T0.AddSeconds(1).AddMilliseconds(i), 200 + i, frame, frame.Length, LinkType.Ethernet, 0);
        }

        // 4 KB is 32 chunks, 16 frames of two: the streaming frames went first, then the oldest control frames.
        Assert.Equal(0, device.Count(EvidenceKind.Stream));
        Assert.Equal(16, device.Count(EvidenceKind.Control));
        Assert.Equal(8 + 24, counters.FramesEvictedForDevice);
        Assert.Equal(4096, counters.BytesInUse);
        var ordinals = new List<long>();
        store.ForEach(device, f => ordinals.Add(f.Ordinal));
        Assert.Equal(Enumerable.Range(224, 16).Select(i => (long)i), ordinals);
    }

    [Fact]
    public void A_storm_under_a_small_budget_stays_within_it_and_accounts_for_every_frame()
    {
        var storm = BootStormSimulator.Run(output.SmallStorm("evidence-budget", devices: 80, seed: 21));
        var options = new EvidenceOptions { MaxBytes = 64 << 10, MaxBytesPerDevice = 8 << 10, StreamFrames = 1000, TransferFrames = 1000 };

        var run = Recording.Run(storm.CapturePath, options);

        var counters = run.Evidence.Counters;
        Assert.True(counters.FramesEvictedForBudget > 0, "the budget never filled");
        Assert.True(counters.FramesEvictedForDevice > 0, "no device reached its bound");
        Assert.InRange(counters.PeakBytesInUse, 1, 64 << 10);
        Assert.Equal(run.Attributed.Values.Sum(f => f.Count), counters.FramesKept + counters.FramesDropped);
        Assert.Equal(0, counters.BytesInUse); // every session ended, every frame let go
        Assert.Equal(0, run.Evidence.Devices);
        Assert.NotEmpty(run.Clips);
    }

    [Fact]
    public void Keeping_evidence_allocates_nothing_per_streaming_packet()
    {
        var evidence = new EvidenceCollector(new EvidenceOptions(), _ => { });
        var tracker = new BootTracker(new TrackerOptions(), evidence.OnSessionChanged);
        var t = BootScenario.Origin;
        foreach (var f in BoundedMemoryFrames.Boot())
        {
            tracker.Process(t = t.AddMilliseconds(1), f);
            evidence.OnFrame(tracker, t, f, LinkType.Ethernet);
        }

        var read = BoundedMemoryFrames.Read();
        var burst = BoundedMemoryFrames.Burst();
        for (var i = 0; i < 2_000; i++)
        {
            var f = i % 2 == 0 ? read : burst;
            tracker.Process(t = t.AddMilliseconds(6), f); // warm up the JIT and fill the device's ring
            evidence.OnFrame(tracker, t, f, LinkType.Ethernet);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200_000; i++)
        {
            var f = i % 2 == 0 ? read : burst;
            tracker.Process(t = t.AddMilliseconds(6), f);
            evidence.OnFrame(tracker, t, f, LinkType.Ethernet);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1, evidence.Devices);
        Assert.True(evidence.Counters.FramesKept > 200_000);
        Assert.True(allocated < 10_000, $"{allocated} bytes allocated for 200,000 packets");
    }
}

/// <summary>A session in SingleReadMode (DHCP, a 51-block bootstrap, a logon, one read) and its streaming frames.</summary>
internal static class BoundedMemoryFrames
{
    public static IEnumerable<byte[]> Boot()
    {
        var scenario = new BootScenario();
        scenario.Dhcp(1, 0).Download(1).At(2).Logon(1).At(3).Read(0);
        return scenario.Frames;
    }

    public static byte[] Read() => One(s => s.Read(1));

    public static byte[] Burst() => One(s => s.Burst(1));

    private static byte[] One(Action<BootScenario> write)
    {
        var scenario = new BootScenario();
        write(scenario);
        return scenario.Frames.Single();
    }
}

/// <summary>A clip asked for while the boot is in flight (from the device page, through the API) is written without ending it.</summary>
public sealed class EvidenceRequestTests
{
    [Fact]
    public void A_requested_clip_of_a_boot_in_flight_holds_its_frames_so_far_and_the_boot_goes_on()
    {
        var clips = new List<EvidenceClip>();
        var evidence = new EvidenceCollector(new EvidenceOptions(), clips.Add);
        var tracker = new BootTracker(new TrackerOptions(), evidence.OnSessionChanged);
        var t = BootScenario.Origin;
        var frames = BoundedMemoryFrames.Boot().ToList();
        foreach (var f in frames)
        {
            tracker.Process(t = t.AddMilliseconds(1), f);
            evidence.OnFrame(tracker, t, f, LinkType.Ethernet);
        }

        var session = Assert.Single(tracker.ActiveSessions);
        evidence.RequestClip(MacAddress.Parse("52:54:00:00:00:99"), null);  // no such device
        evidence.RequestClip(session.Mac, session.Id);
        evidence.Flush();

        var clip = Assert.Single(clips);
        Assert.Equal(ClipReason.Requested, clip.Reason);
        Assert.Equal(session.Id, clip.SessionId);
        Assert.Equal(1, evidence.Counters.RequestsUnmatched);
        Assert.True(clip.Frames > 10 && clip.Frames <= frames.Count, $"{clip.Frames} of {frames.Count} frames");
        Assert.Equal(1, evidence.Devices); // still in flight: its frames are kept for the end
        Assert.Equal(BootScenario.Origin.AddMilliseconds(1), clip.FirstFrameAt);
    }
}
