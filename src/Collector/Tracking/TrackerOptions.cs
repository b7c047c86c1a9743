using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>Ports, thresholds and markers of the boot tracker: configuration with DESIGN.md's defaults.</summary>
public sealed class TrackerOptions
{
    public PvsPorts Ports { get; init; } = new();

    /// <summary>No progress for longer than this in a phase makes a session Stuck (BNIStack is never stuck: it has booted).</summary>
    public TimeSpan IpAcquisitionThreshold { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan BootstrapDownloadThreshold { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan PvsLogonThreshold { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan SingleReadModeThreshold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A booted session ends once the vDisk stream has been quiet this long: the logon window is reached.</summary>
    public TimeSpan BniStackSettleTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A stuck session is given up (emitted and forgotten) after this long without any packet, to bound memory.</summary>
    public TimeSpan EvictStuckAfter { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Vendor-class prefix of the firmware's PXE client; any other DHCP after logon is the OS (BNIStack).</summary>
    public string PxeVendorClassPrefix { get; init; } = "PXEClient";

    /// <summary>This many retransmits within one phase raise a RetransmitStorm issue.</summary>
    public int RetransmitStormThreshold { get; init; } = 20;

    /// <summary>
    /// A byte-identical IP datagram seen again within this time is a copy (one frame captured on several
    /// interfaces), not a retransmit: counted as a duplicate frame and otherwise ignored. Zero turns this off.
    /// </summary>
    public TimeSpan CopyWindow { get; init; } = TimeSpan.FromMilliseconds(5);

    public TimeSpan StuckThreshold(BootPhase phase) => phase switch
    {
        BootPhase.IpAcquisition => IpAcquisitionThreshold,
        BootPhase.BootstrapDownload => BootstrapDownloadThreshold,
        BootPhase.PvsLogon => PvsLogonThreshold,
        BootPhase.SingleReadMode => SingleReadModeThreshold,
        _ => TimeSpan.MaxValue,
    };

    public void Validate()
    {
        Ports.Validate();
        foreach (var phase in new[] { BootPhase.IpAcquisition, BootPhase.BootstrapDownload, BootPhase.PvsLogon, BootPhase.SingleReadMode })
        {
            if (StuckThreshold(phase) <= TimeSpan.Zero)
            {
                throw new ArgumentException($"The stuck threshold for {phase} must be positive.");
            }
        }

        if (BniStackSettleTime <= TimeSpan.Zero || EvictStuckAfter <= TimeSpan.Zero || RetransmitStormThreshold < 1)
        {
            throw new ArgumentException("Settle time, eviction time and the retransmit-storm threshold must be positive.");
        }

        if (CopyWindow < TimeSpan.Zero || CopyWindow > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException("The copy window must be between 0 (off) and 1 second.");
        }
    }
}
