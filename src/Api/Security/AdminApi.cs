using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Cli;
using PvsFleet.Api.Data;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Security;

public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/collectors").WithTags("Collectors").RequireAuthorization(AuthSetup.ReaderPolicy);

        api.MapGet("/", List).WithSummary("Collectors with their last heartbeat.");
        api.MapPost("/", Create).RequireAuthorization(AuthSetup.AdminPolicy)
            .WithSummary("Create a collector (and its site if new); the key is in the response only. Admins only.");
        api.MapDelete("/{id:int}", Revoke).RequireAuthorization(AuthSetup.AdminPolicy).WithSummary("Revoke a collector's key. Admins only.");

        return app;
    }

    private static async Task<Ok<List<CollectorView>>> List(FleetDbContext db, CancellationToken ct)
    {
        var collectors = await db.Collectors.AsNoTracking().OrderBy(c => c.Id)
            .Select(c => new CollectorView(c.Id, c.Site.Name, c.Name, c.KeyPrefix, c.CreatedAt, c.RevokedAt, c.LastSeenAt,
                c.LastSequence, c.Interface, c.Version, c.PacketsReceived, c.PacketsDropped, c.InterfaceDropped,
                c.ActiveSessions, c.SpooledEvents))
            .ToListAsync(ct);
        var instances = (await db.CollectorInstances.AsNoTracking().ToListAsync(ct))
            .OrderByDescending(i => i.LastSeenAt)
            .ToLookup(i => i.CollectorId, i => new CollectorInstanceView(i.Instance, i.Host, i.FirstSeenAt, i.LastSeenAt, i.LastSequence,
                i.Interface, i.PacketsReceived, i.PacketsDropped, i.ActiveSessions, i.SpooledEvents, i.RefusedEvents, i.RejectedEvents,
                i.CorruptSpoolLines));
        return TypedResults.Ok(collectors.Select(c => c with { Instances = [.. instances[c.Id]] }).ToList());
    }

    private static async Task<Results<Created<CreatedCollector>, ValidationProblem, ProblemHttpResult>> Create(
        CreateCollectorRequest request, FleetDbContext db, TimeProvider clock)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Site) || request.Site.Length > 100 || !IsPrintable(request.Site))
            errors["site"] = ["A site name of 1 to 100 printable characters."];
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100 || !IsPrintable(request.Name))
            errors["name"] = ["A collector name of 1 to 100 printable characters."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        if (await db.Collectors.AnyAsync(c => c.Site.Name == request.Site && c.Name == request.Name))
            return TypedResults.Problem("A collector of that name exists on the site.", statusCode: StatusCodes.Status409Conflict);
        var (collector, key) = await Commands.CreateCollectorAsync(db, request.Site, request.Name, clock.GetUtcNow().UtcDateTime);
        return TypedResults.Created($"/api/v1/collectors/{collector.Id}", new CreatedCollector(collector.Id, request.Site, collector.Name, key));
    }

    // No NUL (PostgreSQL refuses it), no control characters, no lone surrogates: names are shown and typed by people.
    private static bool IsPrintable(string text) =>
        !Ingest.IngestSanitizer.IsDirty(text) && !text.Any(char.IsControl);

    private static async Task<Results<NoContent, NotFound>> Revoke(int id, FleetDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var n = await db.Collectors.Where(c => c.Id == id && c.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.RevokedAt, now), ct);
        return n == 1 ? TypedResults.NoContent() : TypedResults.NotFound();
    }
}

