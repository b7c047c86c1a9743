using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Data;
using PvsFleet.Api.Live;
using PvsFleet.Api.Queries;
using PvsFleet.Api.Security;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Alerts;

public static class AlertsApi
{
    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/alerts").WithTags("Alerts").RequireAuthorization(AuthSetup.ReaderPolicy);

        api.MapGet("/", List).WithSummary("Alerts, newest first; state=open|acknowledged|resolved, site=NAME, kind=NetworkHygiene|StuckSession|….");
        api.MapPost("/{id:long}/acknowledge", Acknowledge).RequireAuthorization(AuthSetup.AdminPolicy)
            .WithSummary("Acknowledge an open alert; it still resolves itself. Admins only.");

        return app;
    }

    private static async Task<Results<Ok<Paged<AlertView>>, ValidationProblem>> List(
        FleetDbContext db, string? state, string? site, string? kind, int? page, int? pageSize, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = Paging.Check(page, pageSize, errors);
        AlertState? wanted = null;
        if (state is not null)
        {
            if (Enum.TryParse<AlertState>(state, ignoreCase: true, out var s) && Enum.IsDefined(s))
                wanted = s;
            else
                errors["state"] = ["One of open, acknowledged, resolved."];
        }
        AlertKind? wantedKind = null;
        if (kind is not null)
        {
            if (Enum.TryParse<AlertKind>(kind, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(kind, out _))
                wantedKind = k;
            else
                errors["kind"] = [$"One of {string.Join(", ", Enum.GetNames<AlertKind>())}."];
        }
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var query = db.Alerts.AsNoTracking();
        if (wanted is { } w)
            query = query.Where(a => a.State == w);
        if (site is not null)
            query = query.Where(a => a.Site.Name == site);
        if (wantedKind is { } wk)
            query = query.Where(a => a.Kind == wk);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(a => a.OpenedAt).ThenByDescending(a => a.Id)
            .Skip(paging.Skip).Take(paging.Size)
            .Select(a => new AlertView(a.Id, a.Site.Name, a.Kind, a.State, a.Message, a.SessionId, a.Mac, a.Phase, a.CollectorId,
                a.OpenedAt, a.AcknowledgedAt, a.AcknowledgedBy, a.ResolvedAt)
            {
                Finding = a.Finding, Server = a.Server, Hint = a.Hint, DeviceCount = a.DeviceCount, LastSeenAt = a.LastSeenAt,
            })
            .ToListAsync(ct);
        return TypedResults.Ok(new Paged<AlertView>(items, paging.Page, paging.Size, total));
    }

    private static async Task<Results<Ok<AlertView>, NotFound, ProblemHttpResult>> Acknowledge(
        long id, HttpContext http, FleetDbContext db, TimeProvider clock, IHubContext<FleetHub, IFleetClient> hub, CancellationToken ct)
    {
        var alert = await db.Alerts.Include(a => a.Site).SingleOrDefaultAsync(a => a.Id == id, ct);
        if (alert is null)
            return TypedResults.NotFound();
        if (alert.State != AlertState.Open)
            return TypedResults.Problem($"The alert is {alert.State.ToString().ToLowerInvariant()}.", statusCode: StatusCodes.Status409Conflict);
        alert.State = AlertState.Acknowledged;
        alert.AcknowledgedAt = clock.GetUtcNow().UtcDateTime;
        alert.AcknowledgedBy = http.User.Identity?.Name ?? "anonymous";
        await db.SaveChangesAsync(ct);
        var message = ToMessage(alert, alert.Site.Name, null);
        await hub.Clients.Group(FleetHub.GroupFor(alert.Site.Name)).AlertChanged(message);
        return TypedResults.Ok(new AlertView(alert.Id, alert.Site.Name, alert.Kind, alert.State, alert.Message, alert.SessionId, alert.Mac,
            alert.Phase, alert.CollectorId, alert.OpenedAt, alert.AcknowledgedAt, alert.AcknowledgedBy, alert.ResolvedAt)
        {
            Finding = alert.Finding, Server = alert.Server, Hint = alert.Hint, DeviceCount = alert.DeviceCount, LastSeenAt = alert.LastSeenAt,
        });
    }

    public static AlertMessage ToMessage(Alert a, string site, string? collector) => new(
        a.Id, site, a.Kind.ToString(), a.State.ToString().ToLowerInvariant(), a.Message, a.SessionId, a.Mac, collector,
        FleetHub.Utc(a.OpenedAt), a.ResolvedAt is { } r ? FleetHub.Utc(r) : null)
    {
        Finding = a.Finding?.ToString(), Server = a.Server, Hint = a.Hint, DeviceCount = a.DeviceCount,
    };
}
