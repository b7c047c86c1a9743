using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Data;

/// <summary>A place with its own PVS subnets and collectors; the unit of grouping, alert thresholds and live groups.</summary>
public sealed class Site
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A collector on one PVS subnet, authenticated by a key of which only the SHA-256 is stored.</summary>
public sealed class Collector
{
    public int Id { get; set; }
    public int SiteId { get; set; }
    public Site Site { get; set; } = null!;
    public required string Name { get; set; }
    public required string KeyHash { get; set; }
    /// <summary>The first characters of the key, so an operator can tell keys apart without the secret.</summary>
    public required string KeyPrefix { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    /// <summary>Server time of the last batch from this collector: the clock that "silent" is judged by.</summary>
    public DateTime? LastSeenAt { get; set; }
    public long LastSequence { get; set; }
    public string? Interface { get; set; }
    public string? Version { get; set; }
    public long PacketsReceived { get; set; }
    public long PacketsDropped { get; set; }
    public long InterfaceDropped { get; set; }
    public int ActiveSessions { get; set; }
    public long SpooledEvents { get; set; }
}

/// <summary>
/// One running copy of a collector: the key says which collector (site, name), the instance id which spool. Several
/// instances share a key when one collector is deployed on many nodes; a spool made anew is a new instance. Sequence
/// numbers count per instance, so the idempotency key of an event is (collector, instance, sequence).
/// </summary>
public sealed class CollectorInstance
{
    public int CollectorId { get; set; }
    public Guid Instance { get; set; }
    public DateTime FirstSeenAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public long LastSequence { get; set; }
    public string? Host { get; set; }
    public string? Interface { get; set; }
    public string? Version { get; set; }
    public long PacketsReceived { get; set; }
    public long PacketsDropped { get; set; }
    public long InterfaceDropped { get; set; }
    public int ActiveSessions { get; set; }
    public long SpooledEvents { get; set; }
    /// <summary>Events the API refused from this instance (counted by the API).</summary>
    public long RefusedEvents { get; set; }
    /// <summary>Events the instance set aside after a refusal, as its last heartbeat said.</summary>
    public long RejectedEvents { get; set; }
    /// <summary>Spool lines the instance could not read back and set aside, as its last heartbeat said.</summary>
    public long CorruptSpoolLines { get; set; }
}

/// <summary>A PVS target device, known by its DHCP chaddr.</summary>
public sealed class Device
{
    public long Id { get; set; }
    public required string Mac { get; set; }
    public int SiteId { get; set; }
    public Site Site { get; set; } = null!;
    public string? LastIp { get; set; }
    public string? HostName { get; set; }
    public Firmware Firmware { get; set; }
    public DateTime FirstSeenAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    // The latest session, copied here so fleet views filter devices without a join over all sessions.
    public Guid? LastSessionId { get; set; }
    public DateTime? LastSessionStartedAt { get; set; }
    public BootPhase? CurrentPhase { get; set; }
    public BootOutcome? CurrentOutcome { get; set; }
}

/// <summary>One pass of one device through the boot phases.</summary>
public sealed class StoredSession
{
    public Guid Id { get; set; }
    public long DeviceId { get; set; }
    public Device Device { get; set; } = null!;
    public int SiteId { get; set; }
    public int CollectorId { get; set; }
    /// <summary>The collector instance that follows the session: its sequence numbers order the session's snapshots.</summary>
    public Guid Instance { get; set; }
    public required string Mac { get; set; }
    public string? Ip { get; set; }
    public Firmware Firmware { get; set; }
    public string? BootFile { get; set; }
    public string? HostName { get; set; }
    public BootPhase Phase { get; set; }
    public BootOutcome Outcome { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public DateTime PhaseStartedAt { get; set; }
    /// <summary>When the device last made progress, as the collector saw it; null from collectors that do not say.</summary>
    public DateTime? LastProgressAt { get; set; }
    /// <summary>First DHCPDISCOVER to BNIStack, once reached: the figure boot statistics are made of.</summary>
    public double? DurationMs { get; set; }
    public int TotalRetries { get; set; }
    public string? DhcpServer { get; set; }
    public string? TftpServer { get; set; }
    /// <summary>The PVS login server.</summary>
    public string? PvsServer { get; set; }
    /// <summary>The PVS server whose data answered the reads (null from collectors that do not say).</summary>
    public string? StreamServer { get; set; }
    /// <summary>Sequence of the event whose snapshot is stored: an older snapshot arriving late is not applied.</summary>
    public long LastSequence { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<SessionPhase> Phases { get; set; } = [];
}

/// <summary>One phase of a session; site and session start are copied so per-phase statistics need no join.</summary>
public sealed class SessionPhase
{
    public Guid SessionId { get; set; }
    public BootPhase Phase { get; set; }
    public int SiteId { get; set; }
    public DateTime SessionStartedAt { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public double? DurationMs { get; set; }
    public int Retries { get; set; }
}

/// <summary>An event as received, kept for timelines and audits until the retention period has passed.</summary>
public sealed class IngestedEvent
{
    /// <summary>The key on SQLite; PostgreSQL keys an event by its idempotency key and stores no id.</summary>
    public long Id { get; set; }
    public int CollectorId { get; set; }
    public Guid Instance { get; set; }
    public long Sequence { get; set; }
    public required string Type { get; set; }
    public DateTime Timestamp { get; set; }
    public Guid? SessionId { get; set; }
    public DateTime ReceivedAt { get; set; }
    public required string Payload { get; set; }
}

/// <summary>Something an operator should look at; opened and resolved by the evaluator, acknowledged by people.</summary>
public sealed class Alert
{
    public long Id { get; set; }
    public AlertKind Kind { get; set; }
    public AlertState State { get; set; }
    public int SiteId { get; set; }
    public Site Site { get; set; } = null!;
    public Guid? SessionId { get; set; }
    public int? CollectorId { get; set; }
    public string? Mac { get; set; }
    public BootPhase? Phase { get; set; }
    public required string Message { get; set; }
    public DateTime OpenedAt { get; set; }
    public DateTime? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    public DateTime? ResolvedAt { get; set; }
    /// <summary>Network hygiene: what was found, and about which server (null when the finding names none).</summary>
    public HygieneFinding? Finding { get; set; }
    public string? Server { get; set; }
    public string? Hint { get; set; }
    /// <summary>Network hygiene: distinct devices in <see cref="AlertDevice"/> (slow TFTP: the slow server's samples).</summary>
    public int DeviceCount { get; set; }
    public DateTime? LastSeenAt { get; set; }
}

/// <summary>A device that showed a network-hygiene alert's finding: counted once however often it reports it.</summary>
public sealed class AlertDevice
{
    public long AlertId { get; set; }
    public Alert Alert { get; set; } = null!;
    public required string Mac { get; set; }
}

/// <summary>
/// How many durations of one series (a phase, or the boot as a whole) of one collector fell into one log-linear bin
/// (<see cref="DurationBins"/>) in one UTC hour of session start. Kept by the PostgreSQL ingest in the batch's
/// transaction, so statistics over long ranges merge thousands of rows instead of sorting millions. The collector is
/// part of the key so that collectors of one site never wait on each other's row locks; <see cref="Count"/> and
/// <see cref="MaxMs"/> are exact (a corrected duration is taken out again, and its bin's maximum recomputed).
/// </summary>
public sealed class DurationHistogramBin
{
    /// <summary>A <see cref="BootPhase"/> number, or <see cref="DurationBins.WholeBoot"/> for the boot as a whole.</summary>
    public int Series { get; set; }
    public DateTime Hour { get; set; }
    public int SiteId { get; set; }
    public int CollectorId { get; set; }
    public int Bin { get; set; }
    public long Count { get; set; }
    public double? MaxMs { get; set; }
}

/// <summary>
/// The duration histogram summed over a site's collectors and a whole UTC day (<see cref="DurationRollup"/>): the
/// daily statistics of closed days read a few rows per day and site instead of one per collector, hour and bin. The
/// row of the cut-off's own day holds that day's hours before the cut-off.
/// </summary>
public sealed class DurationDayRollupBin
{
    public int Series { get; set; }
    public DateTime Day { get; set; }
    public int SiteId { get; set; }
    public int Bin { get; set; }
    public long Count { get; set; }
    public double? MaxMs { get; set; }
}

/// <summary>The duration histogram summed over every site and collector, per UTC hour (<see cref="DurationRollup"/>).</summary>
public sealed class DurationHourRollupBin
{
    public int Series { get; set; }
    public DateTime Hour { get; set; }
    public int Bin { get; set; }
    public long Count { get; set; }
    public double? MaxMs { get; set; }
}

/// <summary>
/// The one row saying up to where (a whole UTC hour, excluded) the rollups hold the histogram's hours
/// (<see cref="DurationRollup"/>); its row lock orders the maintenance pass against ingest.
/// </summary>
public sealed class DurationRollupCutoff
{
    public int Id { get; set; }
    public DateTime RolledUpTo { get; set; }
}

/// <summary>
/// A pcapng clip of one boot session's packets, sent by its collector. The bytes are stored in the row (bytea / blob):
/// clips are bounded (<see cref="EvidenceStorageOptions.MaxClipBytes"/>), every API replica reads the same database, one backup
/// holds them with the sessions they belong to, and retention is a DELETE — no files to keep in step with rows.
/// </summary>
public sealed class StoredEvidenceClip
{
    public long Id { get; set; }
    public int CollectorId { get; set; }
    public int SiteId { get; set; }
    public Guid SessionId { get; set; }
    public required string Mac { get; set; }
    /// <summary>Failed, Stuck, BootLoop or Requested.</summary>
    public required string Reason { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime FirstFrameAt { get; set; }
    public DateTime LastFrameAt { get; set; }
    public int Frames { get; set; }
    public int Bytes { get; set; }
    public required byte[] Data { get; set; }
}

/// <summary>A clip of a session in flight asked for from the device page; handed to its collector in its next ingest answer.</summary>
public sealed class EvidenceRequest
{
    public long Id { get; set; }
    public int CollectorId { get; set; }
    public Guid SessionId { get; set; }
    public required string Mac { get; set; }
    public DateTime RequestedAt { get; set; }
    /// <summary>When the request went out in an ingest answer; null while it waits for the collector.</summary>
    public DateTime? SentAt { get; set; }
}
