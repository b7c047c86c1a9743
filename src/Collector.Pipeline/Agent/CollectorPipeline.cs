using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Agent;

/// <summary>
/// The collector's inner loop, shared by live capture and replay: frames go into the boot tracker, the
/// tracker's session changes become ingest events in the durable spool. Frames from several capture threads and
/// the clock are serialised by one lock: the tracker is single-threaded by design (no per-packet sync inside).
/// </summary>
public sealed class CollectorPipeline
{
    private static readonly TimeSpan RetriesReportInterval = TimeSpan.FromSeconds(5);

    private readonly Lock gate = new();
    private readonly BootTracker tracker;
    private readonly SessionEvents events;
    private readonly EventSpool spool;
    private readonly SpoolWriter? writer;
    private readonly CollectorMetrics? metrics;
    private readonly EvidenceCollector? evidence;
    private DateTime nextRetriesReport = DateTime.MinValue;

    /// <param name="writer">
    /// When given, events reach the spool through it, off the calling (capture) thread; otherwise they are appended
    /// before <see cref="Process"/> returns.
    /// </param>
    /// <param name="evidence">When given, it keeps each boot's frames and clips the failed ones (see <see cref="EvidenceCollector"/>).</param>
    public CollectorPipeline(TrackerOptions options, EventSpool spool, CollectorMetrics? metrics = null, SpoolWriter? writer = null,
        EvidenceCollector? evidence = null)
    {
        this.spool = spool;
        this.writer = writer;
        this.metrics = metrics;
        this.evidence = evidence;
        events = new SessionEvents(Enqueue);
        Action<BootSession, SessionChangeKind> observe = events.OnSessionChanged;
        if (evidence is not null)
        {
            observe += evidence.OnSessionChanged;
        }

        tracker = new BootTracker(options, observe);
        metrics?.Observe(this);
        if (evidence is not null)
        {
            metrics?.Observe(evidence.Counters);
        }
    }

    public EvidenceCounters? EvidenceCounters => evidence?.Counters;

    /// <summary>Names a capture interface in evidence clips.</summary>
    public void NameInterface(byte id, string name)
    {
        lock (gate)
        {
            evidence?.NameInterface(id, name);
        }
    }

    /// <summary>Asks for a clip of a device's boot in flight (from the API's answer); any thread.</summary>
    public void RequestClip(MacAddress mac, Guid session) => evidence?.RequestClip(mac, session);

    public int SessionsInFlight { get { lock (gate) return tracker.SessionsInFlight; } }
    public TrackerCounters Counters => tracker.Counters;

    /// <param name="interfaceId">Which capture interface the frame came from (for evidence clips).</param>
    /// <param name="originalLength">The frame's length on the wire when the capture cut it short; 0 when whole.</param>
    public void Process(DateTime timestamp, ReadOnlySpan<byte> frame, LinkType linkType = LinkType.Ethernet, byte interfaceId = 0, int originalLength = 0)
    {
        lock (gate)
        {
            tracker.Process(timestamp, frame, linkType);
            evidence?.OnFrame(tracker, timestamp, frame, linkType, interfaceId, originalLength);
        }
    }

    /// <summary>Applies the clock: stuck sessions, settled boots, and a retries report every few seconds.</summary>
    public void Tick(DateTime now)
    {
        lock (gate)
        {
            tracker.Advance(now);
            evidence?.Flush();
            if (now >= nextRetriesReport)
            {
                events.ReportRetries(tracker.ActiveSessions, now);
                nextRetriesReport = now + RetriesReportInterval;
            }
        }
    }

    /// <summary>
    /// The recording is over (a replay reached its end): boots that finished are ended, the others are reported as
    /// they stand — the collector stopped watching, the devices did not stop booting.
    /// </summary>
    public void Finish(DateTime end)
    {
        lock (gate)
        {
            events.StopWatching();
            tracker.Finish(end);
            evidence?.Complete();
        }
    }

    public void Heartbeat(DateTime now, string source, CaptureStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        Enqueue(new CollectorHeartbeatEvent
        {
            Sequence = 0,
            Timestamp = now,
            Interface = source,
            Version = typeof(CollectorPipeline).Assembly.GetName().Version?.ToString(),
            PacketsReceived = statistics.Received,
            PacketsDropped = statistics.Dropped,
            InterfaceDropped = statistics.InterfaceDropped,
            ActiveSessions = SessionsInFlight,
            SpooledEvents = spool.Pending + (writer?.Queued ?? 0),
            RejectedEvents = spool.RejectedEvents,
            CorruptSpoolLines = spool.CorruptLines,
            Host = Environment.MachineName,
            DuplicateFrames = Counters.DuplicateFrames,
        });
    }

    private void Enqueue(IngestEvent e)
    {
        if (writer is not null)
        {
            writer.Enqueue(e);
        }
        else
        {
            spool.Append(e);
        }

        metrics?.EventQueued();
    }
}

/// <summary>Capture statistics as libpcap reports them, summed over interfaces.</summary>
public sealed record CaptureStatistics(long Received, long Dropped, long InterfaceDropped);
