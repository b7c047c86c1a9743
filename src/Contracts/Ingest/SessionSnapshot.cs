namespace PvsFleet.Contracts.Ingest;

/// <summary>One boot session as the collector's tracker sees it at a moment: enough to upsert it from scratch.</summary>
public sealed record SessionSnapshot
{
    /// <summary>Chosen by the collector when the session starts; stable across all events of the session.</summary>
    public required Guid SessionId { get; init; }

    /// <summary>The device's MAC address from DHCP <c>chaddr</c> (not the Ethernet source), as <c>52:54:00:00:00:01</c>.</summary>
    public required string Mac { get; init; }

    /// <summary>The address the device was given (DHCP yiaddr), once known.</summary>
    public string? Ip { get; init; }

    /// <summary>The firmware announced in DHCP.</summary>
    public Firmware Firmware { get; init; }

    /// <summary>The bootstrap file name requested over TFTP (e.g. <c>ARDBP32.bin</c>, <c>pvsnbpx64.efi</c>).</summary>
    public string? BootFile { get; init; }

    /// <summary>The host name from DHCP option 12, usually known once Windows' own stack asks (BNIStack).</summary>
    public string? HostName { get; init; }

    /// <summary>The phase the session is in now.</summary>
    public required BootPhase Phase { get; init; }

    /// <summary>Where the session stands.</summary>
    public required BootOutcome Outcome { get; init; }

    /// <summary>When the session started (the first DHCPDISCOVER, or the first frame seen of a boot joined mid-way), UTC.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>True when the collector first saw this boot past DHCP (it started or restarted mid-boot): earlier phases are missing.</summary>
    public bool JoinedMidBoot { get; init; }

    /// <summary>How many boots in a row of this device, this one included, restarted PXE while streaming (a boot loop); 0 otherwise.</summary>
    public int LoopCount { get; init; }

    /// <summary>When the session ended, if it has, UTC.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>
    /// When the device last made progress (a DHCP step, a TFTP block, a logon reply, a stream read answered), UTC. A
    /// session is stuck when this is older than its phase's threshold, however long the phase itself has lasted.
    /// Optional for older collectors: the API then judges by the phase's start, as they did.
    /// </summary>
    public DateTimeOffset? LastProgressAt { get; init; }

    /// <summary>Timing and retries of every phase entered so far, at most one entry per phase.</summary>
    public IReadOnlyList<PhaseTiming> Phases { get; init; } = [];

    /// <summary>The servers the device talked to.</summary>
    public SessionServers? Servers { get; init; }
}

/// <summary>When a phase started and ended and how many retries it took.</summary>
public sealed record PhaseTiming
{
    /// <summary>The phase.</summary>
    public required BootPhase Phase { get; init; }

    /// <summary>When it started, UTC.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it ended (= the next phase started), UTC; null while it lasts.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>Retries and retransmits counted in the phase so far.</summary>
    public int Retries { get; init; }

    /// <summary>
    /// The frame the phase began with, counted from 1 as the collector read them: Wireshark's <c>frame.number</c> when
    /// one capture file is replayed, the live capture's packet counter otherwise. Null when not known.
    /// </summary>
    public long? StartFrame { get; init; }
}

/// <summary>The servers of a session, as dotted IPv4 or IPv6 text.</summary>
public sealed record SessionServers
{
    /// <summary>The DHCP server that acknowledged the address.</summary>
    public string? Dhcp { get; init; }

    /// <summary>The TFTP server the bootstrap came from.</summary>
    public string? Tftp { get; init; }

    /// <summary>The PVS server the device logged on to (the login server).</summary>
    public string? Pvs { get; init; }

    /// <summary>The PVS server whose vDisk data answered the device's reads; often the login server, not always.</summary>
    public string? Stream { get; init; }
}
