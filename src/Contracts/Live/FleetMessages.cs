namespace PvsFleet.Contracts.Live;

/// <summary>
/// What the hub at <c>/hubs/fleet</c> pushes to a client. A client first calls the hub method
/// <c>SubscribeSite(site)</c> and then receives the messages of that site.
/// </summary>
public interface IFleetClient
{
    /// <summary>A boot session was created or changed.</summary>
    Task SessionChanged(SessionChange change);

    /// <summary>An alert was opened.</summary>
    Task AlertOpened(AlertMessage alert);

    /// <summary>An alert resolved itself or was acknowledged.</summary>
    Task AlertChanged(AlertMessage alert);

    /// <summary>A collector sent a heartbeat, or fell silent.</summary>
    Task CollectorStatus(CollectorStatusMessage status);
}

/// <summary>A session's state after a change; <see cref="TotalRetries"/> is summed over its phases.</summary>
public sealed record SessionChange(
    string Site, Guid SessionId, string Mac, string? Ip, string? HostName, BootPhase Phase, BootOutcome Outcome,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, DateTimeOffset PhaseStartedAt, int TotalRetries = 0);

/// <summary>An alert as pushed live; <see cref="State"/> is <c>open</c>, <c>acknowledged</c> or <c>resolved</c>.</summary>
public sealed record AlertMessage(
    long Id, string Site, string Kind, string State, string Message, Guid? SessionId, string? Mac, string? Collector,
    DateTimeOffset OpenedAt, DateTimeOffset? ResolvedAt)
{
    /// <summary>Network hygiene: what was found (a HygieneFinding name), the server it is about, the hint and the devices counted.</summary>
    public string? Finding { get; init; }
    public string? Server { get; init; }
    public string? Hint { get; init; }
    public int DeviceCount { get; init; }
}

/// <summary>A collector's last sign of life and capture statistics.</summary>
public sealed record CollectorStatusMessage(
    string Site, string Collector, bool Silent, DateTimeOffset? LastSeenAt, long PacketsReceived, long PacketsDropped);
