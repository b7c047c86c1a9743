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
            .WithSummary("Store a batch of a collector's events (JSON, gzip accepted); idempotent per (collector, sequence).");

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
        try
        {
            body = await ReadBodyAsync(http.Request, limits.MaxBatchBytes, ct);
        }
        catch (BatchTooLargeException)
        {
            return TypedResults.Problem($"A batch is at most {limits.MaxBatchBytes} bytes (after decompression).",
                statusCode: StatusCodes.Status413PayloadTooLarge, title: "Batch too large");
        }
        catch (InvalidDataException ex)
        {
            return TypedResults.Problem($"The body could not be decompressed: {ex.Message}", statusCode: StatusCodes.Status400BadRequest, title: "Bad encoding");
        }

        // The events' own bytes are stored as their payloads: the body stays rented until the batch is stored.
        using (body)
        {
            List<ReceivedEvent>? events;
            try
            {
                events = reader.Read(body.Memory);
            }
            catch (JsonException ex)
            {
                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Malformed batch");
            }

            var now = clock.GetUtcNow();
            var errors = IngestValidator.Validate(events, now, limits);
            if (errors.Count > 0)
            {
                if (errors.TryGetValue("events", out var countError) && events?.Count > limits.MaxEventsPerBatch)
                    return TypedResults.Problem(countError[0], statusCode: StatusCodes.Status413PayloadTooLarge, title: "Batch too large");
                return TypedResults.ValidationProblem(errors, title: "The batch is invalid; nothing was stored.");
            }

            var collectorId = int.Parse(http.User.FindFirst(AuthSetup.CollectorIdClaim)!.Value, CultureInfo.InvariantCulture);
            // Two copies of a batch racing each other: the loser hits the unique (collector, sequence) index,
            // rolls back, and on the retry finds every event known.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    applied = await ApplyInTransactionAsync(db, collectorId, events!, now.UtcDateTime, ct);
                    break;
                }
                catch (Exception ex) when (attempt < 3 && ex is DbUpdateException or Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
                {
                    var log = loggers.CreateLogger(typeof(IngestApi));
                    if (log.IsEnabled(LogLevel.Information))
                        log.LogInformation(ex, "Ingest batch conflicted, retrying ({Attempt})", attempt);
                    db.ChangeTracker.Clear();
                }
            }
        }

        foreach (var (type, count) in applied.AcceptedByType)
            metrics.EventsIngested(type, count);
        if (applied.Duplicates > 0)
            metrics.Duplicates(applied.Duplicates);
        await PublishAsync(hub, metrics, applied);

        return TypedResults.Ok(new IngestResult
        {
            Accepted = applied.Accepted,
            Duplicates = applied.Duplicates,
            AcknowledgedThrough = applied.AcknowledgedThrough,
        });
    }

    private static async Task<IngestApplied> ApplyInTransactionAsync(
        FleetDbContext db, int collectorId, IReadOnlyList<ReceivedEvent> events, DateTime now, CancellationToken ct)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var applied = db.IsPostgres
                ? await PostgresIngestWriter.ApplyAsync(db, collectorId, events, now, ct)
                : await IngestWriter.ApplyAsync(db, collectorId, events, now, ct);
            await tx.CommitAsync(ct);
            return applied;
        });
    }

    private static async Task PublishAsync(IHubContext<FleetHub, IFleetClient> hub, FleetMetrics metrics, IngestApplied applied)
    {
        var group = hub.Clients.Group(FleetHub.GroupFor(applied.Site));
        foreach (var s in applied.ChangedSessions)
        {
            if (s.Outcome != BootOutcome.InProgress && s.EndedAt is not null)
                metrics.SessionOutcome(s.Outcome);
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
        private byte[]? _buffer = buffer;

        public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, length);

        public void Dispose()
        {
            if (_buffer is { } b)
                System.Buffers.ArrayPool<byte>.Shared.Return(b);
            _buffer = null;
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
