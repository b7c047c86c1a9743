namespace PvsFleet.Contracts.Queries;

public sealed record CreateCollectorRequest(string Site, string Name);

/// <summary>A new collector; <see cref="Key"/> is shown this once and never stored in clear.</summary>
public sealed record CreatedCollector(int Id, string Site, string Name, string Key);

/// <summary>A collector with the statistics of its last heartbeat (counters are since the collector started).</summary>
public sealed record CollectorView(int Id, string Site, string Name, string KeyPrefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt,
    DateTimeOffset? LastSeenAt, long LastSequence, string? Interface, string? Version, long PacketsReceived, long PacketsDropped,
    long InterfaceDropped, int ActiveSessions, long SpooledEvents)
{
    /// <summary>
    /// The running copies of this collector, each with its own spool (several share a key in a DaemonSet; a spool made
    /// anew is a new instance), most recently seen first.
    /// </summary>
    public IReadOnlyList<CollectorInstanceView> Instances { get; init; } = [];
}

/// <summary>
/// One instance of a collector: its last heartbeat's figures, the events the API refused from it, and what it set
/// aside in its spool's <c>rejected/</c> folder (refused events, and spool lines that did not parse).
/// </summary>
public sealed record CollectorInstanceView(Guid Instance, string? Host, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt, long LastSequence,
    string? Interface, long PacketsReceived, long PacketsDropped, int ActiveSessions, long SpooledEvents, long RefusedEvents,
    long RejectedEvents, long CorruptSpoolLines);
