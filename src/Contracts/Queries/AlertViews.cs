namespace PvsFleet.Contracts.Queries;

public enum AlertKind
{
    StuckSession = 0,
    FailedBoot = 1,
    CollectorSilent = 2,
    /// <summary>A session is healthy (it makes progress) but longer in a phase than its site allows: optional, off by default.</summary>
    SlowPhase = 3,
    /// <summary>A network-hygiene finding (<see cref="HygieneFinding"/>) about a site's network or one of its servers, whatever device saw it.</summary>
    NetworkHygiene = 4,
}

/// <summary>What a <see cref="AlertKind.NetworkHygiene"/> alert found.</summary>
public enum HygieneFinding
{
    /// <summary>More than one DHCP or proxyDHCP server gave PXE clients boot information (a rogue or a second PXE service).</summary>
    MultiplePxeServers = 0,
    /// <summary>PXE clients only got offers without PXE boot information.</summary>
    NoPxeOffer = 1,
    /// <summary>TFTP or PVS datagrams arrived in IP fragments (block size or MTU above the path's).</summary>
    Fragmentation = 2,
    /// <summary>A bootstrap built for the other firmware was asked for (ARDBP32.bin by UEFI, or the reverse).</summary>
    BootstrapFirmwareMismatch = 3,
    /// <summary>A TFTP server serves a boot file markedly slower than the fastest server for the same file.</summary>
    SlowTftpServer = 4,
}

public enum AlertState
{
    Open = 0,
    Acknowledged = 1,
    Resolved = 2,
}

public sealed record AlertView(long Id, string Site, AlertKind Kind, AlertState State, string Message, Guid? SessionId,
    string? Mac, BootPhase? Phase, int? CollectorId, DateTimeOffset OpenedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt)
{
    /// <summary>For network-hygiene alerts: what was found.</summary>
    public HygieneFinding? Finding { get; init; }
    /// <summary>For network-hygiene alerts: the server (or servers) the finding is about, when there is one.</summary>
    public string? Server { get; init; }
    /// <summary>For network-hygiene alerts: what to check first.</summary>
    public string? Hint { get; init; }
    /// <summary>For network-hygiene alerts: distinct devices that showed the finding while the alert was open.</summary>
    public int DeviceCount { get; init; }
    /// <summary>For network-hygiene alerts: when a device last showed the finding.</summary>
    public DateTimeOffset? LastSeenAt { get; init; }
}
