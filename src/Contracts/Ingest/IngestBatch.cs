namespace PvsFleet.Contracts.Ingest;

/// <summary>
/// What a collector posts to <c>POST /api/v1/ingest</c> (JSON, optionally <c>Content-Encoding: gzip</c>),
/// authenticated with its own key as <c>Authorization: Bearer &lt;key&gt;</c>.
/// </summary>
/// <remarks>
/// The batch is validated whole and stored whole in one transaction. Every event carries the collector's
/// <see cref="IngestEvent.Sequence"/>; the API stores each (collector, sequence) once, so a batch sent again after
/// a lost response is acknowledged again without being applied twice. A collector therefore keeps an event in
/// its spool until a response acknowledges it.
/// </remarks>
public sealed record IngestBatch
{
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
}
