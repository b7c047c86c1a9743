using System.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using PvsFleet.Api.Data;
using PvsFleet.Api.Security;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using static PvsFleet.Api.Data.PostgresCommands;

namespace PvsFleet.Api.Queries;

public static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stats").WithTags("Statistics").RequireAuthorization(AuthSetup.ReaderPolicy);

        api.MapGet("/boot-durations", BootDurations)
            .WithSummary("count, p50, p90, p99 and max of boot (or one phase's) durations, overall and per hour|day bucket.");
        api.MapGet("/slowest-devices", SlowestDevices).WithSummary("Devices with the longest average boot in the range.");
        api.MapGet("/breakdown", Breakdowns.GetAsync)
            .WithSummary("Outcomes, retries and boot and phase durations (p50, p90, p99) per PVS login server, streaming server, TFTP server, DHCP server, boot file or firmware.");
        api.MapGet("/capacity", Capacity.GetAsync)
            .WithSummary("Concurrent boots per phase per site and PVS server against the farm's limits, the storm's peak, and time-to-boot by concurrency.");

        return app;
    }

    public static async Task<Results<Ok<BootDurationStats>, ValidationProblem>> BootDurations(
        FleetDbContext db, TimeProvider clock, IOptions<FleetOptions> options, string? site, DateTimeOffset? from, DateTimeOffset? to, string? bucket,
        BootPhase? phase, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var bucketName = (bucket ?? "hour").ToLowerInvariant();
        if (bucketName is not ("hour" or "day"))
            errors["bucket"] = ["hour or day."];
        var end = (to ?? clock.GetUtcNow()).UtcDateTime;
        var start = from?.UtcDateTime ?? end.AddDays(-7);
        if (start >= end)
            errors["from"] = ["from is before to."];
        else if (bucketName == "hour" && end - start > TimeSpan.FromDays(92))
            errors["bucket"] = ["Hourly buckets cover at most 92 days; use bucket=day."];
        if (phase is { } p && !Enum.IsDefined(p))
            errors["phase"] = ["Unknown phase."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        int? siteId = null;
        if (site is not null)
        {
            siteId = await db.Sites.Where(s => s.Name == site).Select(s => (int?)s.Id).SingleOrDefaultAsync(ct);
            if (siteId is null)
                return TypedResults.Ok(new BootDurationStats(site, start, end, bucketName, phase, DurationStats.Empty, []));
        }

        var rows = db.IsPostgres
            ? await HistogramRowsAsync(db, siteId, start, end, bucketName, phase, options.Value.Stats.ExactUpTo, ct)
              ?? await PostgresRowsAsync(db, siteId, start, end, bucketName, phase, ct)
            : await InMemoryRowsAsync(db, siteId, start, end, bucketName, phase, ct);
        var overall = rows.SingleOrDefault(r => r.Bucket is null);
        return TypedResults.Ok(new BootDurationStats(site, start, end, bucketName, phase,
            overall is null ? DurationStats.Empty : overall.ToStats(),
            [.. rows.Where(r => r.Bucket is not null).OrderBy(r => r.Bucket).Select(r => new BucketStats(DateTime.SpecifyKind(r.Bucket!.Value, DateTimeKind.Utc), r.ToStats()))]));
    }

    /// <summary>One row of the statistics query: a bucket, or the overall figures when <see cref="Bucket"/> is null.</summary>
    public sealed class StatsRow
    {
        public DateTime? Bucket { get; set; }
        public long Count { get; set; }
        public double? P50 { get; set; }
        public double? P90 { get; set; }
        public double? P99 { get; set; }
        public double? Max { get; set; }

        public DurationStats ToStats() => new(Count, P50, P90, P99, Max);
    }

    /// <summary>
    /// The statistics from the duration histogram (<see cref="DurationHistogramBin"/>): the whole hours of the range
    /// from its rows (the closed days from its rollups, <see cref="DurationRollup"/>, where one answers the query), the
    /// partial hours at either end from the durations themselves, binned the same way. Null when
    /// the range holds at most <paramref name="exactUpTo"/> durations, or less than one whole hour: then the exact
    /// query answers. Count and max are exact; a percentile is the midpoint of the bin holding its rank (capped by
    /// the bin's max), interpolated between ranks as <c>percentile_cont</c> does: within 0.79 % of the exact value.
    /// </summary>
    private static async Task<List<StatsRow>?> HistogramRowsAsync(
        FleetDbContext db, int? siteId, DateTime from, DateTime to, string bucket, BootPhase? phase, long exactUpTo, CancellationToken ct)
    {
        var firstHour = DurationBins.Hour(from) == from ? from : DurationBins.Hour(from).AddHours(1);
        var endHour = DurationBins.Hour(to);
        if (firstHour >= endHour)
            return null;

        var series = phase is { } p ? (int)p : DurationBins.WholeBoot;
        await db.Database.OpenConnectionAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        try
        {
            // One snapshot (repeatable read) for the cut-off, the rollups and the histogram: a maintenance pass or a
            // batch committing between the reads cannot count a duration twice or not at all.
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            DateTime cutoff;
            await using (var opening = new NpgsqlBatch(connection, transaction))
            {
                // No JIT for these reads: at estate scale their cost estimate passes jit_above_cost, and compiling them
                // (inlining, optimisation) took 0.9 s of an hourly 7-day query that runs in 0.5 s without it, 2.2 s of a
                // daily 30-day one (EXPLAIN ANALYZE on 8.8M sessions, see README). SET LOCAL keeps it to this transaction,
                // so the pooled connection goes back unchanged.
                opening.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL jit = off"));
                opening.BatchCommands.Add(new NpgsqlBatchCommand($"""
                    SELECT "RolledUpTo" FROM "DurationRollupCutoff" WHERE "Id" = {DurationRollup.CutoffId}
                    """));
                cutoff = DateTime.SpecifyKind((DateTime)(await opening.ExecuteScalarAsync(ct))!, DateTimeKind.Utc);
            }

            // Hash maps while reading (hourly buckets over a month are ~100,000 rows); each bucket is sorted once at the end.
            var bins = new Dictionary<DateTime, Dictionary<int, (long Count, double Max)>>();
            void Add(DateTime b, int bin, long count, double max)
            {
                if (!bins.TryGetValue(b, out var h))
                    bins[b] = h = [];
                var (c, m) = h.GetValueOrDefault(bin, (0, double.MinValue));
                h[bin] = (c + count, Math.Max(m, max));
            }

            await using var batch = new NpgsqlBatch(connection, transaction);
            var site = siteId is null ? "" : """ AND "SiteId" = $4""";
            NpgsqlBatchCommand Read(string sql, DateTime rangeFrom, DateTime rangeTo) =>
                Command(sql, P(series), P(rangeFrom), P(rangeTo), P(siteId ?? 0), P(bucket));

            // Daily buckets are summed in the database (a month is a few thousand groups). Hourly ones are not: a month of
            // hours is ~100,000 (hour, bin) groups, more than a default work_mem hashes without spilling to disk, while
            // the rows themselves are no more than that per collector: they are summed here.
            var histogram = bucket == "day"
                ? $"""
                  SELECT date_trunc($5, "Hour" AT TIME ZONE 'UTC'), "Bin", sum("Count")::bigint, max("MaxMs")
                  FROM "DurationHistogram"
                  WHERE "Series" = $1 AND "Hour" >= $2 AND "Hour" < $3 AND "Count" > 0{site}
                  GROUP BY 1, 2
                  """
                : $"""
                  SELECT "Hour", "Bin", "Count", "MaxMs"
                  FROM "DurationHistogram"
                  WHERE "Series" = $1 AND "Hour" >= $2 AND "Hour" < $3 AND "Count" > 0{site}
                  """;
            // The closed hours before the cut-off from a rollup (DurationRollup) when one answers the query: per site and
            // day for daily buckets, per hour of all sites for hourly ones; the open tail (and the partial day at the
            // range's start) from the histogram. The sums are the same, so the statistics are the old path's exactly.
            var (rollFrom, rollTo) = bucket == "day"
                ? (DurationRollup.DayOf(firstHour) == firstHour ? firstHour : DurationRollup.DayOf(firstHour).AddDays(1),
                   DurationRollup.DailyEnd(cutoff, endHour))
                : siteId is null ? (firstHour, Min(endHour, cutoff)) : (endHour, endHour);
            if (rollFrom < rollTo)
            {
                batch.BatchCommands.Add(Read(bucket == "day"
                    ? $"""
                      SELECT "Day", "Bin", sum("Count")::bigint, max("MaxMs")
                      FROM "DurationRollupDay"
                      WHERE "Series" = $1 AND "Day" >= $2 AND "Day" < $3 AND "Count" > 0{site}
                      GROUP BY 1, 2
                      """
                    : """
                      SELECT "Hour", "Bin", "Count", "MaxMs"
                      FROM "DurationRollupHour"
                      WHERE "Series" = $1 AND "Hour" >= $2 AND "Hour" < $3 AND "Count" > 0
                      """, rollFrom, rollTo));
                if (firstHour < rollFrom)
                {
                    batch.BatchCommands.Add(Read(histogram, firstHour, rollFrom));
                }
                if (rollTo < endHour)
                {
                    batch.BatchCommands.Add(Read(histogram, rollTo, endHour));
                }
            }
            else
            {
                batch.BatchCommands.Add(Read(histogram, firstHour, endHour));
            }
            var reads = batch.BatchCommands.Count;

            var (table, time) = phase is null ? ("\"Sessions\"", "\"StartedAt\"") : ("\"SessionPhases\"", "\"SessionStartedAt\"");
            var phaseFilter = phase is null ? "" : """ AND "Phase" = $1""";
            batch.BatchCommands.Add(Command($"""
                SELECT {time}, "DurationMs" FROM {table}
                WHERE "DurationMs" IS NOT NULL{phaseFilter}{site}
                  AND (({time} >= $2 AND {time} < $3) OR ({time} >= $6 AND {time} < $7))
                """, P(series), P(from), P(firstHour), P(siteId ?? 0), P(bucket), P(endHour), P(to)));

            long total = 0;
            await using (var r = await batch.ExecuteReaderAsync(ct))
            {
                for (var read = 0; read < reads; read++)
                {
                    while (await r.ReadAsync(ct))
                    {
                        var count = r.GetInt64(2);
                        total += count;
                        Add(DateTime.SpecifyKind(r.GetDateTime(0), DateTimeKind.Utc), r.GetInt32(1), count, r.GetDouble(3));
                    }
                    await r.NextResultAsync(ct);
                }
                while (await r.ReadAsync(ct))
                {
                    var ms = r.GetDouble(1);
                    total++;
                    Add(Truncate(r.GetDateTime(0), bucket), DurationBins.Of(ms), 1, ms);
                }
            }
            if (total <= exactUpTo)
                return null;

            var overall = new Dictionary<int, (long Count, double Max)>();
            var rows = new List<StatsRow>(bins.Count + 1);
            foreach (var (b, h) in bins)
            {
                rows.Add(FromBins(b, h));
                foreach (var (bin, (count, max)) in h)
                {
                    var (c, m) = overall.GetValueOrDefault(bin, (0, double.MinValue));
                    overall[bin] = (c + count, Math.Max(m, max));
                }
            }
            rows.Add(FromBins(null, overall));
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static StatsRow FromBins(DateTime? bucket, Dictionary<int, (long Count, double Max)> bins)
    {
        var bounds = bins.Select(kv => (kv.Key, kv.Value.Count, kv.Value.Max)).ToArray();
        Array.Sort(bounds, (a, b) => a.Key.CompareTo(b.Key));
        var n = bounds.Sum(x => x.Count);
        return new StatsRow
        {
            Bucket = bucket, Count = n, Max = bounds[^1].Max,
            P50 = Percentile(0.5), P90 = Percentile(0.9), P99 = Percentile(0.99),
        };

        double Percentile(double fraction)
        {
            var position = fraction * (n - 1);
            var lower = (long)Math.Floor(position);
            var upper = (long)Math.Ceiling(position);
            var a = AtRank(lower);
            return a + ((AtRank(upper) - a) * (position - lower));
        }

        double AtRank(long rank)
        {
            long seen = 0;
            foreach (var (bin, count, max) in bounds)
            {
                seen += count;
                if (rank < seen)
                    return rank == n - 1 ? max : DurationBins.Estimate(bin, max);
            }
            return bounds[^1].Max;
        }
    }

    // The database sorts once per group; only the bucket rows travel, never the durations.
    private static async Task<List<StatsRow>> PostgresRowsAsync(
        FleetDbContext db, int? siteId, DateTime from, DateTime to, string bucket, BootPhase? phase, CancellationToken ct)
    {
        var parameters = new List<NpgsqlParameter>
        {
            new("unit", bucket), new("from", from), new("to", to),
        };
        string source;
        if (phase is { } p)
        {
            parameters.Add(new NpgsqlParameter("phase", (int)p));
            source = """
                SELECT "SessionStartedAt" AS t, "DurationMs" AS d FROM "SessionPhases"
                WHERE "Phase" = @phase AND "DurationMs" IS NOT NULL AND "SessionStartedAt" >= @from AND "SessionStartedAt" < @to
                """;
        }
        else
        {
            source = """
                SELECT "StartedAt" AS t, "DurationMs" AS d FROM "Sessions"
                WHERE "DurationMs" IS NOT NULL AND "StartedAt" >= @from AND "StartedAt" < @to
                """;
        }
        if (siteId is { } s)
        {
            parameters.Add(new NpgsqlParameter("site", s));
            source += """ AND "SiteId" = @site""";
        }
        var sql = $"""
            SELECT x.b AS "Bucket", count(*) AS "Count",
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY x.d) AS "P50",
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY x.d) AS "P90",
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY x.d) AS "P99",
                   max(x.d) AS "Max"
            FROM (SELECT date_trunc(@unit, (t AT TIME ZONE 'UTC')) AS b, d FROM ({source}) AS src) AS x
            GROUP BY GROUPING SETS ((x.b), ())
            """;
        return await db.Database.SqlQueryRaw<StatsRow>(sql, [.. parameters]).ToListAsync(ct);
    }

    // SQLite has no percentile function: read the durations of the range and compute the same interpolation.
    private static async Task<List<StatsRow>> InMemoryRowsAsync(
        FleetDbContext db, int? siteId, DateTime from, DateTime to, string bucket, BootPhase? phase, CancellationToken ct)
    {
        List<(DateTime At, double Ms)> values;
        if (phase is { } p)
        {
            var q = db.SessionPhases.AsNoTracking()
                .Where(x => x.Phase == p && x.DurationMs != null && x.SessionStartedAt >= from && x.SessionStartedAt < to);
            if (siteId is { } s)
                q = q.Where(x => x.SiteId == s);
            values = [.. (await q.Select(x => new { x.SessionStartedAt, x.DurationMs }).ToListAsync(ct)).Select(x => (x.SessionStartedAt, x.DurationMs!.Value))];
        }
        else
        {
            var q = db.Sessions.AsNoTracking().Where(x => x.DurationMs != null && x.StartedAt >= from && x.StartedAt < to);
            if (siteId is { } s)
                q = q.Where(x => x.SiteId == s);
            values = [.. (await q.Select(x => new { x.StartedAt, x.DurationMs }).ToListAsync(ct)).Select(x => (x.StartedAt, x.DurationMs!.Value))];
        }

        var rows = new List<StatsRow>();
        if (values.Count == 0)
            return rows;
        rows.Add(Row(null, values.Select(v => v.Ms)));
        foreach (var g in values.GroupBy(v => Truncate(v.At, bucket)))
            rows.Add(Row(g.Key, g.Select(v => v.Ms)));
        return rows;

        static StatsRow Row(DateTime? bucket, IEnumerable<double> durations)
        {
            var sorted = durations.Order().ToArray();
            return new StatsRow
            {
                Bucket = bucket, Count = sorted.Length,
                P50 = Percentile(sorted, 0.5), P90 = Percentile(sorted, 0.9), P99 = Percentile(sorted, 0.99), Max = sorted[^1],
            };
        }
    }

    private static DateTime Truncate(DateTime t, string bucket) => bucket == "day"
        ? new DateTime(t.Year, t.Month, t.Day, 0, 0, 0, DateTimeKind.Utc)
        : new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Utc);

    /// <summary>Linear interpolation between the closest ranks, exactly as PostgreSQL's <c>percentile_cont</c>.</summary>
    public static double Percentile(double[] sorted, double fraction)
    {
        var position = fraction * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = (int)Math.Ceiling(position);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }

    private static async Task<Results<Ok<List<SlowDevice>>, ValidationProblem>> SlowestDevices(
        FleetDbContext db, TimeProvider clock, string? site, DateTimeOffset? from, DateTimeOffset? to, int? limit, CancellationToken ct)
    {
        var take = limit ?? 20;
        if (take is < 1 or > 500)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["Between 1 and 500."] });
        var end = (to ?? clock.GetUtcNow()).UtcDateTime;
        var start = from?.UtcDateTime ?? end.AddDays(-7);
        var q = db.Sessions.AsNoTracking().Where(s => s.DurationMs != null && s.StartedAt >= start && s.StartedAt < end);
        if (site is not null)
            q = q.Where(s => db.Sites.Where(x => x.Name == site).Select(x => x.Id).Contains(s.SiteId));
        var rows = await q.GroupBy(s => s.DeviceId)
            .Select(g => new { DeviceId = g.Key, Sessions = g.Count(), Average = g.Average(s => s.DurationMs!.Value), Max = g.Max(s => s.DurationMs!.Value) })
            .OrderByDescending(x => x.Average).Take(take)
            .Join(db.Devices, x => x.DeviceId, d => d.Id, (x, d) => new SlowDevice(d.Mac, d.HostName, x.Sessions, x.Average, x.Max))
            .ToListAsync(ct);
        return TypedResults.Ok(rows);
    }
}
