using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Simulation;

/// <summary>What boot storm to simulate and where to write it.</summary>
public sealed record SimulationOptions
{
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

    /// <summary>
    /// The tracker configuration the truth is written for: its server ports and stuck thresholds decide what the
    /// storm looks like on the wire and what the tracker must conclude from it.
    /// </summary>
    public TrackerOptions Tracker { get; init; } = new();

    /// <summary>The bootstrap (UNDI) talks from this target port (Citrix: 6901).</summary>
    public ushort BootstrapTargetPort { get; init; } = 6901;

    /// <summary>Windows' BNIStack driver uses these target ports, several I/Os at once (Citrix: 6902, 6905).</summary>
    public IReadOnlyList<ushort> BniStackTargetPorts { get; init; } = [6902, 6905];
}
