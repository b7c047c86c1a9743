namespace PvsFleet.Collector.Evidence;

/// <summary>What the evidence collector kept and what it had to let go, for metrics and the benchmark.</summary>
public sealed class EvidenceCounters
{
    /// <summary>Frames copied into the store.</summary>
    public long FramesKept { get; internal set; }

    /// <summary>Streaming or TFTP data frames let go because the collector-wide budget was full (oldest first).</summary>
    public long FramesEvictedForBudget { get; internal set; }

    /// <summary>Frames let go because their device reached its own bound (its oldest, streaming first).</summary>
    public long FramesEvictedForDevice { get; internal set; }

    /// <summary>Frames not kept at all: the budget was full of control frames no one can give up.</summary>
    public long FramesDropped { get; internal set; }

    public long ClipsWritten { get; internal set; }

    /// <summary>Clips asked for a device with no boot in flight (nothing to send).</summary>
    public long RequestsUnmatched { get; internal set; }

    public long BytesInUse { get; internal set; }
    public long PeakBytesInUse { get; internal set; }
}
