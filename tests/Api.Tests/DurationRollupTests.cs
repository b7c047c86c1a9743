using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PvsFleet.Api.Data;
using PvsFleet.Api.Ingest;
using PvsFleet.Api.Operations;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The rollups of the duration histogram (<see cref="DurationRollup"/>) on a real PostgreSQL: after ingest, the
/// maintenance pass, late corrections to closed days and retention they equal rollups made from scratch from a
/// histogram rebuilt from the stored durations, and the statistics read through them equal those of the
/// per-collector histogram alone.
/// </summary>
public sealed class DurationRollupTests(HistogramStatsPostgresApi api)
    : ApiTestBase<HistogramStatsPostgresApi>(api), IClassFixture<HistogramStatsPostgresApi>
{
    private sealed record DayRow(int Series, DateTime Day, int SiteId, int Bin, long Count, double? MaxMs);

    private sealed record HourRow(int Series, DateTime Hour, int Bin, long Count, double? MaxMs);

    private sealed record HistogramRow(int Series, DateTime Hour, int SiteId, int CollectorId, int Bin, long Count, double? MaxMs);

    private sealed record Rollups(DateTime Cutoff, List<DayRow> Days, List<HourRow> Hours, List<HistogramRow> Histogram);

    private static async Task<Rollups> ReadAsync(FleetDbContext db) => new(
        await DurationRollup.CutoffAsync(db),
        await db.Set<DurationDayRollupBin>().OrderBy(r => r.Series).ThenBy(r => r.Day).ThenBy(r => r.SiteId).ThenBy(r => r.Bin)
            .Select(r => new DayRow(r.Series, r.Day, r.SiteId, r.Bin, r.Count, r.MaxMs)).ToListAsync(),
        await db.Set<DurationHourRollupBin>().OrderBy(r => r.Series).ThenBy(r => r.Hour).ThenBy(r => r.Bin)
            .Select(r => new HourRow(r.Series, r.Hour, r.Bin, r.Count, r.MaxMs)).ToListAsync(),
        await db.Set<DurationHistogramBin>()
            .OrderBy(b => b.Series).ThenBy(b => b.Hour).ThenBy(b => b.SiteId).ThenBy(b => b.CollectorId).ThenBy(b => b.Bin)
            .Select(b => new HistogramRow(b.Series, b.Hour, b.SiteId, b.CollectorId, b.Bin, b.Count, b.MaxMs)).ToListAsync());

    // The kept rollups against rollups made from nothing, up to the same cut-off, from a histogram rebuilt from the
    // stored durations (in a transaction rolled back afterwards).
    private async Task AssertRollupsMatchRebuildAsync()
    {
        var kept = await Api.WithDbAsync(ReadAsync);
        var rebuilt = await Api.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlRawAsync(DurationBins.RebuildSql);
            Assert.Equal(DurationRollup.Beginning, await DurationRollup.CutoffAsync(db));
            Assert.Equal(0, await db.Set<DurationDayRollupBin>().CountAsync());
            await db.Database.SqlQuery<DateTime>(
                $"""SELECT pvsfleet_roll_up_durations({kept.Cutoff}, {DurationRollup.Series}) AS "Value" """).SingleAsync();
            var rows = await ReadAsync(db);
            await tx.RollbackAsync();
            return rows;
        });
        Assert.Equal(rebuilt.Cutoff, kept.Cutoff);
        Assert.Equal(rebuilt.Histogram, kept.Histogram);
        Assert.Equal(rebuilt.Days, kept.Days);
        Assert.Equal(rebuilt.Hours, kept.Hours);
    }

    // The statistics as answered with the rollups, against the same calls with the rollups emptied and the cut-off at
    // the beginning (the per-collector histogram alone: the path before the rollups); the rollups are then made again
    // up to the cut-off they had, and must come back equal.
    private async Task AssertStatisticsMatchPerCollectorPathAsync(HttpClient client, string[] urls)
    {
        var before = await Api.WithDbAsync(ReadAsync);
        Assert.True(before.Cutoff > DurationRollup.Beginning);
        var withRollups = new List<string>();
        foreach (var url in urls)
            withRollups.Add(await client.GetStringAsync(url));
        await Api.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(DurationRollup.ResetSql));
        for (var i = 0; i < urls.Length; i++)
            Assert.Equal(await client.GetStringAsync(urls[i]), withRollups[i]);
        await Api.WithDbAsync(db => db.Database.SqlQuery<DateTime>(
            $"""SELECT pvsfleet_roll_up_durations({before.Cutoff}, {DurationRollup.Series}) AS "Value" """).SingleAsync());
        var after = await Api.WithDbAsync(ReadAsync);
        Assert.Equal(before.Days, after.Days);
        Assert.Equal(before.Hours, after.Hours);
    }

    private Task<int> PassAsync(DateTimeOffset now, FleetOptions? options = null) => Api.WithDbAsync(async db =>
    {
        await HistoryMaintenance.PassAsync(db, options ?? new FleetOptions(), now.UtcDateTime, NullLogger.Instance, CancellationToken.None);
        return 0;
    });

    // The host's first maintenance pass rolls up to two hours ago at start-up: wait for it, then put the cut-off back,
    // so the test's own passes roll up hours that hold data (the reset is exact at any time: nothing is before the beginning).
    private async Task ResetRollupsAsync()
    {
        var started = DateTime.UtcNow;
        while (await Api.WithDbAsync(db => DurationRollup.CutoffAsync(db)) == DurationRollup.Beginning && DateTime.UtcNow - started < TimeSpan.FromSeconds(30))
            await Task.Delay(100);
        await Api.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(DurationRollup.ResetSql));
    }

    [SkippableFact]
    public async Task Passes_racing_the_ingest_of_the_hours_they_roll_up_keep_the_rollups_exact()
    {
        SkipIfUnavailable();
        var site = NewName("site");
        var clients = new List<HttpClient>();
        for (var i = 0; i < 3; i++)
            clients.Add((await NewCollectorAsync(site)).Client);
        await ResetRollupsAsync();
        var now = Api.Clock.GetUtcNow();
        var start = now.AddHours(-30);
        // Three collectors send boots of the last 30 hours, oldest first, while passes move the cut-off an hour at a
        // time behind them: a batch lands before, during or after the pass that rolls up its hours.
        var ingest = Task.WhenAll(clients.Select(async (client, c) =>
        {
            long seq = 1;
            for (var b = 0; b < 30; b++)
            {
                var events = new List<IngestEvent>();
                for (var i = 0; i < 8; i++)
                    events.AddRange(Boot.Booted(ref seq, NewMac(), start.AddHours(b).AddMinutes((i * 7) + c), 1 + (c * 0.37), 2 + (i * 0.11), 3, 4 + b));
                await IngestOkAsync(client, events);
            }
        }));
        var passes = Task.Run(async () =>
        {
            for (var h = 0; h <= 32; h++)
            {
                await Api.WithDbAsync(db => DurationRollup.RollUpAsync(db, start.AddHours(h).UtcDateTime + DurationRollup.Margin));
                await Task.Delay(60); // about the pace of the batches, an hour of boots each
            }
        });
        await Task.WhenAll(ingest, passes);
        Assert.Equal(DurationBins.Hour(start.AddHours(32).UtcDateTime), await Api.WithDbAsync(db => DurationRollup.CutoffAsync(db)));
        Assert.Equal(720, await Api.WithDbAsync(db => db.Sessions.CountAsync(s => db.Sites.Where(x => x.Name == site).Select(x => x.Id).Contains(s.SiteId))));
        await AssertRollupsMatchRebuildAsync();
    }

    [SkippableFact]
    public async Task A_pass_waits_for_a_batch_writing_the_hours_it_rolls_up()
    {
        SkipIfUnavailable();
        await NewCollectorAsync();
        await ResetRollupsAsync();
        var collectorId = await Api.WithDbAsync(db => db.Collectors.OrderByDescending(c => c.Id).Select(c => c.Id).FirstAsync());
        long seq = 1;
        var at = Api.Clock.GetUtcNow().AddHours(-5);
        var events = Boot.Booted(ref seq, NewMac(), at, 1, 2, 3, 4);
        // A batch written but not committed yet, then a pass over its hour: the pass must wait for the commit (the
        // cut-off row the batch holds FOR SHARE), else it sums the histogram without the batch, and the batch, having
        // read the old cut-off, leaves the rollups alone.
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            var batchDb = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
            await using var tx = await batchDb.Database.BeginTransactionAsync();
            var received = events.Select(e => new ReceivedEvent(e, JsonSerializer.SerializeToUtf8Bytes(e, ApiFactory.Json))).ToList();
            await PostgresIngestWriter.ApplyAsync(batchDb, new IngestSource(collectorId, Guid.Empty), received, Api.Clock.GetUtcNow().UtcDateTime, default);
            var pass = Task.Run(() => Api.WithDbAsync(db => DurationRollup.RollUpAsync(db, Api.Clock.GetUtcNow().UtcDateTime)));
            await Task.Delay(1000);
            Assert.False(pass.IsCompleted, "the pass did not wait for the batch");
            await tx.CommitAsync();
            await pass;
        }
        Assert.True(await Api.WithDbAsync(db => DurationRollup.CutoffAsync(db)) > at.UtcDateTime);
        Assert.True(await Api.WithDbAsync(db => db.Set<DurationHourRollupBin>().CountAsync()) > 0);
        await AssertRollupsMatchRebuildAsync();
    }

    [SkippableFact]
    public async Task Rollups_stay_exact_through_late_corrections_of_closed_days_and_retention()
    {
        SkipIfUnavailable();
        var (a, siteA) = await NewCollectorAsync();
        var (b, _) = await NewCollectorAsync();
        var (c, _) = await NewCollectorAsync(siteA); // a second collector of site A: the rollups sum collectors
        var now = Api.Clock.GetUtcNow(); // 2026-11-30 08:00
        await ResetRollupsAsync();
        await Api.WithDbAsync(db => PostgresPartitions.EnsureAsync(db, new DateTime(2026, 8, 1, 0, 0, 0, DateTimeKind.Utc), now.UtcDateTime));
        var random = new Random(1402);
        var first = new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);
        var seqs = new Dictionary<HttpClient, long> { [a] = 1, [b] = 1, [c] = 1 };
        // Boots from 1 August to an hour ago, spread over the three collectors; a few minutes apart on the last days,
        // so that the hours and days of the rollups hold several durations per bin.
        var batches = new Dictionary<HttpClient, List<IngestEvent>> { [a] = [], [b] = [], [c] = [] };
        for (var i = 0; i < 600; i++)
        {
            var client = i % 3 == 0 ? a : i % 3 == 1 ? b : c;
            var at = i < 300
                ? first.AddMinutes(random.Next(0, (int)(now - first).TotalMinutes - 60))
                : now.AddMinutes(-random.Next(60, 6 * 24 * 60));
            var seq = seqs[client];
            batches[client].AddRange(Boot.Booted(ref seq, NewMac(), at, Math.Round(1 + (random.NextDouble() * 5), 3),
                Math.Round(2 + (random.NextDouble() * 30), 3), Math.Round(0.5 + random.NextDouble(), 3), Math.Round(10 + (random.NextDouble() * 200), 3)));
            seqs[client] = seq;
        }
        foreach (var (client, events) in batches)
        {
            foreach (var chunk in events.Chunk(400))
                await IngestOkAsync(client, chunk);
        }

        // Boots a late correction will change, all in closed days, on collector A (its own sequence numbers).
        var closedDay = new DateTimeOffset(2026, 11, 27, 10, 30, 0, TimeSpan.Zero);
        var seqA = seqs[a];
        // 1. The longest boot of its day (a unique maximum), whose duration a later snapshot shortens.
        var slow = new Boot(NewMac(), closedDay);
        slow.Enter(seqA++, BootPhase.BootstrapDownload, closedDay.AddSeconds(2));
        slow.Enter(seqA++, BootPhase.PvsLogon, closedDay.AddSeconds(400));
        slow.Enter(seqA++, BootPhase.SingleReadMode, closedDay.AddSeconds(401));
        slow.Enter(seqA++, BootPhase.BniStack, closedDay.AddSeconds(900));
        // 2. A boot seen only to its download (the collector went away), completed by a spool replayed days later.
        var unfinished = new Boot(NewMac(), closedDay.AddHours(3));
        var unfinishedStart = unfinished.Started(seqA++);
        var unfinishedDownload = unfinished.Enter(seqA++, BootPhase.BootstrapDownload, closedDay.AddHours(3).AddSeconds(2));
        // 3. A boot whose start a later snapshot moves back across midnight, into the day before.
        var midnight = new DateTimeOffset(2026, 11, 26, 0, 0, 20, TimeSpan.Zero);
        var movedId = Guid.NewGuid();
        var movedMac = NewMac();
        var early = new Boot(movedMac, midnight, movedId);
        early.Enter(seqA++, BootPhase.BootstrapDownload, midnight.AddSeconds(3));
        early.Enter(seqA++, BootPhase.PvsLogon, midnight.AddSeconds(9));
        early.Enter(seqA++, BootPhase.SingleReadMode, midnight.AddSeconds(10));
        early.Enter(seqA++, BootPhase.BniStack, midnight.AddSeconds(50));
        await IngestOkAsync(a, [slow.End(seqA++, BootOutcome.Booted, closedDay.AddSeconds(900)), unfinishedStart, unfinishedDownload,
            early.End(seqA++, BootOutcome.Booted, midnight.AddSeconds(50))]);

        // The pass rolls up every hour that ended two hours or more ago: up to 06:00 today, 30 November (so today's
        // day rows hold its first six hours).
        await PassAsync(now);
        var today = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(today.AddHours(6), await Api.WithDbAsync(db => DurationRollup.CutoffAsync(db)));
        Assert.True(await Api.WithDbAsync(db => db.Set<DurationDayRollupBin>().CountAsync(r => r.Day == today)) > 0);
        var slowDay = new DateTime(2026, 11, 27, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(900_000d, await Api.WithDbAsync(db => db.Set<DurationDayRollupBin>()
            .Where(r => r.Series == DurationBins.WholeBoot && r.Day == slowDay).MaxAsync(r => r.MaxMs)));
        await AssertRollupsMatchRebuildAsync();

        var siteAId = await Api.WithDbAsync(db => db.Sites.Where(s => s.Name == siteA).Select(s => s.Id).SingleAsync());
        string[] urls =
        [
            "/api/v1/stats/boot-durations?from=2026-08-01T00:00:00Z&to=2026-11-30T08:00:00Z&bucket=day",
            $"/api/v1/stats/boot-durations?site={siteA}&from=2026-08-01T00:00:00Z&to=2026-11-30T08:00:00Z&bucket=day",
            // Not on midnights: the partial first day from the histogram's hours, the partial hours from the rows.
            "/api/v1/stats/boot-durations?from=2026-10-03T05:17:00Z&to=2026-11-30T07:45:00Z&bucket=day",
            // Ending before the cut-off on the cut-off's day: that day's row covers hours past the range, so not read.
            "/api/v1/stats/boot-durations?from=2026-11-02T00:00:00Z&to=2026-11-30T04:30:00Z&bucket=day",
            "/api/v1/stats/boot-durations?from=2026-11-25T00:00:00Z&to=2026-11-30T04:30:00Z&bucket=hour",
            "/api/v1/stats/boot-durations?from=2026-11-23T13:30:00Z&to=2026-11-30T07:45:00Z&bucket=hour",
            "/api/v1/stats/boot-durations?from=2026-11-23T13:30:00Z&to=2026-11-30T07:45:00Z&bucket=hour&phase=BootstrapDownload",
            $"/api/v1/stats/boot-durations?site={siteA}&from=2026-11-01T00:00:00Z&to=2026-11-30T08:00:00Z&bucket=day&phase=SingleReadMode",
        ];
        await AssertStatisticsMatchPerCollectorPathAsync(a, urls);

        // Late corrections to the closed days, after the pass: a shorter boot (its bin and the day's maximum change),
        // an unfinished boot completed (durations added), a start moved into the day before.
        var fast = new Boot(slow.Snapshot().Mac, closedDay, slow.Id);
        fast.Enter(seqA++, BootPhase.BootstrapDownload, closedDay.AddSeconds(2));
        fast.Enter(seqA++, BootPhase.PvsLogon, closedDay.AddSeconds(6));
        fast.Enter(seqA++, BootPhase.SingleReadMode, closedDay.AddSeconds(7));
        fast.Enter(seqA++, BootPhase.BniStack, closedDay.AddSeconds(40));
        var completedAt = closedDay.AddHours(3);
        unfinished.Enter(seqA++, BootPhase.PvsLogon, completedAt.AddSeconds(8));
        unfinished.Enter(seqA++, BootPhase.SingleReadMode, completedAt.AddSeconds(9));
        unfinished.Enter(seqA++, BootPhase.BniStack, completedAt.AddSeconds(47));
        var earlier = midnight.AddSeconds(-30);
        var moved = new Boot(movedMac, earlier, movedId);
        moved.Enter(seqA++, BootPhase.BootstrapDownload, earlier.AddSeconds(3));
        moved.Enter(seqA++, BootPhase.PvsLogon, earlier.AddSeconds(9));
        moved.Enter(seqA++, BootPhase.SingleReadMode, earlier.AddSeconds(10));
        moved.Enter(seqA++, BootPhase.BniStack, earlier.AddSeconds(33));
        await IngestOkAsync(a, [fast.End(seqA++, BootOutcome.Booted, closedDay.AddSeconds(40)),
            unfinished.End(seqA++, BootOutcome.Booted, completedAt.AddSeconds(47)), moved.End(seqA++, BootOutcome.Booted, earlier.AddSeconds(33))]);
        var slowDayMax = await Api.WithDbAsync(db => db.Set<DurationDayRollupBin>()
            .Where(r => r.Series == DurationBins.WholeBoot && r.Day == slowDay && r.SiteId == siteAId).MaxAsync(r => r.MaxMs));
        Assert.True(slowDayMax < 900_000, $"the day's maximum stayed {slowDayMax}");
        await AssertRollupsMatchRebuildAsync();
        await AssertStatisticsMatchPerCollectorPathAsync(a, urls);

        // Retention: 80 days before now is 11 September, so August goes (whole months), with its rollup rows.
        await PassAsync(now, new FleetOptions { EventRetentionDays = 80, SessionRetentionDays = 80 });
        var september = new DateTime(2026, 9, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(0, await Api.WithDbAsync(db => db.Set<DurationDayRollupBin>().CountAsync(r => r.Day < september)));
        Assert.Equal(0, await Api.WithDbAsync(db => db.Set<DurationHourRollupBin>().CountAsync(r => r.Hour < september)));
        Assert.True(await Api.WithDbAsync(db => db.Set<DurationDayRollupBin>().CountAsync(r => r.Day >= september)) > 0);
        await AssertRollupsMatchRebuildAsync();
        await AssertStatisticsMatchPerCollectorPathAsync(a, urls);

        // The next day's pass rolls up the rest of 30 November (adding to its day rows) and the night after.
        await PassAsync(now.AddDays(1));
        Assert.Equal(today.AddDays(1).AddHours(6), await Api.WithDbAsync(db => DurationRollup.CutoffAsync(db)));
        Assert.True(await Api.WithDbAsync(db => db.Set<DurationHourRollupBin>().CountAsync(r => r.Hour >= today.AddHours(6))) > 0);
        await AssertRollupsMatchRebuildAsync();
        await AssertStatisticsMatchPerCollectorPathAsync(a, urls);
    }
}
