using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;
using PvsFleet.Api.Security;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using static System.FormattableString;

namespace PvsFleet.Api.Queries;

/// <summary>
/// What needs an admin now: stuck, failed, looping and slow boots and silent collectors, per site, longest waiting
/// first. Read from the devices' latest-session columns and the recent sessions, so it stays cheap at 100,000 devices.
/// </summary>
public static class AttentionApi
{
    /// <summary>This many sessions in <see cref="LoopWindow"/> without one reaching BNIStack is a boot loop.</summary>
    public const int LoopSessions = 3;
    public static readonly TimeSpan LoopWindow = TimeSpan.FromMinutes(30);
    /// <summary>A boot of the last <see cref="SlowWindow"/> at least this many times the site's median is slow.</summary>
    public const double SlowFactor = 2.0;
    public static readonly TimeSpan SlowWindow = TimeSpan.FromHours(1);
    /// <summary>Longest list returned: a site with a thousand stuck devices has one problem, not a thousand to read.</summary>
    public const int MaxItems = 500;

    public static IEndpointRouteBuilder MapAttentionApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Fleet").RequireAuthorization(AuthSetup.ReaderPolicy)
            .MapGet("/attention", Attention)
            .WithSummary("Stuck, failed, looping and slow boots and silent collectors, longest waiting first (site optional).");
        return app;
    }

    private static async Task<Ok<List<AttentionItem>>> Attention(FleetDbContext db, TimeProvider clock, IOptions<FleetOptions> options,
        string? site, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var sites = await db.Sites.AsNoTracking().ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        int? siteId = site is null ? null : sites.FirstOrDefault(s => string.Equals(s.Value, site, StringComparison.OrdinalIgnoreCase)).Key;
        if (site is not null && siteId == 0)
            return TypedResults.Ok(new List<AttentionItem>());
        var items = new List<AttentionItem>();

        var devices = db.Devices.AsNoTracking().Where(d => siteId == null || d.SiteId == siteId);
        var bad = await (from d in devices.Where(d => d.CurrentOutcome == BootOutcome.Stuck || d.CurrentOutcome == BootOutcome.Failed)
                         join s in db.Sessions on d.LastSessionId equals s.Id
                         orderby d.LastSessionStartedAt
                         select new { d.SiteId, d.Mac, d.HostName, s.Id, s.Outcome, s.Phase, s.StartedAt, s.PhaseStartedAt, s.TotalRetries })
            .Take(MaxItems).ToListAsync(ct);
        foreach (var b in bad)
        {
            items.Add(b.Outcome == BootOutcome.Stuck
                ? new AttentionItem(sites[b.SiteId], AttentionKind.Stuck, b.StartedAt,
                    Invariant($"No progress in {Phase(b.Phase)} since {b.PhaseStartedAt:HH:mm:ss} UTC"), b.Mac, b.HostName, b.Phase, b.Id)
                : new AttentionItem(sites[b.SiteId], AttentionKind.Failed, b.StartedAt,
                    Invariant($"Failed in {Phase(b.Phase)}") + (b.TotalRetries > 0 ? Invariant($" after {b.TotalRetries} retries") : ""), b.Mac, b.HostName, b.Phase, b.Id));
        }

        var loopFrom = now - LoopWindow;
        var recent = db.Sessions.AsNoTracking().Where(s => s.StartedAt >= loopFrom && (siteId == null || s.SiteId == siteId));
        var loops = await recent.GroupBy(s => new { s.DeviceId, s.SiteId, s.Mac })
            .Where(g => g.Count() >= LoopSessions && g.Count(s => s.Outcome == BootOutcome.Booted) == 0)
            .Select(g => new { g.Key.SiteId, g.Key.Mac, Count = g.Count(), First = g.Min(s => s.StartedAt) })
            .OrderBy(g => g.First).Take(MaxItems).ToListAsync(ct);
        foreach (var l in loops)
        {
            items.Add(new AttentionItem(sites[l.SiteId], AttentionKind.Looping, l.First,
                Invariant($"{l.Count} boots in {LoopWindow.TotalMinutes:0} min, none reached BNIStack"), l.Mac));
        }

        // Slow: against the site's own median of the last day, so a site with slow storage is not flagged all day long.
        var slowFrom = now - SlowWindow;
        var dayFrom = now - TimeSpan.FromDays(1);
        var booted = await db.Sessions.AsNoTracking()
            .Where(s => s.StartedAt >= dayFrom && s.Outcome == BootOutcome.Booted && s.DurationMs != null && (siteId == null || s.SiteId == siteId))
            .OrderByDescending(s => s.StartedAt).Take(20_000)
            .Select(s => new { s.Id, s.SiteId, s.Mac, s.HostName, s.StartedAt, DurationMs = s.DurationMs!.Value })
            .ToListAsync(ct);
        foreach (var perSite in booted.GroupBy(s => s.SiteId))
        {
            var durations = perSite.Select(s => s.DurationMs).Order().ToList();
            if (durations.Count < 5)
                continue;
            var median = durations[durations.Count / 2];
            foreach (var s in perSite.Where(s => s.StartedAt >= slowFrom && s.DurationMs >= SlowFactor * median).OrderByDescending(s => s.DurationMs).Take(50))
            {
                items.Add(new AttentionItem(sites[s.SiteId], AttentionKind.Slow, s.StartedAt,
                    Invariant($"Booted in {s.DurationMs / 1000:0} s, the site's median is {median / 1000:0} s"), s.Mac, s.HostName, BootPhase.BniStack, s.Id));
            }
        }

        var silentBefore = now - options.Value.Alerts.CollectorSilentAfter;
        var silent = await db.Collectors.AsNoTracking()
            .Where(c => c.RevokedAt == null && c.LastSeenAt != null && c.LastSeenAt < silentBefore && (siteId == null || c.SiteId == siteId))
            .Select(c => new { c.Id, c.Name, c.SiteId, LastSeenAt = c.LastSeenAt!.Value }).ToListAsync(ct);
        foreach (var c in silent)
        {
            items.Add(new AttentionItem(sites[c.SiteId], AttentionKind.CollectorSilent, c.LastSeenAt,
                Invariant($"Collector {c.Name} sent nothing since {c.LastSeenAt:HH:mm:ss} UTC"), CollectorId: c.Id, Collector: c.Name));
        }

        return TypedResults.Ok(items.OrderBy(i => i.Since).ThenBy(i => i.Kind).Take(MaxItems).ToList());
    }

    private static string Phase(BootPhase phase) => phase switch
    {
        BootPhase.IpAcquisition => "IP acquisition",
        BootPhase.BootstrapDownload => "the bootstrap download",
        BootPhase.PvsLogon => "the PVS logon",
        BootPhase.SingleReadMode => "single read mode",
        _ => "BNIStack",
    };
}
