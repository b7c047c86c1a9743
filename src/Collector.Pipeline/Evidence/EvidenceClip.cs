using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Evidence;

/// <summary>Why a clip was written.</summary>
public enum ClipReason
{
    Failed,
    Stuck,
    BootLoop,

    /// <summary>Someone asked for it from the device page while the boot was in flight.</summary>
    Requested,
}

/// <summary>A pcapng clip of one boot session's frames, ready to be written to a file or uploaded.</summary>
public sealed record EvidenceClip(
    Guid SessionId, MacAddress Mac, ClipReason Reason, DateTime FirstFrameAt, DateTime LastFrameAt, int Frames, byte[] Pcapng);
