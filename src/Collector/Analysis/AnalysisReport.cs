using System.Text.Json.Serialization;
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
    /// <summary>The PVS login server.</summary>
    public string? PvsServer { get; init; }
    /// <summary>The PVS server whose vDisk data answered the reads.</summary>
    public string? StreamServer { get; init; }

    /// <summary>True when the capture shows this boot only from a later phase (it began before the recording).</summary>
    public bool JoinedMidBoot { get; init; }

    /// <summary>How many boots in a row of this device, this one included, restarted PXE while streaming; 0 when it did not loop.</summary>
    public int LoopCount { get; init; }

    /// <summary>The newest TFTP transfer of the bootstrap; null when none started.</summary>
    public BootstrapReport? Bootstrap { get; init; }
}

/// <summary>What the bootstrap download negotiated and moved: block size and window matter against the MTU.</summary>
public sealed record BootstrapReport(long Blocks, int BlockSize, int WindowSize, long? TransferSize, bool Complete);

public sealed record PhaseReport(BootPhase Name, DateTime Start, DateTime? End, int Retries)
{
    /// <summary>The frame that began the phase, for Wireshark (<c>frame.number == N</c> in that file); null when not read from files.</summary>
    public FrameReference? StartFrame { get; init; }

    /// <summary>What the phase is, without where it was seen: for comparing a report with stored sessions or a truth.</summary>
    [JsonIgnore]
    public (BootPhase Name, DateTime Start, DateTime? End, int Retries) Timing => (Name, Start, End, Retries);
}

/// <summary>A frame of a capture file as Wireshark numbers it: the file's name and <c>frame.number</c> (from 1).</summary>
public sealed record FrameReference(string File, long Number);

public sealed record IssueReport(BootIssueKind Kind, DateTime At, string Detail)
{
    /// <summary>The frame that showed the problem (for Stuck: the last one that made progress); null when not read from files.</summary>
    public FrameReference? Frame { get; init; }

    public string? Hint { get; init; }

    /// <summary>The phase the session was in when the problem showed.</summary>
    public BootPhase? Phase { get; init; }
}
