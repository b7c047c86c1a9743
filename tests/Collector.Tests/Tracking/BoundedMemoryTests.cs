using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Tracking;

public class BoundedMemoryTests
{
    [Fact]
    public void Streaming_packets_allocate_nothing_per_packet()
    {
        var tracker = new BootTracker(new TrackerOptions(), (_, _) => { });
        var t = BootScenario.Origin;
        foreach (var frame in BootFrames())
        {
            tracker.Process(t = t.AddMilliseconds(1), frame);
        }

        var read = Frame(s => s.Read(1));
        var burst = Frame(s => s.Burst(1));
        var retransmit = Frame(s => s.Read(1));
        for (var i = 0; i < 1_000; i++)
        {
            tracker.Process(t = t.AddTicks(10), i % 2 == 0 ? read : burst); // warm up the JIT
        }

        // Frames 6 ms apart, past the copy window: the repeated read reaches the retransmit path, not the copy check.
        // Every frame is then captured again a microsecond later, as on a bridge and its port: a copy.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var copiesBefore = tracker.Counters.DuplicateFrames;
        for (var i = 0; i < 200_000; i++)
        {
            var frame = (i % 3) switch { 0 => read, 1 => burst, _ => retransmit };
            tracker.Process(t = t.AddMilliseconds(6), frame);
            tracker.Process(t.AddTicks(10), frame);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1, tracker.SessionsInFlight);
        Assert.Equal(200_000, tracker.Counters.DuplicateFrames - copiesBefore);
        Assert.True(allocated < 10_000, $"{allocated} bytes allocated for 400,000 packets");
    }

    [Fact]
    public void Reading_a_capture_through_the_mapped_reader_allocates_nothing_per_frame()
    {
        using var reader = CaptureFile.Open(Repository.Sample("real-uefi-1.pcap"), CaptureReaderKind.Mapped);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var frames = 0;
        while (reader.TryRead(out _, out _))
        {
            frames++;
        }

        Assert.Equal(374, frames);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000);
    }

    [Fact]
    public void Booted_sessions_are_emitted_and_evicted_once_streaming_settles()
    {
        var ended = new List<BootSession>();
        var tracker = new BootTracker(new TrackerOptions(), (s, change) =>
        {
            if (change == SessionChangeKind.Ended)
            {
                ended.Add(s);
            }
        });
        var t = BootScenario.Origin;
        foreach (var frame in BootFrames())
        {
            tracker.Process(t = t.AddMilliseconds(1), frame);
        }

        tracker.Process(t = t.AddMilliseconds(1), Frame(s => s.WindowsRequest(5)));
        tracker.Process(t = t.AddMilliseconds(1), Frame(s => s.Read(2)));
        Assert.Equal(1, tracker.SessionsInFlight);

        tracker.Advance(t.AddSeconds(5));
        Assert.Equal(1, tracker.SessionsInFlight);
        tracker.Advance(t.AddSeconds(11));

        Assert.Equal(0, tracker.SessionsInFlight);
        var session = Assert.Single(ended);
        Assert.Equal(BootOutcome.Booted, session.Outcome);
        Assert.Equal(t, session.End);
    }

    [Fact]
    public void Stuck_sessions_are_given_up_after_the_eviction_time()
    {
        var tracker = new BootTracker(new TrackerOptions { EvictStuckAfter = TimeSpan.FromMinutes(2) }, (_, _) => { });
        tracker.Process(BootScenario.Origin, Frame(s => s.Discover(1)));

        tracker.Advance(BootScenario.Origin.AddSeconds(31));
        Assert.Equal(BootOutcome.Stuck, tracker.ActiveSessions.Single().Outcome);
        tracker.Advance(BootScenario.Origin.AddMinutes(3));
        Assert.Equal(0, tracker.SessionsInFlight);
    }

    /// <summary>DHCP, a 51-block bootstrap, a logon and one read: a session in SingleReadMode.</summary>
    private static IEnumerable<byte[]> BootFrames()
    {
        var scenario = new BootScenario();
        scenario.Dhcp(1, 0).Download(1).At(2).Logon(1).At(3).Read(0);
        return scenario.Frames;
    }

    private static byte[] Frame(Action<BootScenario> write)
    {
        var scenario = new BootScenario();
        write(scenario);
        return scenario.Frames.Single();
    }
}
