using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using PvsFleet.Api.Data;
using PvsFleet.Api.Live;
using PvsFleet.Api.Operations;
using PvsFleet.Api.Security;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Live;

namespace PvsFleet.Api.Ingest;

public static class IngestApi
{
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Ingest");

        api.MapPost("/ingest", Ingest)
            .RequireAuthorization(AuthSetup.CollectorPolicy)
            // Not .Accepts<T>(): that would make routing answer a wrong Content-Type with the /api 404 fallback
            // instead of letting the handler return 415. The body is described to OpenAPI by hand.
            .AddOpenApiOperationTransformer(async (operation, context, ct) => operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "A batch of events; Content-Encoding: gzip accepted.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(IngestBatch), null, ct) },
                },
            })
            .WithSummary("Store a batch of a collector's events (JSON, gzip accepted); idempotent per (collector, instance, sequence). Invalid events are refused one by one and listed in the answer; the others are stored.");

        return app;
    }

    private sealed class BatchTooLargeException : Exception;

    public static async Task<Results<Ok<IngestResult>, ValidationProblem, ProblemHttpResult>> Ingest(
        HttpContext http, FleetDbContext db, IOptions<FleetOptions> options, IngestBatchReader reader, TimeProvider clock,
        IHubContext<FleetHub, IFleetClient> hub, FleetMetrics metrics, ILoggerFactory loggers, CancellationToken ct)
    {
        var limits = options.Value.Ingest;
        if (!http.Request.HasJsonContentType())
            return TypedResults.Problem("The batch is JSON: Content-Type: application/json.", statusCode: StatusCodes.Status415UnsupportedMediaType);

        // A batch is hundreds of kilobytes: read into a pooled buffer, because a fresh array of that size per request
        // is a large-object-heap allocation, and those forced gen-2 collections under load (seen in the profile).
        PooledBody body;
        IngestApplied applied;
        List<RejectedEvent> rejected;
        long acknowledgedThrough;
        try
        {
            body = await ReadBodyAsync(http.Request, limits.MaxBatchBytes, ct);
        }
        catch (BatchTooLargeException)
        {
            return TypedResults.Problem($"A batch is at most {limits.MaxBatchBytes} bytes (after decompression).",
                statusCode: StatusCodes.Status413PayloadTooLarge, title: "Batch too large");
        }
        catch (Exception ex) when (BadInput.IsBodyError(ex))
        {
            return TypedResults.Problem($"The body could not be read: {ex.Message}", statusCode: BadInput.StatusOf(ex), title: "Bad body");
        }

        var log = loggers.CreateLogger(typeof(IngestApi));
        // The events' own bytes are stored as their payloads: the body stays rented until the batch is stored.
        using (body)
        {
            IngestRead read;
            try
            {
                read = reader.Read(body.Memory);
            }
            catch (JsonException ex)
            {
                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Malformed batch");
            }

            if (IngestValidator.CheckBatch(read, limits) is { } batchError)
            {
                if (read.Count > limits.MaxEventsPerBatch)
                    return TypedResults.Problem(batchError, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Batch too large");
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["events"] = [batchError] },
                    title: "The batch is invalid; nothing was stored.");
            }

            var now = clock.GetUtcNow();
            var events = read.Events!;
            var errors = IngestValidator.Validate(events, now, limits);
            rejected = [.. read.Unreadable];
            var valid = new List<ReceivedEvent>(events.Count);
            acknowledgedThrough = rejected.Count == 0 ? 0 : rejected.Max(r => r.Sequence);
            foreach (var r in events)
            {
                acknowledgedThrough = Math.Max(acknowledgedThrough, r.Event.Sequence);
                if (errors.TryGetValue(r.Index, out var reasons))
                    rejected.Add(new RejectedEvent { Sequence = r.Event.Sequence, Index = r.Index, Reasons = reasons });
                else
                    valid.Add(r with { Event = IngestSanitizer.Clean(r.Event) });
            }

            var collectorId = int.Parse(http.User.FindFirst(AuthSetup.CollectorIdClaim)!.Value, CultureInfo.InvariantCulture);
            try
            {
                applied = await ApplyAsync(db, new IngestSource(collectorId, read.Instance, rejected.Count), valid, now.UtcDateTime, log, ct);
            }
            catch (Exception ex) when (BadInput.IsDataError(ex))
            {
                // Something in the batch the validator let through and the database refuses. Find it: each event on its
                // own, so the others are stored and only the culprit is refused (and never retried by the collector).
                db.ChangeTracker.Clear();
                (applied, var refused) = await ApplyOneByOneAsync(db, collectorId, read.Instance, valid, now.UtcDateTime, log, ct);
                rejected.AddRange(refused);
            }
            catch (Exception ex) when (BadInput.IsTransientStorageError(ex))
            {
                log.LogWarning(ex, "Ingest could not reach the database; the collector will send the batch again");
                http.Response.Headers.RetryAfter = "5";
                return TypedResults.Problem("The database is not available; send the batch again later.",
                    statusCode: StatusCodes.Status503ServiceUnavailable, title: "Storage unavailable");
            }
        }

        foreach (var (type, count) in applied.AcceptedByType)
            metrics.EventsIngested(type, count);
        if (applied.Duplicates > 0)
            metrics.Duplicates(applied.Duplicates);
        if (rejected.Count > 0)
        {
            metrics.EventsRejected(rejected.Count);
            if (log.IsEnabled(LogLevel.Warning))
            {
                log.LogWarning("Refused {Count} events of collector {Collector} (instance {Instance}), first: sequence {Sequence}: {Reason}",
                    rejected.Count, applied.Collector.Name, applied.Instance, rejected[0].Sequence, rejected[0].Reasons[0]);
            }
        }
        await PublishAsync(hub, metrics, applied);
        var clipRequests = await ClipRequestsAsync(db, http, clock, log, ct);

        return TypedResults.Ok(new IngestResult
        {
            Accepted = applied.Accepted,
            Duplicates = applied.Duplicates,
            AcknowledgedThrough = acknowledgedThrough,
            Rejected = [.. rejected.OrderBy(r => r.Index)],
            ClipRequests = clipRequests,
        });
    }

    /// <summary>
    /// Clips asked for from the device page ride on the answer to the collector's next batch. The batch is stored
    /// already: a failure here is logged and the requests wait for the next batch.
    /// </summary>
    private static async Task<List<ClipRequest>> ClipRequestsAsync(FleetDbContext db, HttpContext http, TimeProvider clock, ILogger log, CancellationToken ct)
    {
        var collectorId = int.Parse(http.User.FindFirst(AuthSetup.CollectorIdClaim)!.Value, CultureInfo.InvariantCulture);
        try
        {
            db.ChangeTracker.Clear();
            return await Evidence.EvidenceApi.TakeRequestsAsync(db, collectorId, clock.GetUtcNow().UtcDateTime, ct);
        }
        catch (Exception ex) when (BadInput.IsTransientStorageError(ex) || BadInput.IsDataError(ex))
        {
            log.LogWarning(ex, "Could not hand collector {Collector} its clip requests; they wait for its next batch", collectorId);
            return [];
        }
    }

    /// <summary>The batch in one transaction; two copies of a batch racing each other are resolved by retrying.</summary>
    private static async Task<IngestApplied> ApplyAsync(
        FleetDbContext db, IngestSource source, IReadOnlyList<ReceivedEvent> events, DateTime now, ILogger log, CancellationToken ct)
    {
        // The loser of two racing copies hits the unique (collector, instance, sequence) index, rolls back, and on the
        // retry finds every event known.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ApplyInTransactionAsync(db, source, events, now, ct);
            }
            catch (Exception ex) when (attempt < 3 && BadInput.IsConflict(ex))
            {
                if (log.IsEnabled(LogLevel.Information))
                    log.LogInformation(ex, "Ingest batch conflicted, retrying ({Attempt})", attempt);
                db.ChangeTracker.Clear();
            }
        }
    }

    private static async Task<(IngestApplied Applied, List<RejectedEvent> Refused)> ApplyOneByOneAsync(
        FleetDbContext db, int collectorId, Guid instance, List<ReceivedEvent> events, DateTime now, ILogger log, CancellationToken ct)
    {
        var refused = new List<RejectedEvent>();
        IngestApplied? total = null;
        foreach (var r in events)
        {
            try
            {
                var one = await ApplyAsync(db, new IngestSource(collectorId, instance), [r], now, log, ct);
                total = total is null ? one : total.Combine(one);
            }
            catch (Exception ex) when (BadInput.IsDataError(ex))
            {
                db.ChangeTracker.Clear();
                refused.Add(new RejectedEvent
                {
                    Sequence = r.Event.Sequence, Index = r.Index,
                    Reasons = [string.Create(CultureInfo.InvariantCulture, $"events[{r.Index}]: the database refused the event: {BadInput.Describe(ex)}")],
                });
            }
        }
        // The refusals are counted on the instance once, with an empty batch: it also records that the instance was seen.
        var counted = await ApplyAsync(db, new IngestSource(collectorId, instance, refused.Count), [], now, log, ct);
        return (total is null ? counted : total.Combine(counted), refused);
    }

    private static async Task<IngestApplied> ApplyInTransactionAsync(
        FleetDbContext db, IngestSource source, IReadOnlyList<ReceivedEvent> events, DateTime now, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var applied = db.IsPostgres
                ? await PostgresIngestWriter.ApplyAsync(db, source, events, now, ct)
                : await IngestWriter.ApplyAsync(db, source, events, now, ct);
            await tx.CommitAsync(ct);
            return applied;
        });
    }

    private static async Task PublishAsync(IHubContext<FleetHub, IFleetClient> hub, FleetMetrics metrics, IngestApplied applied)
    {
        var group = hub.Clients.Group(FleetHub.GroupFor(applied.Site));
        // Only what this batch ended or added, after the commit: each replica counts what it stored, Prometheus sums them.
        metrics.Measured(applied.Site, applied.Measured);
        foreach (var s in applied.ChangedSessions)
        {
            await group.SessionChanged(FleetHub.ToChange(applied.Site, s));
        }
        if (applied.HeartbeatReceived)
        {
            var c = applied.Collector;
            await group.CollectorStatus(new CollectorStatusMessage(applied.Site, c.Name, false,
                c.LastSeenAt is { } seen ? FleetHub.Utc(seen) : null, c.PacketsReceived, c.PacketsDropped));
        }
    }

    private sealed class PooledBody(byte[] buffer, int length) : IDisposable
    {
        private byte[]? buffer = buffer;

        public ReadOnlyMemory<byte> Memory => this.buffer.AsMemory(0, length);

        public void Dispose()
        {
            if (this.buffer is { } b)
                System.Buffers.ArrayPool<byte>.Shared.Return(b);
            this.buffer = null;
        }
    }

    private static async Task<PooledBody> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes)
            throw new BatchTooLargeException();
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        var buffer = pool.Rent((int)Math.Min(request.ContentLength ?? 64 * 1024, maxBytes) + 1);
        var length = 0;
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
            {
                length += read;
                if (length > maxBytes)
                    throw new BatchTooLargeException();
                if (length == buffer.Length)
                {
                    var larger = pool.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                }
            }
            return new PooledBody(buffer, length);
        }
        catch
        {
            pool.Return(buffer);
            throw;
        }
    }
}
