namespace PvsFleet.Contracts.Queries;

public sealed record CreateCollectorRequest(string Site, string Name);

/// <summary>A new collector; <see cref="Key"/> is shown this once and never stored in clear.</summary>
public sealed record CreatedCollector(int Id, string Site, string Name, string Key);

/// <summary>A collector with the statistics of its last heartbeat (counters are since the collector started).</summary>
public sealed record CollectorView(int Id, string Site, string Name, string KeyPrefix, DateTime CreatedAt, DateTime? RevokedAt,
    DateTime? LastSeenAt, long LastSequence, string? Interface, string? Version, long PacketsReceived, long PacketsDropped,
    long InterfaceDropped, int ActiveSessions, long SpooledEvents);
