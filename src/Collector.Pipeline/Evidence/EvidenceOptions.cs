namespace PvsFleet.Collector.Evidence;

/// <summary>
/// Bounds of the evidence kept for boots in flight. A boot's control frames take 2–3 KB and its last streaming frames
/// ~8 KB: a few thousand boots in flight keep everything; in a storm of 10,000 the budget lets the oldest streaming
/// frames go and keeps the control frames (bench/evidence-memory.sh: collector RSS within 200 MB).
/// </summary>
public sealed class EvidenceOptions
{
    /// <summary>Frame bytes kept for all devices together; when full, the oldest streaming frames go first.</summary>
    public long MaxBytes { get; init; } = 32L << 20;

    /// <summary>Frame bytes kept for one device; past it the device's own oldest frames go (streaming first).</summary>
    public int MaxBytesPerDevice { get; init; } = 128 << 10;

    /// <summary>How many of a device's newest vDisk streaming frames are kept (the last N before the failure).</summary>
    public int StreamFrames { get; init; } = 32;

    /// <summary>
    /// How many of a TFTP transfer's newest DATA/ACK frames are kept beside its first block and its ACK: the last block
    /// and its acknowledgement, or the block the server stopped at and the client's re-sent ACKs.
    /// </summary>
    public int TransferFrames { get; init; } = 6;

    /// <summary>Bulk frames (streaming, TFTP data) are cut to this many bytes; the clip records their original length.</summary>
    public int SnapLength { get; init; } = 256;

    /// <summary>Control frames (DHCP, TFTP control, logon) longer than this are cut too (a jumbo frame is not needed whole).</summary>
    public int ControlSnapLength { get; init; } = 2048;

    public void Validate()
    {
        if (MaxBytes < 64 << 10 || MaxBytesPerDevice < 4096 || MaxBytesPerDevice > MaxBytes)
        {
            throw new ArgumentException($"evidence: the budget ({MaxBytes} bytes) must be at least 64 KB and at least the per-device bound ({MaxBytesPerDevice} bytes, at least 4 KB)");
        }

        if (StreamFrames < 0 || TransferFrames < 0 || SnapLength < 64 || ControlSnapLength < SnapLength)
        {
            throw new ArgumentException("evidence: frame counts must not be negative, the snap length at least 64 bytes and the control snap length at least the snap length");
        }
    }
}
