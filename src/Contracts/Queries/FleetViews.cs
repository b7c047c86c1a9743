namespace PvsFleet.Contracts.Queries;

// What the read API (/api/v1) returns. The API and the dashboard share these types, so a renamed field breaks the
// build on both sides instead of a page at run time.

/// <summary>One page of a list, with the total so clients can draw a pager.</summary>
public sealed record Paged<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>
/// A site with its devices now in each phase (in progress or stuck), stuck devices, open alerts and the sessions
/// started per minute over the last five minutes.
/// </summary>
public sealed record SiteView(string Name, int Collectors, int SilentCollectors, int Devices,
    IReadOnlyDictionary<BootPhase, int> InProgressByPhase, int Stuck, int OpenAlerts, double BootsPerMinute = 0);

/// <summary>
/// A device and where its latest session stands. <see cref="SessionStartedAt"/>, <see cref="SessionEndedAt"/> and
/// <see cref="SessionRetries"/> describe that latest session, so a fleet grid can show the boot duration so far and
/// the retries without a request per device.
/// </summary>
public sealed record DeviceView(string Mac, string Site, string? LastIp, string? HostName, Firmware Firmware,
    DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt, Guid? LastSessionId, BootPhase? Phase, BootOutcome? Outcome,
    DateTimeOffset? SessionStartedAt = null, DateTimeOffset? SessionEndedAt = null, int SessionRetries = 0);

/// <summary>A boot session; <see cref="DurationMs"/> is first DHCPDISCOVER to BNIStack, once reached.</summary>
public sealed record SessionView(Guid Id, string Mac, string? Ip, string? HostName, Firmware Firmware, string? BootFile,
    BootPhase Phase, BootOutcome Outcome, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, double? DurationMs, int TotalRetries,
    string? DhcpServer, string? TftpServer, string? PvsServer);

/// <summary>One phase of a session.</summary>
public sealed record PhaseView(BootPhase Phase, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, double? DurationMs, int Retries);

/// <summary>One stored ingest event of a session; <see cref="Payload"/> is the event's JSON as received.</summary>
public sealed record TimelineEntry(long Sequence, string Type, DateTimeOffset Timestamp, string Payload);

public sealed record DeviceDetail(DeviceView Device, IReadOnlyList<SessionView> Sessions);

/// <summary>
/// One session with its phases and timeline; <c>Evidence</c> is its newest packet clip if the collector sent one, and
/// <c>EvidenceRequestedAt</c> when someone last asked the collector for a clip of it.
/// </summary>
public sealed record SessionDetail(SessionView Session, string Site, IReadOnlyList<PhaseView> Phases, IReadOnlyList<TimelineEntry> Timeline,
    EvidenceView? Evidence = null, DateTimeOffset? EvidenceRequestedAt = null);
