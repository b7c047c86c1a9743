using System.Text.Json.Serialization;

namespace PvsFleet.Contracts.Ingest;

/// <summary>
/// One event of a collector. The JSON property <c>"type"</c> names the kind:
/// <c>sessionStarted</c>, <c>phaseEntered</c>, <c>retries</c>, <c>issue</c>, <c>sessionEnded</c>, <c>heartbeat</c>.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(SessionStartedEvent), "sessionStarted")]
[JsonDerivedType(typeof(PhaseEnteredEvent), "phaseEntered")]
[JsonDerivedType(typeof(RetriesEvent), "retries")]
[JsonDerivedType(typeof(IssueEvent), "issue")]
[JsonDerivedType(typeof(SessionEndedEvent), "sessionEnded")]
[JsonDerivedType(typeof(CollectorHeartbeatEvent), "heartbeat")]
public abstract record IngestEvent
{
    /// <summary>
    /// The collector instance's own sequence number, strictly increasing over the life of its spool (it survives
    /// restarts through the spool; a new spool is a new instance, see <see cref="IngestBatch.Instance"/>). It is the
    /// idempotency key together with the collector and the instance: must be ≥ 1.
    /// </summary>
    public required long Sequence { get; init; }

    /// <summary>When the collector observed what the event reports (UTC; an offset is accepted and normalised).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>
    /// When the collector queued the event for delivery (its wall clock, UTC): with the time the API stored it,
    /// this measures delivery lag, whatever the replay speed or capture clock. Optional.
    /// </summary>
    public DateTimeOffset? QueuedAt { get; init; }
}

/// <summary>
/// An event about one boot session. Each carries the whole <see cref="Session"/> as the collector sees it after the
/// event, so the API can upsert the session from any single event: losing or reordering intermediate events
/// never corrupts the stored state (an older snapshot never overwrites a newer one).
/// </summary>
public abstract record SessionEvent : IngestEvent
{
    /// <summary>The session as it stands after this event.</summary>
    public required SessionSnapshot Session { get; init; }
}

/// <summary>A device started a boot: the first DHCPDISCOVER with a PXEClient vendor class was seen.</summary>
public sealed record SessionStartedEvent : SessionEvent;

/// <summary>The session moved into <see cref="Phase"/> (the previous phase ended at the same instant).</summary>
public sealed record PhaseEnteredEvent : SessionEvent
{
    /// <summary>The phase just entered.</summary>
    public required BootPhase Phase { get; init; }
}

/// <summary>Retries or retransmits were counted in a phase (DHCP, TFTP blocks, logon requests, stream reads).</summary>
public sealed record RetriesEvent : SessionEvent
{
    /// <summary>The phase the retries belong to.</summary>
    public required BootPhase Phase { get; init; }

    /// <summary>The retries added since the previous report for this phase (the running total is in the snapshot).</summary>
    public required int Count { get; init; }
}

/// <summary>The tracker noticed a problem in the session.</summary>
public sealed record IssueEvent : SessionEvent
{
    /// <summary>What kind of problem.</summary>
    public required BootIssueKind Kind { get; init; }

    /// <summary>The phase the problem showed in.</summary>
    public required BootPhase Phase { get; init; }

    /// <summary>A short human-readable detail, e.g. the TFTP error text (at most 512 characters).</summary>
    public string? Detail { get; init; }

    /// <summary>What to check first, worded for a PVS admin (at most 512 characters); the dashboard shows it beside the problem.</summary>
    public string? Hint { get; init; }

    /// <summary>
    /// For network-hygiene kinds: the server (or servers, comma-separated and sorted) the finding is about, e.g. the two
    /// PXE servers that answered (at most 100 characters). The API groups hygiene alerts by it.
    /// </summary>
    public string? Server { get; init; }

    /// <summary>The frame the problem showed at, counted as <see cref="PhaseTiming.StartFrame"/> is. Null when not known.</summary>
    public long? Frame { get; init; }
}

/// <summary>The session is over: the device reached BNIStack, failed, or was given up on as stuck.</summary>
public sealed record SessionEndedEvent : SessionEvent
{
    /// <summary>How it ended. Never <see cref="BootOutcome.InProgress"/>.</summary>
    public required BootOutcome Outcome { get; init; }
}

/// <summary>
/// The collector's periodic sign of life with its capture statistics. A collector that has sent nothing for two
/// minutes is reported as silent, so a dead collector is not mistaken for stuck devices.
/// </summary>
public sealed record CollectorHeartbeatEvent : IngestEvent
{
    /// <summary>The capture source: interface name or file.</summary>
    public string? Interface { get; init; }

    /// <summary>The collector's version string.</summary>
    public string? Version { get; init; }

    /// <summary>Packets received by the capture since the collector started.</summary>
    public long PacketsReceived { get; init; }

    /// <summary>Packets dropped by the kernel/libpcap since the collector started.</summary>
    public long PacketsDropped { get; init; }

    /// <summary>Packets dropped by the interface (driver) since the collector started.</summary>
    public long InterfaceDropped { get; init; }

    /// <summary>Sessions the collector's tracker is following right now.</summary>
    public int ActiveSessions { get; init; }

    /// <summary>Events waiting in the collector's spool for delivery.</summary>
    public long SpooledEvents { get; init; }

    /// <summary>
    /// Frames captured again within milliseconds on another interface (bridge and ports, bond and slaves,
    /// <c>-i any</c>) since the collector started: recognised as copies, never counted as retries.
    /// </summary>
    public long DuplicateFrames { get; init; }

    /// <summary>Events the API refused that this collector instance set aside (in <c>spool/rejected/</c>) since its spool was made.</summary>
    public long RejectedEvents { get; init; }

    /// <summary>Spool lines that could not be read back and were set aside (in <c>spool/rejected/</c>) since the spool was made.</summary>
    public long CorruptSpoolLines { get; init; }

    /// <summary>The machine the collector instance runs on (a node name in Kubernetes), to tell instances apart.</summary>
    public string? Host { get; init; }
}
