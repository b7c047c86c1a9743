using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using PvsFleet.Api.Data;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Queries;

/// <summary>
/// Boot and phase durations, outcomes and retries per PVS login server, streaming server, TFTP server, DHCP server, boot
/// file or firmware. PostgreSQL computes the percentiles (<c>percentile_cont</c>, exact) in two grouped queries over the
/// range's sessions and their phases; SQLite reads the range's durations and interpolates the same way.
/// </summary>
public static class Breakdowns
{
    /// <summary>The longest range one breakdown covers: the percentiles are exact, so every duration in it is sorted.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(92);

    public static async Task<Results<Ok<ServerBreakdown>, ValidationProblem>> GetAsync(
        FleetDbContext db, TimeProvider clock, IOptions<FleetOptions> options, string? by, string? site, DateTimeOffset? from,
        DateTimeOffset? to, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        BreakdownBy group = default;
        if (string.IsNullOrWhiteSpace(by))
            errors["by"] = [$"Required: one of {Names}."];
        else if (!Enum.TryParse(by, ignoreCase: true, out group) || !Enum.IsDefined(group) || int.TryParse(by, out _))
            errors["by"] = [$"One of {Names}."];
        var end = (to ?? clock.GetUtcNow()).UtcDateTime;
        var start = from?.UtcDateTime ?? end.AddDays(-7);
        if (start >= end)
            errors["from"] = ["from is before to."];
        else if (end - start > MaxRange)
            errors["from"] = [$"A breakdown covers at most {MaxRange.TotalDays:0} days."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var stats = options.Value.Stats;
        int? siteId = null;
        if (site is not null)
        {
            siteId = await db.Sites.Where(s => s.Name == site).Select(s => (int?)s.Id).SingleOrDefaultAsync(ct);
            if (siteId is null)
                return TypedResults.Ok(new ServerBreakdown(group, site, start, end, stats.BreakdownMinBoots, stats.BreakdownSlowFactor, []));
        }

        var (sessions, phases) = db.IsPostgres
            ? await PostgresRowsAsync(db, group, siteId, start, end, ct)
            : await InMemoryRowsAsync(db, group, siteId, start, end, ct);
        var groups = Assemble(sessions, phases, stats.BreakdownMinBoots, group);
        return TypedResults.Ok(new ServerBreakdown(group, site, start, end, stats.BreakdownMinBoots, stats.BreakdownSlowFactor, groups));
    }

    private static readonly string AllPhases = string.Join(", ", Enum.GetValues<BootPhase>().Select(p => ((int)p).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static readonly string Names = string.Join(", ", Enum.GetNames<BreakdownBy>().Select(n => char.ToLowerInvariant(n[0]) + n[1..]));

    /// <summary>One group's sessions: counts per outcome, retries, and the boot durations' statistics.</summary>
    public sealed class SessionRow
    {
        public string? Key { get; set; }
        public long Boots { get; set; }
        public long Booted { get; set; }
        public long Failed { get; set; }
        public long Stuck { get; set; }
        public long InProgress { get; set; }
        public long Retries { get; set; }
        public long Count { get; set; }
        public double? P50 { get; set; }
        public double? P90 { get; set; }
        public double? P99 { get; set; }
        public double? Max { get; set; }
    }

    /// <summary>One phase of one group: the durations of the phase where it ended, and its retries.</summary>
    public sealed class PhaseRow
    {
        public string? Key { get; set; }
        public int Phase { get; set; }
        public long Retries { get; set; }
        public long Count { get; set; }
        public double? P50 { get; set; }
        public double? P90 { get; set; }
        public double? P99 { get; set; }
        public double? Max { get; set; }
    }

    // A fixed list, never the caller's text: the grouping column goes into the SQL as it is.
    private static string Column(BreakdownBy by) => by switch
    {
        BreakdownBy.PvsServer => "\"PvsServer\"",
        BreakdownBy.StreamServer => "\"StreamServer\"",
        BreakdownBy.TftpServer => "\"TftpServer\"",
        BreakdownBy.DhcpServer => "\"DhcpServer\"",
        BreakdownBy.BootFile => "\"BootFile\"",
        BreakdownBy.Firmware => "\"Firmware\"::text",
        _ => throw new ArgumentOutOfRangeException(nameof(by)),
    };

    private static async Task<(List<SessionRow>, List<PhaseRow>)> PostgresRowsAsync(
        FleetDbContext db, BreakdownBy by, int? siteId, DateTime from, DateTime to, CancellationToken ct)
    {
        // The (StartedAt, SiteId) index bounds the sessions, the (Phase, SessionStartedAt, SiteId) index their phases.
        var site = siteId is null ? "" : """ AND s."SiteId" = @site""";
        // The phases carry the session's start and site: bounding them too lets the planner read both tables by range
        // (the phases' index leads with the phase, hence the list of all five) and hash-join them, instead of one
        // primary-key probe per session.
        var phaseSite = siteId is null ? "" : """ AND p."SiteId" = @site""";
        var key = "s." + Column(by);
        NpgsqlParameter[] Parameters()
        {
            List<NpgsqlParameter> list =
            [
                new("from", from), new("to", to),
                new NpgsqlParameter<int>("booted", (int)BootOutcome.Booted), new NpgsqlParameter<int>("failed", (int)BootOutcome.Failed),
                new NpgsqlParameter<int>("stuck", (int)BootOutcome.Stuck), new NpgsqlParameter<int>("progress", (int)BootOutcome.InProgress),
            ];
            if (siteId is { } id)
                list.Add(new("site", id));
            return [.. list];
        }
        var sessionsSql = $"""
            SELECT {key} AS "Key", count(*) AS "Boots",
                   count(*) FILTER (WHERE s."Outcome" = @booted) AS "Booted",
                   count(*) FILTER (WHERE s."Outcome" = @failed) AS "Failed",
                   count(*) FILTER (WHERE s."Outcome" = @stuck) AS "Stuck",
                   count(*) FILTER (WHERE s."Outcome" = @progress) AS "InProgress",
                   coalesce(sum(s."TotalRetries"), 0)::bigint AS "Retries",
                   count(s."DurationMs") AS "Count",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY s."DurationMs") AS "P50",
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY s."DurationMs") AS "P90",
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY s."DurationMs") AS "P99",
                   max(s."DurationMs") AS "Max"
            FROM "Sessions" s
            WHERE s."StartedAt" >= @from AND s."StartedAt" < @to{site}
            GROUP BY 1
            """;
        var phasesSql = $"""
            SELECT {key} AS "Key", p."Phase" AS "Phase", coalesce(sum(p."Retries"), 0)::bigint AS "Retries",
                   count(p."DurationMs") AS "Count",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY p."DurationMs") AS "P50",
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY p."DurationMs") AS "P90",
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY p."DurationMs") AS "P99",
                   max(p."DurationMs") AS "Max"
            FROM "Sessions" s JOIN "SessionPhases" p ON p."SessionId" = s."Id"
            WHERE s."StartedAt" >= @from AND s."StartedAt" < @to{site}
              AND p."Phase" IN ({AllPhases}) AND p."SessionStartedAt" >= @from AND p."SessionStartedAt" < @to{phaseSite}
            GROUP BY 1, 2
            """;
        var sessions = await db.Database.SqlQueryRaw<SessionRow>(sessionsSql, Parameters()).ToListAsync(ct);
        var phases = await db.Database.SqlQueryRaw<PhaseRow>(phasesSql, Parameters()).ToListAsync(ct);
        return (sessions, phases);
    }

    // SQLite has no percentile function: read the range's sessions and phases and compute what PostgreSQL does.
    private static async Task<(List<SessionRow>, List<PhaseRow>)> InMemoryRowsAsync(
        FleetDbContext db, BreakdownBy by, int? siteId, DateTime from, DateTime to, CancellationToken ct)
    {
        var q = db.Sessions.AsNoTracking().Where(s => s.StartedAt >= from && s.StartedAt < to);
        if (siteId is { } id)
            q = q.Where(s => s.SiteId == id);
        var sessions = await q.Select(s => new
        {
            s.Id, s.PvsServer, s.StreamServer, s.TftpServer, s.DhcpServer, s.BootFile, s.Firmware, s.Outcome, s.TotalRetries, s.DurationMs,
        }).ToListAsync(ct);
        var phases = await q.Join(db.SessionPhases, s => s.Id, p => p.SessionId, (s, p) => new { p.SessionId, p.Phase, p.Retries, p.DurationMs })
            .ToListAsync(ct);

        var keys = sessions.ToDictionary(s => s.Id, s => by switch
        {
            BreakdownBy.PvsServer => s.PvsServer,
            BreakdownBy.StreamServer => s.StreamServer,
            BreakdownBy.TftpServer => s.TftpServer,
            BreakdownBy.DhcpServer => s.DhcpServer,
            BreakdownBy.BootFile => s.BootFile,
            _ => ((int)s.Firmware).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var sessionRows = sessions.GroupBy(s => keys[s.Id]).Select(g =>
        {
            var (count, p50, p90, p99, max) = Stats(g.Select(s => s.DurationMs));
            return new SessionRow
            {
                Key = g.Key, Boots = g.Count(), Booted = g.Count(s => s.Outcome == BootOutcome.Booted),
                Failed = g.Count(s => s.Outcome == BootOutcome.Failed), Stuck = g.Count(s => s.Outcome == BootOutcome.Stuck),
                InProgress = g.Count(s => s.Outcome == BootOutcome.InProgress), Retries = g.Sum(s => (long)s.TotalRetries),
                Count = count, P50 = p50, P90 = p90, P99 = p99, Max = max,
            };
        }).ToList();
        var phaseRows = phases.GroupBy(p => (Key: keys[p.SessionId], p.Phase)).Select(g =>
        {
            var (count, p50, p90, p99, max) = Stats(g.Select(p => p.DurationMs));
            return new PhaseRow
            {
                Key = g.Key.Key, Phase = (int)g.Key.Phase, Retries = g.Sum(p => (long)p.Retries),
                Count = count, P50 = p50, P90 = p90, P99 = p99, Max = max,
            };
        }).ToList();
        return (sessionRows, phaseRows);

        static (long, double?, double?, double?, double?) Stats(IEnumerable<double?> durations)
        {
            var sorted = durations.OfType<double>().Order().ToArray();
            return sorted.Length == 0
                ? (0, null, null, null, null)
                : (sorted.Length, StatsApi.Percentile(sorted, 0.5), StatsApi.Percentile(sorted, 0.9), StatsApi.Percentile(sorted, 0.99), sorted[^1]);
        }
    }

    /// <summary>
    /// The groups, most boots first, each compared with the fastest comparable group (enough boots, a median): the boot as a
    /// whole and each phase on its own, so "logon on pvs02 takes 4× longer than on pvs01" shows even when the whole boot
    /// hides it.
    /// </summary>
    internal static List<BreakdownGroup> Assemble(List<SessionRow> sessions, List<PhaseRow> phases, int minBoots, BreakdownBy by)
    {
        // Sessions that did not name the server are no server to compare with (in the demo: the lab captures, whose
        // local TFTP took milliseconds, were the "fastest" and made every real server look slow).
        bool Comparable(SessionRow s) => s.Boots >= minBoots && s.Key is not null;
        var comparable = sessions.Where(Comparable).Select(s => s.Key).ToHashSet();
        var bestBoot = sessions.Where(s => Comparable(s) && s.P50 > 0).Select(s => s.P50!.Value).DefaultIfEmpty().Min();
        var bestPhase = phases.Where(p => comparable.Contains(p.Key) && p.P50 > 0)
            .GroupBy(p => p.Phase).ToDictionary(g => g.Key, g => g.Min(p => p.P50!.Value));

        return [.. sessions.OrderByDescending(s => s.Boots).ThenBy(s => s.Key, StringComparer.Ordinal).Select(s =>
        {
            var isComparable = Comparable(s);
            var own = phases.Where(p => p.Key == s.Key).OrderBy(p => p.Phase).Select(p => new PhaseBreakdown(
                (BootPhase)p.Phase, new DurationStats(p.Count, p.P50, p.P90, p.P99, p.Max), p.Retries,
                isComparable ? Ratio(p.P50, bestPhase.GetValueOrDefault(p.Phase)) : null)).ToList();
            return new BreakdownGroup(Label(s.Key, by), s.Boots, s.Booted, s.Failed, s.Stuck, s.InProgress, s.Retries,
                new DurationStats(s.Count, s.P50, s.P90, s.P99, s.Max), isComparable ? Ratio(s.P50, bestBoot) : null, isComparable, own);
        })];

        static double? Ratio(double? value, double best) => value is { } v && best > 0 ? v / best : null;
    }

    private static string? Label(string? key, BreakdownBy by) =>
        by == BreakdownBy.Firmware && int.TryParse(key, System.Globalization.CultureInfo.InvariantCulture, out var n) ? ((Firmware)n).ToString() : key;
}
