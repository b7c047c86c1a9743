using System.Text.Json;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Shipping;

/// <summary>What the spool does when its size cap is reached. Either way the loss is counted and reported.</summary>
public enum SpoolOverflowPolicy
{
    /// <summary>Delete the oldest unsent segment: recent state matters more to an operator than old history.</summary>
    DropOldest,

    /// <summary>Refuse new events until the API catches up.</summary>
    DropNewest,
}

/// <summary>How far an appended event is pushed towards the disk before <see cref="EventSpool.Append"/> returns.</summary>
public enum SpoolDurability
{
    /// <summary>Written to the kernel per event: survives the collector being killed, not the machine losing power.</summary>
    Kernel,

    /// <summary>
    /// Written to the kernel per event and fsync'ed at most every <c>SpoolSyncInterval</c> (group commit): a power
    /// cut loses at most that interval's events. The default.
    /// </summary>
    GroupCommit,

    /// <summary>fsync'ed per event: nothing acknowledged by the spool is lost, at the cost of one disk flush per event.</summary>
    EveryEvent,
}

/// <summary>
/// The collector's durable queue: every event is written here (and handed to the kernel) before it is sent, and
/// leaves only once the API acknowledged it, so neither an API outage nor a killed collector loses events.
/// Events are JSON lines in segment files named by their first sequence number; <c>acked</c> holds the highest
/// acknowledged sequence. Sequence numbers continue across restarts from what the spool holds.
/// </summary>
public sealed class EventSpool : IDisposable
{
    private const string SegmentExtension = ".jsonl";
    private const string AckedFile = "acked";
    private const string InstanceFile = "instance";
    private const string RejectedFolder = "rejected";

    private readonly Lock gate = new();
    private readonly string directory;
    private readonly long maxBytes;
    private readonly long segmentBytes;
    private readonly SpoolOverflowPolicy policy;
    private readonly SpoolDurability durability;
    private readonly Timer? groupCommit;
    private readonly Action<string>? warn;
    private readonly HashSet<(long Segment, long Offset)> corrupt = [];
    private bool unsynced;

    /// <summary>First sequence of each segment on disk, oldest first.</summary>
    private readonly List<long> segments = [];
    private FileStream? writer;
    private long writerBytes;
    private long totalBytes;
    private long nextSequence;
    private long acknowledged;

    // Where the first unacknowledged event may be: an index into segments and a byte offset in that file.
    private int cursorSegment;
    private long cursorOffset;

    public EventSpool(
        string directory, long maxBytes = 512L << 20, long segmentBytes = 4L << 20, SpoolOverflowPolicy policy = SpoolOverflowPolicy.DropOldest,
        SpoolDurability durability = SpoolDurability.Kernel, TimeSpan? syncInterval = null, Action<string>? warn = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 2 * segmentBytes, nameof(maxBytes));
        this.directory = directory;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.policy = policy;
        this.durability = durability;
        this.warn = warn;
        var isNew = !Directory.Exists(directory) || !Directory.EnumerateFileSystemEntries(directory).Any();
        Directory.CreateDirectory(directory);
        Instance = RecoverInstance(isNew);
        Recover();
        if (durability == SpoolDurability.GroupCommit)
        {
            var interval = syncInterval ?? TimeSpan.FromMilliseconds(200);
            groupCommit = new Timer(_ => Sync(), null, interval, interval);
        }
    }

    /// <summary>
    /// This spool's collector instance: made with the spool and kept in it, so sequence numbers are unique per
    /// instance — a collector whose spool is wiped, or a second collector sharing the key, is another instance. A spool
    /// made before instances existed keeps the empty instance, under which its events were sent.
    /// </summary>
    public Guid Instance { get; }

    /// <summary>Lines of the spool that could not be read back since start: set aside in <c>rejected/</c>, skipped.</summary>
    public long CorruptLines { get { lock (gate) return corrupt.Count; } }

    /// <summary>Events lost to the size cap since start: never silent, reported in heartbeats, metrics and logs.</summary>
    public long DroppedEvents { get; private set; }

    public long Acknowledged { get { lock (gate) return acknowledged; } }
    public long Pending { get { lock (gate) return nextSequence - 1 - acknowledged; } }
    public long Bytes { get { lock (gate) return totalBytes; } }

    /// <summary>Gives the event the next sequence number and writes it through to the kernel before returning.</summary>
    public IngestEvent Append(IngestEvent pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        lock (gate)
        {
            if (totalBytes >= maxBytes && !MakeRoom())
            {
                DroppedEvents++;
                return pending;
            }

            var stamped = pending with { Sequence = nextSequence, QueuedAt = DateTimeOffset.UtcNow };
            var line = JsonSerializer.SerializeToUtf8Bytes(stamped, IngestJson.Options);
            if (writer is null || writerBytes >= segmentBytes)
            {
                StartSegment(nextSequence);
            }

            writer!.Write(line);
            writer.WriteByte((byte)'\n');
            writer.Flush(flushToDisk: durability == SpoolDurability.EveryEvent); // into the kernel: a SIGKILL from here on loses nothing
            unsynced = durability == SpoolDurability.GroupCommit;
            writerBytes += line.Length + 1;
            totalBytes += line.Length + 1;
            nextSequence++;
            return stamped;
        }
    }

    /// <summary>The group commit: what was written since the last one goes to the disk.</summary>
    public void Sync()
    {
        lock (gate)
        {
            if (!unsynced || writer is null)
            {
                return;
            }

            try
            {
                writer.Flush(flushToDisk: true);
                unsynced = false;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                warn?.Invoke($"the spool could not be synced to disk: {e.Message}");
            }
        }
    }

    /// <summary>The oldest unacknowledged events, at most <paramref name="max"/> of them and about <paramref name="maxBytes"/>.</summary>
    public IReadOnlyList<IngestEvent> Peek(int max, long maxBytes = 4L << 20)
    {
        lock (gate)
        {
            writer?.Flush();
            SkipAcknowledged();
            var events = new List<IngestEvent>();
            long bytes = 0;
            for (var (segment, offset) = (cursorSegment, cursorOffset); segment < segments.Count; segment++, offset = 0)
            {
                var at = offset;
                foreach (var line in Lines(ReadFrom(SegmentPath(segments[segment]), offset)))
                {
                    if (events.Count == max || bytes >= maxBytes)
                    {
                        return events;
                    }

                    if (TryParse(segments[segment], at, line) is { } e && e.Sequence > acknowledged)
                    {
                        events.Add(e);
                        bytes += line.Length;
                    }

                    at += line.Length + 1;
                }
            }

            return events;
        }
    }

    /// <summary>Moves the read cursor past acknowledged lines, so each line is parsed for that at most once.</summary>
    private void SkipAcknowledged()
    {
        while (cursorSegment < segments.Count)
        {
            var content = ReadFrom(SegmentPath(segments[cursorSegment]), cursorOffset);
            foreach (var line in Lines(content))
            {
                // A line that does not parse is set aside and passed like an acknowledged one.
                if (TryParse(segments[cursorSegment], cursorOffset, line) is { } e && e.Sequence > acknowledged)
                {
                    return;
                }

                cursorOffset += line.Length + 1;
            }

            if (cursorSegment == segments.Count - 1)
            {
                return;
            }

            cursorSegment++;
            cursorOffset = 0;
        }
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Lines(byte[] content)
    {
        for (var offset = 0; offset < content.Length;)
        {
            var end = Array.IndexOf(content, (byte)'\n', offset);
            if (end < 0)
            {
                yield break; // a line still being written
            }

            yield return content.AsMemory(offset, end - offset);
            offset = end + 1;
        }
    }

    /// <summary>
    /// The event of a spool line, or null when the line does not parse (a disk error, a hand edit, a bug): then it goes
    /// to <c>rejected/</c> with its place and the reason, once, is counted and logged, and delivery goes on without it.
    /// </summary>
    private IngestEvent? TryParse(long segment, long offset, ReadOnlyMemory<byte> line)
    {
        if (corrupt.Contains((segment, offset)))
        {
            return null;
        }

        string reason;
        try
        {
            if (JsonSerializer.Deserialize<IngestEvent>(line.Span, IngestJson.Options) is { } e)
            {
                return e;
            }

            reason = "the line holds no event";
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            reason = ex.Message;
        }

        corrupt.Add((segment, offset));
        var folder = Path.Combine(directory, RejectedFolder);
        Directory.CreateDirectory(folder);
        var name = Path.Combine(folder, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"corrupt-{segment:D20}-{offset}"));
        File.WriteAllBytes(name + ".line", line.ToArray());
        File.WriteAllText(name + ".reason.txt", string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"segment {Path.GetFileName(SegmentPath(segment))}, byte offset {offset}, {line.Length} bytes: {reason}\n"));
        warn?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"a spool line does not parse ({Path.GetFileName(SegmentPath(segment))} at byte {offset}: {reason}); it was set aside in {name}.line and delivery goes on"));
        return null;
    }

    private static byte[] ReadFrom(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Position = offset;
        var content = new byte[stream.Length - offset];
        stream.ReadExactly(content);
        return content;
    }

    /// <summary>Everything up to <paramref name="through"/> reached the API: forget it, durably.</summary>
    public void Acknowledge(long through)
    {
        lock (gate)
        {
            AcknowledgeLocked(through);
        }
    }

    /// <summary>
    /// Moves events the API refuses for good (a validation problem) out of the way into <c>rejected/</c>, with the
    /// API's answer, so one bad batch cannot block delivery and nothing is thrown away. Returns the file written.
    /// </summary>
    public string SetAside(IReadOnlyList<IngestEvent> batch, string reason, bool acknowledge = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (gate)
        {
            var folder = Path.Combine(directory, RejectedFolder);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, $"{batch[0].Sequence}-{batch[^1].Sequence}.jsonl");
            File.WriteAllLines(path, batch.Select(e => JsonSerializer.Serialize(e, IngestJson.Options)));
            File.WriteAllText(Path.ChangeExtension(path, ".problem.json"), reason);
            RejectedEvents += batch.Count;
            if (acknowledge)
            {
                AcknowledgeLocked(batch[^1].Sequence);
            }

            return path;
        }
    }

    /// <summary>Events the API refused and that were set aside on disk.</summary>
    public long RejectedEvents { get; private set; }

    private void AcknowledgeLocked(long through)
    {
        if (through <= acknowledged)
        {
            return;
        }

        acknowledged = Math.Min(through, nextSequence - 1);
        WriteCounter(AckedFile, acknowledged);
        while (segments.Count > 1 && segments[1] - 1 <= acknowledged)
        {
            DeleteSegment(0);
        }
    }

    private bool MakeRoom()
    {
        if (policy == SpoolOverflowPolicy.DropNewest || segments.Count < 2)
        {
            return false;
        }

        var lost = segments[1] - Math.Max(segments[0], acknowledged + 1);
        DroppedEvents += Math.Max(0, lost);
        acknowledged = Math.Max(acknowledged, segments[1] - 1);
        WriteCounter(AckedFile, acknowledged);
        DeleteSegment(0);
        return true;
    }

    private Guid RecoverInstance(bool isNew)
    {
        var path = Path.Combine(directory, InstanceFile);
        if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var kept))
        {
            return kept;
        }

        // A spool from before instances: its events went out as the empty instance, and so must the rest of them.
        var instance = isNew ? Guid.CreateVersion7() : Guid.Empty;
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, instance.ToString());
        File.Move(temporary, path, overwrite: true);
        return instance;
    }

    private void Recover()
    {
        acknowledged = ReadCounter(AckedFile) ?? 0;
        foreach (var path in Directory.EnumerateFiles(directory, "*" + SegmentExtension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), out var first))
            {
                segments.Add(first);
                totalBytes += new FileInfo(path).Length;
            }
        }

        segments.Sort();
        // The newest segment is never deleted, so its last line holds the last sequence handed out.
        nextSequence = acknowledged + 1;
        if (segments.Count > 0)
        {
            var last = SegmentPath(segments[^1]);
            var lastSequence = DropTornTail(last, warn);
            nextSequence = Math.Max(nextSequence, Math.Max(lastSequence, segments[^1] - 1) + 1);
        }
    }

    /// <summary>
    /// A kill in the middle of a write leaves a partial last line: cut it off (its event was never acknowledged,
    /// nor was its sequence handed out to anyone who could rely on it). Returns the last whole event's sequence.
    /// </summary>
    private static long DropTornTail(string path, Action<string>? warn)
    {
        var bytes = File.ReadAllBytes(path);
        var end = bytes.Length;
        if (end > 0 && bytes[end - 1] != (byte)'\n')
        {
            end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.SetLength(end);
        }

        // The last line that parses: a corrupt line is set aside later, when the shipper reaches it.
        while (end > 0)
        {
            var lastLineStart = end <= 1 ? 0 : Array.LastIndexOf(bytes, (byte)'\n', end - 2) + 1;
            try
            {
                var e = JsonSerializer.Deserialize<IngestEvent>(bytes.AsSpan(lastLineStart, end - lastLineStart - 1), IngestJson.Options);
                if (e is not null)
                {
                    return e.Sequence;
                }
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException)
            {
                warn?.Invoke($"the last lines of {Path.GetFileName(path)} do not parse: {ex.Message}");
            }

            end = lastLineStart;
        }

        return 0;
    }

    private void StartSegment(long first)
    {
        writer?.Dispose();
        Directory.CreateDirectory(directory); // wiped under a running collector: carry on in a new one
        var path = SegmentPath(first);
        writer = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        writerBytes = writer.Length;
        if (segments.Count == 0 || segments[^1] != first)
        {
            segments.Add(first);
        }
    }

    private void DeleteSegment(int index)
    {
        var path = SegmentPath(segments[index]);
        if (index == segments.Count - 1)
        {
            writer?.Dispose();
            writer = null;
        }

        totalBytes -= new FileInfo(path).Length;
        File.Delete(path);
        segments.RemoveAt(index);
        if (index < cursorSegment)
        {
            cursorSegment--;
        }
        else if (index == cursorSegment)
        {
            cursorOffset = 0;
        }
    }

    private string SegmentPath(long first) => Path.Combine(directory, first.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + SegmentExtension);

    private long? ReadCounter(string name)
    {
        var path = Path.Combine(directory, name);
        return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), out var value) ? value : null;
    }

    /// <summary>Write-then-rename, so a kill leaves either the old value or the new one.</summary>
    private void WriteCounter(string name, long value)
    {
        var path = Path.Combine(directory, name);
        var temporary = path + ".tmp";
        Directory.CreateDirectory(directory);
        File.WriteAllText(temporary, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(temporary, path, overwrite: true);
    }

    public void Dispose()
    {
        groupCommit?.Dispose();
        lock (gate)
        {
            if (unsynced)
            {
                writer?.Flush(flushToDisk: true);
            }

            writer?.Dispose();
            writer = null;
        }
    }
}
