using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Data;
using PvsFleet.Api.Ingest;
using PvsFleet.Api.Security;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Queries;

public static class FleetQueries
{
    public static IEndpointRouteBuilder MapFleetQueries(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Fleet").RequireAuthorization(AuthSetup.ReaderPolicy);

        api.MapGet("/sites", Sites).WithSummary("Sites with live device counts per phase.");
        api.MapGet("/devices", Devices).WithSummary("Devices, filtered by site, current phase and outcome, or MAC/host/IP text (q).");
        api.MapGet("/devices/{mac}", Device).WithSummary("One device with its latest sessions.");
        api.MapGet("/sessions", Sessions).WithSummary("Sessions by site and start time, newest first.");
        api.MapGet("/sessions/{id:guid}", Session).WithSummary("One session's phases and event timeline.");
        api.MapGet("/sessions/export.csv", ExportCsv).WithSummary("Sessions as CSV (site, from, to).");

        return app;
    }

    /// <summary>Boots per minute are counted over this window.</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(5);

    private static async Task<Ok<List<SiteView>>> Sites(FleetDbContext db, TimeProvider clock, Microsoft.Extensions.Options.IOptions<FleetOptions> options, CancellationToken ct)
    {
        var silentBefore = clock.GetUtcNow().UtcDateTime - options.Value.Alerts.CollectorSilentAfter;
        var sites = await db.Sites.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        var devices = await db.Devices.AsNoTracking().GroupBy(d => d.SiteId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var live = await db.Devices.AsNoTracking()
            .Where(d => d.CurrentOutcome == BootOutcome.InProgress || d.CurrentOutcome == BootOutcome.Stuck)
            .GroupBy(d => new { d.SiteId, d.CurrentPhase, d.CurrentOutcome })
            .Select(g => new { g.Key.SiteId, g.Key.CurrentPhase, g.Key.CurrentOutcome, Count = g.Count() })
            .ToListAsync(ct);
        var collectors = await db.Collectors.AsNoTracking().Where(c => c.RevokedAt == null)
            .Select(c => new { c.SiteId, c.LastSeenAt }).ToListAsync(ct);
        var recentFrom = clock.GetUtcNow().UtcDateTime - RateWindow;
        var recent = await db.Sessions.AsNoTracking().Where(x => x.StartedAt >= recentFrom)
            .GroupBy(x => x.SiteId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var alerts = await db.Alerts.AsNoTracking().Where(a => a.State != AlertState.Resolved)
            .GroupBy(a => a.SiteId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);

        return TypedResults.Ok(sites.Select(s => new SiteView(
            s.Name,
            collectors.Count(c => c.SiteId == s.Id),
            collectors.Count(c => c.SiteId == s.Id && c.LastSeenAt < silentBefore),
            devices.GetValueOrDefault(s.Id),
            Enum.GetValues<BootPhase>().ToDictionary(p => p,
                p => live.Where(l => l.SiteId == s.Id && l.CurrentPhase == p).Sum(l => l.Count)),
            live.Where(l => l.SiteId == s.Id && l.CurrentOutcome == BootOutcome.Stuck).Sum(l => l.Count),
            alerts.GetValueOrDefault(s.Id),
            recent.GetValueOrDefault(s.Id) / RateWindow.TotalMinutes)).ToList());
    }

    private static async Task<Results<Ok<Paged<DeviceView>>, ValidationProblem>> Devices(
        FleetDbContext db, string? site, BootPhase? phase, BootOutcome? outcome, string? q, string? sort, string? dir, int? page, int? pageSize,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = Paging.Check(page, pageSize, errors);
        var order = DeviceOrder.Mac;
        if (sort is not null && !Enum.TryParse(sort, ignoreCase: true, out order))
            errors["sort"] = ["One of mac, phase, duration, retries, seen."];
        var descending = string.Equals(dir, "desc", StringComparison.OrdinalIgnoreCase);
        if (dir is not null && !descending && !string.Equals(dir, "asc", StringComparison.OrdinalIgnoreCase))
            errors["dir"] = ["asc or desc."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var query = db.Devices.AsNoTracking();
        if (site is not null)
            query = query.Where(d => d.Site.Name == site);
        if (phase is { } p)
            query = query.Where(d => d.CurrentPhase == p);
        if (outcome is { } o)
            query = query.Where(d => d.CurrentOutcome == o);
        if (!string.IsNullOrWhiteSpace(q))
        {
            var text = q.Trim().ToLowerInvariant();
            var pattern = "%" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
                .Replace("_", "\\_", StringComparison.Ordinal) + "%";
            var macPattern = pattern.Replace('-', ':');
            query = query.Where(d => EF.Functions.Like(d.Mac, macPattern, "\\") || EF.Functions.Like(d.LastIp ?? "", pattern, "\\")
                || EF.Functions.Like((d.HostName ?? "").ToLower(), pattern, "\\"));
        }
        var total = await query.CountAsync(ct);
        var rows = from d in query
                   join s in db.Sessions on d.LastSessionId equals s.Id into latest
                   from s in latest.DefaultIfEmpty()
                   select new DeviceWithSession { Device = d, EndedAt = s == null ? null : s.EndedAt, Retries = s == null ? 0 : s.TotalRetries, DurationMs = s == null ? null : s.DurationMs };
        var items = await Sorted(rows, order, descending).Skip(paging.Skip).Take(paging.Size)
            .Select(r => new DeviceView(r.Device.Mac, r.Device.Site.Name, r.Device.LastIp, r.Device.HostName, r.Device.Firmware,
                r.Device.FirstSeenAt, r.Device.LastSeenAt, r.Device.LastSessionId, r.Device.CurrentPhase, r.Device.CurrentOutcome,
                r.Device.LastSessionStartedAt, r.EndedAt, r.Retries))
            .ToListAsync(ct);
        return TypedResults.Ok(new Paged<DeviceView>(items, paging.Page, paging.Size, total));
    }

    private enum DeviceOrder
    {
        Mac,
        Phase,
        Duration,
        Retries,
        Seen,
    }

    // A class with settable members rather than a positional record: EF translates members of a member-init
    // projection in the operators after it, not constructor arguments.
    private sealed class DeviceWithSession
    {
        public required Device Device { get; init; }
        public DateTime? EndedAt { get; init; }
        public int Retries { get; init; }
        public double? DurationMs { get; init; }
    }

    // The MAC breaks ties, so a row does not move between pages from one request to the next.
    private static IQueryable<DeviceWithSession> Sorted(IQueryable<DeviceWithSession> rows, DeviceOrder order, bool descending) => (order, descending) switch
    {
        (DeviceOrder.Phase, false) => rows.OrderBy(r => r.Device.CurrentPhase).ThenBy(r => r.Device.Mac),
        (DeviceOrder.Phase, true) => rows.OrderByDescending(r => r.Device.CurrentPhase).ThenBy(r => r.Device.Mac),
        (DeviceOrder.Retries, false) => rows.OrderBy(r => r.Retries).ThenBy(r => r.Device.Mac),
        (DeviceOrder.Retries, true) => rows.OrderByDescending(r => r.Retries).ThenBy(r => r.Device.Mac),
        (DeviceOrder.Seen, false) => rows.OrderBy(r => r.Device.LastSeenAt).ThenBy(r => r.Device.Mac),
        (DeviceOrder.Seen, true) => rows.OrderByDescending(r => r.Device.LastSeenAt).ThenBy(r => r.Device.Mac),
        // Durations are not stored for running boots (they grow with the clock), and date arithmetic differs between
        // the providers: longest first means the boots still running, oldest start first, then the finished ones by
        // their stored duration.
        (DeviceOrder.Duration, true) => rows.OrderBy(r => r.EndedAt == null ? 0 : 1)
            .ThenBy(r => r.EndedAt == null ? r.Device.LastSessionStartedAt : null).ThenByDescending(r => r.DurationMs).ThenBy(r => r.Device.Mac),
        (DeviceOrder.Duration, false) => rows.OrderBy(r => r.EndedAt == null ? 1 : 0)
            .ThenBy(r => r.DurationMs).ThenByDescending(r => r.EndedAt == null ? r.Device.LastSessionStartedAt : null).ThenBy(r => r.Device.Mac),
        (_, true) => rows.OrderByDescending(r => r.Device.Mac),
        _ => rows.OrderBy(r => r.Device.Mac),
    };

    private static async Task<Results<Ok<DeviceDetail>, NotFound, ValidationProblem>> Device(string mac, FleetDbContext db, CancellationToken ct)
    {
        if (!Macs.TryNormalize(mac, out var normalized))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["mac"] = ["A MAC address looks like 52:54:00:00:00:01."] });
        // The latest session is looked up by its start too: that names its month, so PostgreSQL reads one partition.
        var device = await db.Devices.AsNoTracking().Where(d => d.Mac == normalized)
            .Select(d => new
            {
                d.Id,
                View = new DeviceView(d.Mac, d.Site.Name, d.LastIp, d.HostName, d.Firmware, d.FirstSeenAt, d.LastSeenAt,
                    d.LastSessionId, d.CurrentPhase, d.CurrentOutcome, d.LastSessionStartedAt,
                    db.Sessions.Where(s => s.Id == d.LastSessionId && s.StartedAt == d.LastSessionStartedAt).Select(s => s.EndedAt).FirstOrDefault(),
                    db.Sessions.Where(s => s.Id == d.LastSessionId && s.StartedAt == d.LastSessionStartedAt).Select(s => s.TotalRetries).FirstOrDefault()),
            })
            .SingleOrDefaultAsync(ct);
        if (device is null)
            return TypedResults.NotFound();
        // By device id, which the (DeviceId, StartedAt) index serves newest first in each month; the MAC is not indexed
        // on sessions, and at estate scale a filter on it read every partition.
        var sessions = await db.Sessions.AsNoTracking().Where(s => s.DeviceId == device.Id)
            .OrderByDescending(s => s.StartedAt).Take(100).Select(ToView).ToListAsync(ct);
        return TypedResults.Ok(new DeviceDetail(device.View, sessions));
    }

    private static async Task<Results<Ok<Paged<SessionView>>, ValidationProblem>> Sessions(
        FleetDbContext db, string? site, DateTimeOffset? from, DateTimeOffset? to, BootOutcome? outcome, int? page, int? pageSize, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var paging = Paging.Check(page, pageSize, errors);
        if (from > to)
            errors["from"] = ["from is before to."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var query = Filter(db, site, from, to);
        if (outcome is { } o)
            query = query.Where(s => s.Outcome == o);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(s => s.StartedAt).ThenBy(s => s.Id).Skip(paging.Skip).Take(paging.Size)
            .Select(ToView).ToListAsync(ct);
        return TypedResults.Ok(new Paged<SessionView>(items, paging.Page, paging.Size, total));
    }

    private static async Task<Results<Ok<SessionDetail>, NotFound>> Session(Guid id, FleetDbContext db, CancellationToken ct)
    {
        var session = await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, ct);
        if (session is null)
            return TypedResults.NotFound();
        var phases = await db.SessionPhases.AsNoTracking().Where(p => p.SessionId == id).OrderBy(p => p.Phase).ToListAsync(ct);
        var site = await db.Sites.AsNoTracking().Where(s => s.Id == session.SiteId).Select(s => s.Name).SingleAsync(ct);
        var timeline = await db.Events.AsNoTracking().Where(e => e.SessionId == id)
            .OrderBy(e => e.Timestamp).ThenBy(e => e.Sequence)
            .Select(e => new TimelineEntry(e.Sequence, e.Type, e.Timestamp, e.Payload)).ToListAsync(ct);
        var (evidence, evidenceRequestedAt) = await Evidence.EvidenceApi.OfSessionAsync(db, id, ct);
        return TypedResults.Ok(new SessionDetail(
            ToViewCompiled(session), site,
            [.. phases.Select(p => new PhaseView(p.Phase, p.StartedAt, p.EndedAt, p.DurationMs, p.Retries))],
            timeline, evidence, evidenceRequestedAt));
    }

    private static async Task ExportCsv(HttpContext http, FleetDbContext db, string? site, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"sessions.csv\"";
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(false));
        await writer.WriteLineAsync("session_id,site,mac,ip,host_name,firmware,boot_file,phase,outcome,started_at,ended_at,duration_ms,retries,dhcp_server,tftp_server,pvs_server");
        var rows = Filter(db, site, from, to).OrderBy(s => s.StartedAt)
            .Select(s => new { View = s, Site = db.Sites.Where(x => x.Id == s.SiteId).Select(x => x.Name).First() })
            .AsAsyncEnumerable();
        await foreach (var r in rows.WithCancellation(ct))
        {
            var s = r.View;
            await writer.WriteLineAsync(string.Join(',',
                s.Id.ToString(), Csv(r.Site), s.Mac, Csv(s.Ip), Csv(s.HostName), s.Firmware.ToString(), Csv(s.BootFile),
                s.Phase.ToString(), s.Outcome.ToString(), Iso(s.StartedAt), s.EndedAt is { } e ? Iso(e) : "",
                s.DurationMs?.ToString("0.###", CultureInfo.InvariantCulture) ?? "", s.TotalRetries.ToString(CultureInfo.InvariantCulture),
                Csv(s.DhcpServer), Csv(s.TftpServer), Csv(s.PvsServer)));
        }
    }

    private static IQueryable<StoredSession> Filter(FleetDbContext db, string? site, DateTimeOffset? from, DateTimeOffset? to)
    {
        var query = db.Sessions.AsNoTracking();
        if (site is not null)
        {
            var siteId = db.Sites.Where(s => s.Name == site).Select(s => s.Id);
            query = query.Where(s => siteId.Contains(s.SiteId));
        }
        if (from is { } f)
        {
            var fu = f.UtcDateTime;
            query = query.Where(s => s.StartedAt >= fu);
        }
        if (to is { } t)
        {
            var tu = t.UtcDateTime;
            query = query.Where(s => s.StartedAt < tu);
        }
        return query;
    }

    private static readonly System.Linq.Expressions.Expression<Func<StoredSession, SessionView>> ToView = s => new SessionView(
        s.Id, s.Mac, s.Ip, s.HostName, s.Firmware, s.BootFile, s.Phase, s.Outcome, s.StartedAt, s.EndedAt, s.DurationMs,
        s.TotalRetries, s.DhcpServer, s.TftpServer, s.PvsServer);

    private static readonly Func<StoredSession, SessionView> ToViewCompiled = ToView.Compile();

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    // Quote what could hold a comma or quote; a leading =,+,-,@ is defused for spreadsheet users.
    private static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        if (value[0] is '=' or '+' or '-' or '@')
            value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
