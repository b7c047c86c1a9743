using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>One phase of one boot session: when it started and ended, and how many retransmits it took.</summary>
public struct PhaseProgress
{
    public BootPhase Phase { get; internal set; }
    public bool Started { get; internal set; }
    public DateTime Start { get; internal set; }

    /// <summary>The ordinal of the frame that began the phase in the recording (1 = its first frame); 0 when unknown.</summary>
    public long StartFrame { get; internal set; }
    public DateTime? End { get; internal set; }
    public int Retries { get; internal set; }
}
