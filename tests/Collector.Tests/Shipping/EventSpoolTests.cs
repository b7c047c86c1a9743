using PvsFleet.Collector.Shipping;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Tests.Shipping;

public sealed class EventSpoolTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"pvsfleet-spool-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static CollectorHeartbeatEvent Event(int packets) =>
        new() { Sequence = 0, Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(packets), PacketsReceived = packets };

    private EventSpool Open(long maxBytes = 1L << 20, long segmentBytes = 4096, SpoolOverflowPolicy policy = SpoolOverflowPolicy.DropOldest) =>
        new(directory, maxBytes, segmentBytes, policy);

    [Fact]
    public void Events_get_increasing_sequences_and_stay_until_acknowledged()
    {
        using var spool = Open();
        var stamped = Enumerable.Range(1, 5).Select(i => spool.Append(Event(i))).ToList();

        Assert.Equal([1L, 2, 3, 4, 5], stamped.Select(e => e.Sequence));
        Assert.Equal([1L, 2, 3], spool.Peek(3).Select(e => e.Sequence));
        Assert.Equal([1L, 2, 3], spool.Peek(3).Select(e => e.Sequence)); // peeking does not consume

        spool.Acknowledge(3);

        Assert.Equal([4L, 5], spool.Peek(10).Select(e => e.Sequence));
        Assert.Equal(4, ((CollectorHeartbeatEvent)spool.Peek(1)[0]).PacketsReceived);
        Assert.Equal(2, spool.Pending);
    }

    [Fact]
    public void A_restart_resumes_with_the_unacknowledged_events_and_the_next_sequence()
    {
        using (var first = Open())
        {
            for (var i = 1; i <= 300; i++)
            {
                first.Append(Event(i));
            }

            first.Acknowledge(120);
        }

        using var second = Open();
        Assert.Equal(180, second.Pending);
        Assert.Equal(121, second.Peek(1)[0].Sequence);
        Assert.Equal(301, second.Append(Event(301)).Sequence);
        Assert.Equal(Enumerable.Range(121, 181).Select(i => (long)i), second.Peek(1000).Select(e => e.Sequence));
    }

    [Fact]
    public void A_line_torn_by_a_kill_is_cut_off_and_its_sequence_reused()
    {
        using (var first = Open())
        {
            first.Append(Event(1));
            first.Append(Event(2));
        }

        var segment = Directory.GetFiles(directory, "*.jsonl").Single();
        File.AppendAllText(segment, "{\"type\":\"heartbeat\",\"sequence\":3,\"time");

        using var second = Open();
        Assert.Equal([1L, 2], second.Peek(10).Select(e => e.Sequence));
        Assert.Equal(3, second.Append(Event(3)).Sequence);
        Assert.Equal([1L, 2, 3], second.Peek(10).Select(e => e.Sequence));
    }

    [Fact]
    public void Acknowledged_segments_are_deleted_from_disk()
    {
        using var spool = Open();
        for (var i = 1; i <= 500; i++)
        {
            spool.Append(Event(i));
        }

        var before = Directory.GetFiles(directory, "*.jsonl").Length;
        spool.Acknowledge(499);

        Assert.True(before > 3);
        Assert.Single(Directory.GetFiles(directory, "*.jsonl"));
        Assert.Equal([500L], spool.Peek(10).Select(e => e.Sequence));
    }

    [Fact]
    public void Overflow_drops_the_oldest_segment_and_counts_every_lost_event()
    {
        using var spool = Open(maxBytes: 16_384, segmentBytes: 4096);
        for (var i = 1; i <= 1000; i++)
        {
            spool.Append(Event(i));
        }

        Assert.True(spool.DroppedEvents > 0);
        Assert.True(spool.Bytes <= 16_384 + 4096);
        var kept = spool.Peek(1000).Select(e => e.Sequence).ToList();
        Assert.Equal(1000, kept[^1]);
        Assert.Equal(1000, kept.Count + spool.DroppedEvents); // every event is either kept or counted as lost
        Assert.Equal(kept, Enumerable.Range((int)kept[0], kept.Count).Select(i => (long)i));
    }

    [Fact]
    public void Drop_newest_policy_refuses_new_events_and_counts_them()
    {
        using var spool = Open(maxBytes: 8192, segmentBytes: 4096, policy: SpoolOverflowPolicy.DropNewest);
        for (var i = 1; i <= 1000; i++)
        {
            spool.Append(Event(i));
        }

        var kept = spool.Peek(1000).Select(e => e.Sequence).ToList();
        Assert.Equal(1, kept[0]);
        Assert.Equal(1000, kept.Count + spool.DroppedEvents);
    }

    [Fact]
    public void Rejected_batches_are_set_aside_with_the_reason_and_acknowledged()
    {
        using var spool = Open();
        for (var i = 1; i <= 4; i++)
        {
            spool.Append(Event(i));
        }

        var path = spool.SetAside(spool.Peek(2), "{\"title\":\"bad\"}");

        Assert.Equal(2, File.ReadAllLines(path).Length);
        Assert.Contains("bad", File.ReadAllText(Path.ChangeExtension(path, ".problem.json")), StringComparison.Ordinal);
        Assert.Equal([3L, 4], spool.Peek(10).Select(e => e.Sequence));
        Assert.Equal(2, spool.RejectedEvents);
    }
}
