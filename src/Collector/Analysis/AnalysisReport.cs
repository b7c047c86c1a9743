using PvsFleet.Contracts;

namespace PvsFleet.Collector.Analysis;

/// <summary>
/// What <c>analyze --json</c> prints, and what <c>simulate</c> writes as ground truth: the capture, then every
/// device (by DHCP chaddr) with its boot sessions in the order they started.
/// </summary>
public sealed record AnalysisReport(
    DateTime? CaptureStart,
    DateTime? CaptureEnd,
    long Packets,
    long Malformed,
    IReadOnlyList<DeviceReport> Devices)
{
    /// <summary>Set when a capture file ended inside a record: the report covers the data up to the damage.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The most boot sessions in flight at one moment of the capture.</summary>
    public int PeakSessionsInFlight { get; init; }

    /// <summary>
    /// Frames that were copies of an IP datagram seen within the copy window (a capture on several interfaces at
    /// once): counted here, never as retries or progress.
    /// </summary>
    public long DuplicateFrames { get; init; }

    /// <summary>DHCP options that did not hold, skipped while the rest of their message was read.</summary>
    public long MalformedDhcpOptions { get; init; }
}

public sealed record DeviceReport(string Mac, IReadOnlyList<SessionReport> Sessions);

public sealed record SessionReport(
    string? Ip,
    Firmware Firmware,
    string? BootFile,
    DateTime Start,
    DateTime? End,
    BootOutcome Outcome,
    BootPhase Phase,
    IReadOnlyList<PhaseReport> Phases,
    IReadOnlyList<IssueReport> Issues)
{
    public string? HostName { get; init; }
    public string? DhcpServer { get; init; }
    public string? TftpServer { get; init; }
    public string? PvsServer { get; init; }

    /// <summary>The newest TFTP transfer of the bootstrap; null when none started.</summary>
    public BootstrapReport? Bootstrap { get; init; }
}

/// <summary>What the bootstrap download negotiated and moved: block size and window matter against the MTU.</summary>
public sealed record BootstrapReport(long Blocks, int BlockSize, int WindowSize, long? TransferSize, bool Complete);

public sealed record PhaseReport(BootPhase Name, DateTime Start, DateTime? End, int Retries);

public sealed record IssueReport(BootIssueKind Kind, DateTime At, string Detail)
{
    public string? Hint { get; init; }

    /// <summary>The phase the session was in when the problem showed.</summary>
    public BootPhase? Phase { get; init; }
}
