namespace PvsFleet.Contracts;

/// <summary>How a boot session ended, or where it stands now.</summary>
public enum BootOutcome
{
    /// <summary>Still moving through the phases within their thresholds.</summary>
    InProgress = 0,

    /// <summary>BNIStack was reached: Windows' own network stack streams the vDisk.</summary>
    Booted = 1,

    /// <summary>A definitive error ended the boot (TFTP ERROR, DHCPNAK, PXE restarted after the bootstrap).</summary>
    Failed = 2,

    /// <summary>No progress for longer than the current phase's threshold.</summary>
    Stuck = 3,
}
