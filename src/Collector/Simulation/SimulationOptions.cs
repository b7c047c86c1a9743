using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Simulation;

/// <summary>What boot storm to simulate and where to write it.</summary>
public sealed record SimulationOptions
{
    /// <summary>A frame seen on more than 6 interfaces at once is not a capture anyone takes.</summary>
    public const int MaxCopies = 8;

    /// <summary>Target devices that boot during the storm (each gets a unique MAC and address).</summary>
    public int Devices { get; init; } = 100;

    /// <summary>
    /// Device n gets the MAC 52:54:00 plus <c>MacOffset + n + 1</c>: storms of several simulated collectors take ranges
    /// of their own, so no device shows up on two collectors at once.
    /// </summary>
    public int MacOffset { get; init; }

    /// <summary>The .pcapng to write; the ground truth goes beside it as <c>name.truth.json</c>.</summary>
    public string OutputPath { get; init; } = "storm.pcapng";

    /// <summary>Same seed, same bytes: the storm is fully reproducible.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Wall-clock time of the earliest possible first DISCOVER (UTC).</summary>
    public DateTime Start { get; init; } = new(2026, 1, 5, 7, 0, 0, DateTimeKind.Utc);

    /// <summary>Share of devices that get one injected failure, spread evenly over the failure kinds.</summary>
    public double FailureShare { get; init; } = 0.2;

    /// <summary>Read I/Os per device while the bootstrap streams through UNDI (one at a time, standard MTU).</summary>
    public int SingleReadIos { get; init; } = 40;

    /// <summary>Read I/Os per device once Windows' BNIStack driver streams (concurrent, some jumbo).</summary>
    public int BniStackIos { get; init; } = 120;

    /// <summary>Devices power on at uniformly spread moments within this window.</summary>
    public double StaggerSeconds { get; init; } = 60;

    /// <summary>Share of devices on a routed subnet whose DHCP goes through a relay (giaddr).</summary>
    public double RelayedShare { get; init; } = 0.1;

    /// <summary>Share of devices whose TFTP server answers from port 69 itself instead of a new TID port.</summary>
    public double Port69TftpShare { get; init; } = 0.1;

    /// <summary>Share of devices the login server keeps on its own port (6910) for streaming instead of handing out another.</summary>
    public double LoginPortStreamingShare { get; init; } = 0.25;

    /// <summary>
    /// Share of healthy devices already booting when the recording starts: their frames before a join point (the bootstrap's
    /// RRQ, the logon, or a read while streaming) are not written, and the truth is a session joined mid-boot.
    /// </summary>
    public double JoinedShare { get; init; }

    /// <summary>
    /// The tracker configuration the truth is written for: its server ports and stuck thresholds decide what the
    /// storm looks like on the wire and what the tracker must conclude from it.
    /// </summary>
    public TrackerOptions Tracker { get; init; } = new();

    /// <summary>
    /// Each frame is written this many times more, microseconds apart: a capture on several interfaces at once
    /// (bridge and ports, bond and slaves, <c>-i any</c>). The tracker must count them as copies, never as retries.
    /// </summary>
    public int Copies { get; init; }

    /// <summary>Ethernet, or Linux cooked v2 (SLL2) as <c>tcpdump -i any</c> writes it.</summary>
    public LinkType LinkType { get; init; } = LinkType.Ethernet;

    /// <summary>The bootstrap (UNDI) talks from this target port (Citrix: 6901).</summary>
    public ushort BootstrapTargetPort { get; init; } = 6901;

    /// <summary>Windows' BNIStack driver uses these target ports, several I/Os at once (Citrix: 6902, 6905).</summary>
    public IReadOnlyList<ushort> BniStackTargetPorts { get; init; } = [6902, 6905];
}
