using System.Text;
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
    /// Bootstrap file names (compared without case, after the last '/' or '\'): a TFTP read of one of them from a device
    /// the collector has not seen DHCP for is a boot joined mid-way. Other TFTP transfers (switch configs, WRQs) are not boots.
    /// </summary>
    public IReadOnlyList<string> BootstrapFileNames { get; init; } = ["ARDBP32.bin", "pvsnbpx64.efi", "TSBBDM.BIN", "TSBBDM.efi"];

    /// <summary>The BIOS (PXE/UNDI) and UEFI bootstraps: a client asking for the other firmware's file cannot start it.</summary>
    public IReadOnlyList<string> BiosBootstrapFileNames { get; init; } = ["ARDBP32.bin", "TSBBDM.BIN"];
    public IReadOnlyList<string> UefiBootstrapFileNames { get; init; } = ["pvsnbpx64.efi", "TSBBDM.efi"];

    /// <summary>Whether a boot first seen past DHCP (bootstrap TFTP or PVS traffic) becomes a session, marked as joined.</summary>
    public bool JoinMidBoot { get; init; } = true;

    /// <summary>
    /// A server datagram on a stream port with at least this much payload is vDisk data: the first one answers the
    /// first read, which starts SingleReadMode. Logon replies are a few hundred bytes; read data is up to 1464 at the default MTU.
    /// </summary>
    public int ReadDataMinPayload { get; init; } = 1024;

    /// <summary>At most this many IP → MAC pairs learned from ARP and DHCP are kept for joins; the table starts over when full.</summary>
    public int MaxLearnedAddresses { get; init; } = 65_536;

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

    /// <summary>True when <paramref name="path"/> names one of <see cref="BootstrapFileNames"/>.</summary>
    public bool IsBootstrapFile(ReadOnlySpan<byte> path) => Names(path, BootstrapFileNames);

    /// <summary>True when <paramref name="path"/> names a bootstrap of the other firmware than <paramref name="firmware"/>.</summary>
    public bool IsBootstrapOfOtherFirmware(ReadOnlySpan<byte> path, Firmware firmware) => firmware switch
    {
        Firmware.Bios => Names(path, UefiBootstrapFileNames),
        Firmware.Uefi => Names(path, BiosBootstrapFileNames),
        _ => false,
    };

    private static bool Names(ReadOnlySpan<byte> path, IReadOnlyList<string> names)
    {
        var slash = path.LastIndexOfAny((byte)'/', (byte)'\\');
        var name = slash >= 0 ? path[(slash + 1)..] : path;
        foreach (var bootstrap in names)
        {
            if (name.Length == bootstrap.Length && Ascii.EqualsIgnoreCase(name, bootstrap))
            {
                return true;
            }
        }

        return false;
    }

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

        if (ReadDataMinPayload < 1 || MaxLearnedAddresses < 1)
        {
            throw new ArgumentException("The read-data size and the learned-address limit must be positive.");
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
