using System.Diagnostics.Metrics;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Shipping;

namespace PvsFleet.Collector.Agent;

/// <summary>
/// The collector's OpenTelemetry meter: what an SRE watches to trust it — packets, drops, decode errors, sessions in
/// flight, the delivery pipeline (events queued, sent, spooled bytes, lost to the spool cap), and the evidence clips
/// (written, uploaded, lost, and the frame memory they hold against the collector's budget).
/// </summary>
public sealed class CollectorMetrics : IDisposable
{
    public const string MeterName = "PvsFleet.Collector";

    private readonly Meter meter = new(MeterName);
    private readonly Counter<long> eventsQueued;
    private readonly Counter<long> eventsSent;
    private readonly Counter<long> sendFailures;
    private readonly Counter<long> shipperRestarts;

    public CollectorMetrics()
    {
        eventsQueued = meter.CreateCounter<long>("pvsfleet.collector.events.queued", "{event}", "Events written to the spool");
        eventsSent = meter.CreateCounter<long>("pvsfleet.collector.events.sent", "{event}", "Events acknowledged by the API");
        sendFailures = meter.CreateCounter<long>("pvsfleet.collector.send.failures", "{attempt}", "Batches the API did not acknowledge");
        shipperRestarts = meter.CreateCounter<long>("pvsfleet.collector.shipper.restarts", "{restart}", "Failures of the shipper loop itself, each followed by a restart");
    }

    public void Observe(CollectorPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        meter.CreateObservableCounter("pvsfleet.collector.packets", () => pipeline.Counters.Packets, "{packet}", "Frames decoded");
        meter.CreateObservableCounter("pvsfleet.collector.decode_errors", () => pipeline.Counters.Malformed, "{packet}", "Frames whose fields did not hold");
        meter.CreateObservableCounter("pvsfleet.collector.duplicate_frames", () => pipeline.Counters.DuplicateFrames, "{packet}", "Copies of a frame captured on several interfaces, not counted as retries");
        meter.CreateObservableGauge("pvsfleet.collector.sessions.in_flight", () => pipeline.SessionsInFlight, "{session}", "Boots being followed");
    }

    public void Observe(EventSpool spool)
    {
        ArgumentNullException.ThrowIfNull(spool);
        meter.CreateObservableGauge("pvsfleet.collector.spool.bytes", () => spool.Bytes, "By", "Bytes in the on-disk spool");
        meter.CreateObservableGauge("pvsfleet.collector.spool.pending", () => spool.Pending, "{event}", "Events waiting for the API");
        meter.CreateObservableCounter("pvsfleet.collector.spool.dropped", () => spool.DroppedEvents, "{event}", "Events lost to the spool's size cap");
        meter.CreateObservableCounter("pvsfleet.collector.events.rejected", () => spool.RejectedEvents, "{event}", "Events the API refused, set aside in spool/rejected");
        meter.CreateObservableCounter("pvsfleet.collector.spool.corrupt_lines", () => spool.CorruptLines, "{line}", "Spool lines that did not parse, set aside in spool/rejected");
    }

    public void Observe(SpoolWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        meter.CreateObservableGauge("pvsfleet.collector.spool.queued", () => writer.Queued, "{event}", "Events between capture and the spool");
        meter.CreateObservableCounter("pvsfleet.collector.spool.stalls", () => writer.Stalls, "{wait}", "Times capture waited for a full spool queue");
    }

    /// <summary>The evidence store: whether its budget is big enough for the boots in flight shows in the frames let go.</summary>
    public void Observe(EvidenceCounters evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        meter.CreateObservableCounter("pvsfleet.collector.evidence.clips", () => evidence.ClipsWritten, "{clip}", "Clips written of failed, stuck or looping boots (and of those asked for)");
        meter.CreateObservableGauge("pvsfleet.collector.evidence.bytes", () => evidence.BytesInUse, "By", "Frame bytes held for the boots in flight");
        meter.CreateObservableGauge("pvsfleet.collector.evidence.bytes.peak", () => evidence.PeakBytesInUse, "By", "The most frame bytes held at once since the start");
        meter.CreateObservableCounter("pvsfleet.collector.evidence.frames.kept", () => evidence.FramesKept, "{frame}", "Frames copied into the evidence store");
        meter.CreateObservableCounter("pvsfleet.collector.evidence.frames.evicted", () => evidence.FramesEvictedForBudget, "{frame}", "Data frames let go because the collector-wide budget was full");
        meter.CreateObservableCounter("pvsfleet.collector.evidence.frames.evicted_per_device", () => evidence.FramesEvictedForDevice, "{frame}", "Frames let go because their device reached its own bound");
        meter.CreateObservableCounter("pvsfleet.collector.evidence.frames.dropped", () => evidence.FramesDropped, "{frame}", "Frames not kept: the budget was full of control frames");
    }

    public void Observe(EvidenceUploader uploader)
    {
        ArgumentNullException.ThrowIfNull(uploader);
        meter.CreateObservableCounter("pvsfleet.collector.evidence.uploaded", () => uploader.Sent, "{clip}", "Clips the API stored");
        meter.CreateObservableCounter("pvsfleet.collector.evidence.upload_failures", () => uploader.Failed, "{clip}", "Clips the API refused or that were given up on after the retries");
        meter.CreateObservableCounter("pvsfleet.collector.evidence.upload_dropped", () => uploader.Dropped, "{clip}", "Clips let go because the upload queue was full");
    }

    public void Observe(Func<CaptureStatistics> capture)
    {
        meter.CreateObservableCounter("pvsfleet.collector.capture.received", () => capture().Received, "{packet}", "Packets libpcap received");
        meter.CreateObservableCounter("pvsfleet.collector.capture.dropped", () => capture().Dropped, "{packet}", "Packets the kernel dropped");
        meter.CreateObservableCounter("pvsfleet.collector.capture.interface_dropped", () => capture().InterfaceDropped, "{packet}", "Packets the interface dropped");
    }

    public void EventQueued() => eventsQueued.Add(1);

    public void EventsSent(int count) => eventsSent.Add(count);

    public void SendFailed() => sendFailures.Add(1);

    public void ShipperRestarted() => shipperRestarts.Add(1);

    public void Dispose() => meter.Dispose();
}
