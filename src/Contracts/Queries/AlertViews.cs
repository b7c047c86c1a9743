namespace PvsFleet.Contracts.Queries;

public enum AlertKind
{
    StuckSession = 0,
    FailedBoot = 1,
    CollectorSilent = 2,
    /// <summary>A session is healthy (it makes progress) but longer in a phase than its site allows: optional, off by default.</summary>
    SlowPhase = 3,
}

public enum AlertState
{
    Open = 0,
    Acknowledged = 1,
    Resolved = 2,
}

public sealed record AlertView(long Id, string Site, AlertKind Kind, AlertState State, string Message, Guid? SessionId,
    string? Mac, BootPhase? Phase, int? CollectorId, DateTime OpenedAt, DateTime? AcknowledgedAt, string? AcknowledgedBy,
    DateTime? ResolvedAt);
