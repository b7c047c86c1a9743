namespace PvsFleet.Contracts.Ingest;

/// <summary>
/// What a collector posts to <c>POST /api/v1/ingest</c> (JSON, optionally <c>Content-Encoding: gzip</c>),
/// authenticated with its own key as <c>Authorization: Bearer &lt;key&gt;</c>.
/// </summary>
/// <remarks>
/// Each event is validated on its own: an event the API cannot store is refused alone and listed in
/// <see cref="IngestResult.Rejected"/>, the others are stored in one transaction. Every event carries the collector
/// instance's <see cref="IngestEvent.Sequence"/>; the API stores each (collector, <see cref="Instance"/>, sequence)
/// once, so a batch sent again after a lost response is acknowledged again without being applied twice. A collector
/// therefore keeps an event in its spool until a response acknowledges it.
/// </remarks>
public sealed record IngestBatch
{
    /// <summary>
    /// The sending collector instance: chosen when its spool is created and kept with the spool. Several instances may
    /// share one collector key (a DaemonSet), and an instance whose spool was wiped is a new instance, so sequence
    /// numbers are unique only per instance. Optional for older collectors, which are all the empty instance.
    /// </summary>
    public Guid? Instance { get; init; }

    /// <summary>The events, in the order the collector produced them (ascending <see cref="IngestEvent.Sequence"/>).</summary>
    public required IReadOnlyList<IngestEvent> Events { get; init; }
}

/// <summary>The answer to an accepted batch.</summary>
public sealed record IngestResult
{
    /// <summary>Events of the batch that were new and have been stored.</summary>
    public required int Accepted { get; init; }

    /// <summary>Events of the batch that had been stored before (same collector and sequence) and were skipped.</summary>
    public required int Duplicates { get; init; }

    /// <summary>The highest sequence number of the batch: everything up to it may leave the collector's spool.</summary>
    public required long AcknowledgedThrough { get; init; }

    /// <summary>
    /// Events of the batch that were refused for good (invalid, or refused by the database), with the reasons. Sending
    /// them again changes nothing: the collector sets them aside for a person and moves on.
    /// </summary>
    public IReadOnlyList<RejectedEvent> Rejected { get; init; } = [];

    /// <summary>
    /// Packet clips asked for from the device page since the last batch: the collector uploads a clip of each session
    /// still in flight to <c>POST /api/v1/evidence</c>. Each request is handed out once.
    /// </summary>
    public IReadOnlyList<ClipRequest> ClipRequests { get; init; } = [];
}

/// <summary>A clip of one session's packets, asked for while it is in flight.</summary>
public sealed record ClipRequest(Guid SessionId, string Mac);

/// <summary>One event of a batch that the API refused.</summary>
public sealed record RejectedEvent
{
    /// <summary>The event's sequence number.</summary>
    public required long Sequence { get; init; }

    /// <summary>Its position in the batch's <c>events</c> array.</summary>
    public required int Index { get; init; }

    /// <summary>Why, each as "JSON path: reason".</summary>
    public required IReadOnlyList<string> Reasons { get; init; }
}
