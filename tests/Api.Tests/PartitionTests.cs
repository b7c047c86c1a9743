using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using PvsFleet.Api.Data;
using PvsFleet.Api.Operations;
using PvsFleet.Api.Queries;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The monthly partitions of the history on a real PostgreSQL: made ahead and only once, a stray timestamp kept,
/// retention dropping whole months with the statistics still those of what is left. The statistics come from the
/// duration histogram (<see cref="HistogramStatsPostgresApi"/>), so its retention is checked too.
/// </summary>
public sealed class PartitionTests(HistogramStatsPostgresApi api)
    : ApiTestBase<HistogramStatsPostgresApi>(api), IClassFixture<HistogramStatsPostgresApi>
{
    private static readonly string[] Tables = [.. PostgresSchema.PartitionedTables.Select(t => t.Table)];

    private Task<List<string>> PartitionsAsync(string table) => Api.WithDbAsync(db => db.Database.SqlQuery<string>($"""
        SELECT c.relname AS "Value" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass(format('%I', {table})) ORDER BY 1
        """).ToListAsync());

    // Which partition holds a session: the row's table, as PostgreSQL routed it.
    private Task<List<string>> SessionPartitionsAsync(Guid id) => Api.WithDbAsync(db => db.Database.SqlQuery<string>($"""
        SELECT tableoid::regclass::text AS "Value" FROM "Sessions" WHERE "Id" = {id}
        """).ToListAsync());

    [SkippableFact]
    public async Task Start_up_makes_the_month_before_this_one_and_two_ahead_and_making_them_again_changes_nothing()
    {
        SkipIfUnavailable();
        _ = Api.CreateClient(); // starts the host: the migration and the partitions of the clock's month (2026-11)
        foreach (var table in Tables)
        {
            var partitions = await PartitionsAsync(table);
            foreach (var month in new[] { "2026_10", "2026_11", "2026_12", "2027_01" })
                Assert.Contains($"{table}_{month}", partitions);
            Assert.Contains(table + PostgresSchema.DefaultSuffix, partitions);
        }
        Assert.Equal(0, await Api.WithDbAsync(db => PostgresPartitions.EnsureAheadAsync(db, Api.Clock.GetUtcNow().UtcDateTime)));

        // Two replicas making the same months at once: each partition is made by one of them, and neither fails.
        var from = new DateTime(2031, 1, 15, 0, 0, 0, DateTimeKind.Utc);
        var made = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            Api.WithDbAsync(db => PostgresPartitions.EnsureAsync(db, from, from.AddMonths(2))))));
        Assert.Equal(3 * Tables.Length, made.Sum());
        foreach (var table in Tables)
        {
            var partitions = await PartitionsAsync(table);
            Assert.Equal(3, partitions.Count(p => p.StartsWith(table + "_2031_", StringComparison.Ordinal)));
        }
        // The storage parameters of the model (the fill factor of sessions and phases) reach each month.
        var options = await Api.WithDbAsync(db => db.Database.SqlQuery<string>($"""
            SELECT coalesce(array_to_string(reloptions, ','), '') AS "Value" FROM pg_class WHERE relname = 'Sessions_2031_02'
            """).SingleAsync());
        Assert.Equal("fillfactor=70", options);
    }

    [SkippableFact]
    public async Task A_session_at_an_unusual_time_is_kept_and_moves_into_its_month_when_that_is_made()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        // A collector whose clock is years behind: no month partition covers it, the default partition takes it.
        var start = new DateTimeOffset(2005, 6, 1, 12, 0, 0, TimeSpan.Zero);
        long seq = 1;
        var mac = NewMac();
        var events = Boot.Booted(ref seq, mac, start, 2, 3, 1, 30);
        await IngestOkAsync(client, events);
        var id = await Api.WithDbAsync(db => db.Sessions.Where(s => s.Mac == mac).Select(s => s.Id).SingleAsync());
        Assert.Equal(["\"Sessions_default\""], await SessionPartitionsAsync(id));
        // Retention passes over it: its raw events were received just now, so they are kept for their window although
        // their event time is long past (a replayed old capture must not lose its events at the next pass).
        await Api.WithDbAsync(async db =>
        {
            await HistoryMaintenance.PassAsync(db, new FleetOptions(), Api.Clock.GetUtcNow().UtcDateTime, NullLogger.Instance, CancellationToken.None);
            return 0;
        });
        Assert.Equal(events.Count, await Api.WithDbAsync(db => db.Events.CountAsync(e => e.SessionId == id)));

        Assert.Equal(Tables.Length, await Api.WithDbAsync(db => PostgresPartitions.EnsureAsync(db, start.UtcDateTime, start.UtcDateTime)));
        Assert.Equal(["\"Sessions_2005_06\""], await SessionPartitionsAsync(id));
        var session = await Api.WithDbAsync(db => db.Sessions.AsNoTracking().SingleAsync(s => s.Id == id));
        Assert.Equal(36_000, session.DurationMs!.Value, 0.01);
        Assert.Equal(5, await Api.WithDbAsync(db => db.SessionPhases.CountAsync(p => p.SessionId == id)));
        Assert.Equal(events.Count, await Api.WithDbAsync(db => db.Events.CountAsync(e => e.SessionId == id)));
        // Sent again into the month partitions: still stored once.
        var again = await IngestOkAsync(client, events);
        Assert.Equal(events.Count, again.Duplicates);
        Assert.Equal(events.Count, await Api.WithDbAsync(db => db.Events.CountAsync(e => e.SessionId == id)));
    }

    [SkippableFact]
    public async Task A_snapshot_that_moves_the_start_into_another_month_moves_the_session()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        await Api.WithDbAsync(db => PostgresPartitions.EnsureAsync(db, new DateTime(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc), Api.Clock.GetUtcNow().UtcDateTime));
        var mac = NewMac();
        var id = Guid.NewGuid();
        var first = new Boot(mac, new DateTimeOffset(2026, 11, 1, 0, 0, 5, TimeSpan.Zero), id);
        await IngestOkAsync(client, [first.Started(1), first.Enter(2, BootPhase.BootstrapDownload, first.Snapshot().StartedAt.AddSeconds(2))]);
        Assert.Equal(["\"Sessions_2026_11\""], await SessionPartitionsAsync(id));

        // The collector corrects the start (it saw an earlier DISCOVER): the session now belongs to October.
        var moved = new Boot(mac, new DateTimeOffset(2026, 10, 31, 23, 59, 58, TimeSpan.Zero), id);
        var at = moved.Snapshot().StartedAt;
        await IngestOkAsync(client, [moved.Enter(3, BootPhase.BootstrapDownload, at.AddSeconds(9)), moved.Enter(4, BootPhase.PvsLogon, at.AddSeconds(12))]);
        Assert.Equal(["\"Sessions_2026_10\""], await SessionPartitionsAsync(id));
        var phases = await Api.WithDbAsync(db => db.SessionPhases.AsNoTracking().Where(p => p.SessionId == id).ToListAsync());
        Assert.Equal(3, phases.Count);
        Assert.All(phases, p => Assert.Equal(at.UtcDateTime, p.SessionStartedAt));
        await AssertHistogramMatchesRowsAsync();
    }

    [SkippableFact]
    public async Task Retention_drops_whole_months_and_the_statistics_are_those_of_what_is_left()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var now = Api.Clock.GetUtcNow(); // 2026-11-30 08:00
        await Api.WithDbAsync(db => PostgresPartitions.EnsureAsync(db, new DateTime(2026, 8, 1, 0, 0, 0, DateTimeKind.Utc), now.UtcDateTime));
        var random = new Random(14);
        long seq = 1;
        var events = new List<IngestEvent>();
        var starts = new List<DateTimeOffset>();
        // Boots from 1 August to the day before yesterday.
        var first = new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 240; i++)
        {
            var at = first.AddMinutes(random.Next(0, (int)(now.AddDays(-2) - first).TotalMinutes));
            starts.Add(at);
            events.AddRange(Boot.Booted(ref seq, NewMac(), at, Math.Round(1 + (random.NextDouble() * 5), 3),
                Math.Round(2 + (random.NextDouble() * 30), 3), Math.Round(0.5 + random.NextDouble(), 3), Math.Round(10 + (random.NextDouble() * 200), 3)));
        }
        foreach (var chunk in events.Chunk(500))
            await IngestOkAsync(client, chunk);
        var siteId = await Api.WithDbAsync(db => db.Sites.Where(x => x.Name == site).Select(x => x.Id).SingleAsync());
        var september = new DateTime(2026, 9, 1, 0, 0, 0, DateTimeKind.Utc);
        var august = starts.Count(t => t < september);
        Assert.True(august > 0);
        Assert.Equal(august, await Api.WithDbAsync(db => db.Sessions.CountAsync(s => s.SiteId == siteId && s.StartedAt < september)));

        // 80 days before now is 11 September: August is wholly outside the window and goes; September is only partly
        // outside, and stays whole until October 1st is 80 days ago.
        var options = new FleetOptions { EventRetentionDays = 80, SessionRetentionDays = 80 };
        await Api.WithDbAsync(async db =>
        {
            await HistoryMaintenance.PassAsync(db, options, now.UtcDateTime, NullLogger.Instance, CancellationToken.None);
            return 0;
        });
        foreach (var table in Tables)
        {
            var partitions = await PartitionsAsync(table);
            Assert.DoesNotContain($"{table}_2026_08", partitions);
            Assert.Contains($"{table}_2026_09", partitions);
        }
        Assert.Equal(0, await Api.WithDbAsync(db => db.Sessions.CountAsync(s => s.StartedAt < september)));
        Assert.Equal(0, await Api.WithDbAsync(db => db.SessionPhases.CountAsync(p => p.SessionStartedAt < september)));
        Assert.Equal(0, await Api.WithDbAsync(db => db.Events.CountAsync(e => e.Timestamp < september)));
        Assert.Equal(0, await Api.WithDbAsync(db => db.Set<DurationHistogramBin>().CountAsync(h => h.Hour < september)));
        Assert.True(await Api.WithDbAsync(db => db.Sessions.CountAsync(s => s.SiteId == siteId && s.StartedAt < new DateTime(2026, 9, 11, 0, 0, 0, DateTimeKind.Utc))) > 0);

        // The statistics over the whole period, from the histogram, against the durations left in the table.
        await AssertHistogramMatchesRowsAsync();
        var left = await Api.WithDbAsync(db => db.Sessions.AsNoTracking().Where(s => s.SiteId == siteId && s.DurationMs != null)
            .Select(s => new { s.StartedAt, s.DurationMs }).ToListAsync());
        Assert.Equal(240 - august, left.Count);
        var stats = await client.GetFromJsonAsync<BootDurationStats>(
            $"/api/v1/stats/boot-durations?site={site}&from=2026-07-01T00:00:00Z&to=2026-11-30T00:00:00Z&bucket=day", ApiFactory.Json);
        AssertClose(left.Select(s => s.DurationMs!.Value), stats!.Overall);
        Assert.DoesNotContain(stats.Buckets, b => b.Start < september && b.Stats.Count > 0);
        foreach (var bucket in stats.Buckets)
            AssertClose(left.Where(s => s.StartedAt >= bucket.Start && s.StartedAt < bucket.Start.AddDays(1)).Select(s => s.DurationMs!.Value), bucket.Stats);
        var phase = await client.GetFromJsonAsync<BootDurationStats>(
            $"/api/v1/stats/boot-durations?site={site}&from=2026-07-01T00:00:00Z&to=2026-11-30T00:00:00Z&bucket=day&phase=BootstrapDownload", ApiFactory.Json);
        var downloads = await Api.WithDbAsync(db => db.SessionPhases.AsNoTracking()
            .Where(p => p.SiteId == siteId && p.Phase == BootPhase.BootstrapDownload && p.DurationMs != null).Select(p => p.DurationMs!.Value).ToListAsync());
        AssertClose(downloads, phase!.Overall);
    }

    private sealed record Row(int Series, DateTime Hour, int SiteId, int CollectorId, int Bin, long Count, double? MaxMs);

    private async Task AssertHistogramMatchesRowsAsync()
    {
        static IQueryable<Row> Rows(FleetDbContext db) => db.Set<DurationHistogramBin>()
            .OrderBy(b => b.Series).ThenBy(b => b.Hour).ThenBy(b => b.SiteId).ThenBy(b => b.CollectorId).ThenBy(b => b.Bin)
            .Select(b => new Row(b.Series, b.Hour, b.SiteId, b.CollectorId, b.Bin, b.Count, b.MaxMs));
        var kept = await Api.WithDbAsync(db => Rows(db).ToListAsync());
        var rebuilt = await Api.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlRawAsync(DurationBins.RebuildSql);
            var rows = await Rows(db).ToListAsync();
            await tx.RollbackAsync();
            return rows;
        });
        Assert.Equal(rebuilt, kept);
    }

    private static void AssertClose(IEnumerable<double> values, DurationStats s)
    {
        var sorted = values.Order().ToArray();
        Assert.Equal(sorted.Length, s.Count);
        if (sorted.Length == 0)
            return;
        Assert.Equal(sorted[^1], s.MaxMs!.Value, 2);
        foreach (var (q, value) in new[] { (0.5, s.P50Ms), (0.9, s.P90Ms), (0.99, s.P99Ms) })
        {
            var exact = StatsApi.Percentile(sorted, q);
            Assert.True(Math.Abs(value!.Value - exact) <= (exact * DurationBins.RelativeError) + 0.01,
                $"p{q * 100}: {value} vs exact {exact} (n = {sorted.Length})");
        }
    }
}
