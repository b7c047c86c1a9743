namespace PvsFleet.Collector.Simulation;

/// <summary>What boot storm to simulate and where to write it.</summary>
public sealed record SimulationOptions
{
    /// <summary>Target devices that boot during the storm (each gets a unique MAC and address).</summary>
    public int Devices { get; init; } = 100;

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

    /// <summary>The silences after which the tracker calls a session stuck; the capture runs long enough past them.</summary>
    public StuckThresholds Thresholds { get; init; } = new();

    /// <summary>PVS server ports the devices talk to.</summary>
    public PvsPorts Ports { get; init; } = new();
}

/// <summary>How long a phase may go without progress before the session counts as stuck (tracker defaults).</summary>
public sealed record StuckThresholds
{
    public TimeSpan IpAcquisition { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan BootstrapDownload { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan PvsLogon { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan SingleReadMode { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>BNIStack means booted; the tracker does not judge it stuck, so neither does the truth.</summary>
    public TimeSpan BniStack { get; init; } = TimeSpan.MaxValue;
}

/// <summary>PVS defaults (CTX articles): login on 6910, stream ports a configurable range around it.</summary>
public sealed record PvsPorts
{
    public int Login { get; init; } = 6910;
    public int StreamFirst { get; init; } = 6890;
    public int StreamLast { get; init; } = 6930;

    /// <summary>The bootstrap (UNDI) talks from this target port.</summary>
    public int BootstrapTarget { get; init; } = 6901;

    /// <summary>Windows' BNIStack driver uses these target ports, several I/Os at once.</summary>
    public IReadOnlyList<int> BniStackTargets { get; init; } = [6902, 6905];
}
