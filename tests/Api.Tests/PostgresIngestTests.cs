using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PvsFleet.Api.Data;
using PvsFleet.Api.Ingest;
using PvsFleet.Api.Queries;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The set-based PostgreSQL writer and the duration histogram it keeps, against a real PostgreSQL: the histogram must
/// always equal one rebuilt from the stored durations, whatever order, repetition or correction the batches bring.
/// </summary>
public sealed class PostgresIngestTests(HistogramStatsPostgresApi api)
    : ApiTestBase<HistogramStatsPostgresApi>(api), IClassFixture<HistogramStatsPostgresApi>
{
    private sealed record Row(int Series, DateTime Hour, int SiteId, int CollectorId, int Bin, long Count, double? MaxMs);

    private Task<List<Row>> HistogramAsync() => Api.WithDbAsync(db => db.Set<DurationHistogramBin>()
        .OrderBy(b => b.Series).ThenBy(b => b.Hour).ThenBy(b => b.SiteId).ThenBy(b => b.CollectorId).ThenBy(b => b.Bin)
        .Select(b => new Row(b.Series, b.Hour, b.SiteId, b.CollectorId, b.Bin, b.Count, b.MaxMs)).ToListAsync());

    // Rebuilds the histogram from the rows inside a transaction that is rolled back, and compares with the kept one.
    private async Task AssertHistogramMatchesRowsAsync()
    {
        var kept = await HistogramAsync();
        var rebuilt = await Api.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlRawAsync(DurationBins.RebuildSql);
            var rows = await db.Set<DurationHistogramBin>()
                .OrderBy(b => b.Series).ThenBy(b => b.Hour).ThenBy(b => b.SiteId).ThenBy(b => b.CollectorId).ThenBy(b => b.Bin)
                .Select(b => new Row(b.Series, b.Hour, b.SiteId, b.CollectorId, b.Bin, b.Count, b.MaxMs)).ToListAsync();
            await tx.RollbackAsync();
            return rows;
        });
        Assert.Equal(rebuilt, kept);
    }

    [SkippableFact]
    public async Task Resent_batch_changes_no_row_and_no_histogram_count()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        long seq = 1;
        var events = new List<IngestEvent>();
        for (var i = 0; i < 5; i++)
            events.AddRange(Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-30 + i), 1 + i, 2, 3, 4));
        await IngestOkAsync(client, events);
        var histogram = await HistogramAsync();
        var sessions = await Api.WithDbAsync(db => db.Sessions.AsNoTracking().OrderBy(s => s.Id).ToListAsync());

        var again = await IngestOkAsync(client, events);
        Assert.Equal(0, again.Accepted);
        Assert.Equal(events.Count, again.Duplicates);
        Assert.Equal(histogram, await HistogramAsync());
        var after = await Api.WithDbAsync(db => db.Sessions.AsNoTracking().OrderBy(s => s.Id).ToListAsync());
        Assert.Equal(sessions.Select(s => (s.Id, s.LastSequence, s.UpdatedAt)), after.Select(s => (s.Id, s.LastSequence, s.UpdatedAt)));
        await AssertHistogramMatchesRowsAsync();
    }

    [SkippableFact]
    public async Task A_phase_row_is_written_again_only_when_it_changed()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        // Ticks below a microsecond: PostgreSQL keeps microseconds, and the comparison must not see those as a change.
        var start = Api.Clock.GetUtcNow().AddMinutes(-20).AddTicks(7);
        var boot = new Boot(NewMac(), start);
        await IngestOkAsync(client, [boot.Started(1), boot.Enter(2, BootPhase.BootstrapDownload, start.AddSeconds(2).AddTicks(3))]);
        var ipBefore = await RowVersionAsync(boot.Id, BootPhase.IpAcquisition);
        var downloadBefore = await RowVersionAsync(boot.Id, BootPhase.BootstrapDownload);

        // The next snapshot repeats IP acquisition unchanged and ends the download.
        await IngestOkAsync(client, [boot.Enter(3, BootPhase.PvsLogon, start.AddSeconds(5))]);

        Assert.Equal(ipBefore, await RowVersionAsync(boot.Id, BootPhase.IpAcquisition));
        Assert.NotEqual(downloadBefore, await RowVersionAsync(boot.Id, BootPhase.BootstrapDownload));
        Assert.Equal(3, await Api.WithDbAsync(db => db.SessionPhases.CountAsync(p => p.SessionId == boot.Id)));
        var download = await Api.WithDbAsync(db => db.SessionPhases
            .Where(p => p.SessionId == boot.Id && p.Phase == BootPhase.BootstrapDownload).Select(p => p.DurationMs).SingleAsync());
        Assert.Equal(3_000, download!.Value, 0.01);
    }

    // The transaction that last wrote the row.
    private Task<string> RowVersionAsync(Guid session, BootPhase phase) => Api.WithDbAsync(db => db.Database
        .SqlQuery<string>($"""SELECT xmin::text AS "Value" FROM "SessionPhases" WHERE "SessionId" = {session} AND "Phase" = {(int)phase}""")
        .SingleAsync());

    [SkippableFact]
    public async Task Older_snapshot_does_not_overwrite_newer_session_phases_or_device()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var start = Api.Clock.GetUtcNow().AddMinutes(-20);
        var mac = NewMac();
        var boot = new Boot(mac, start) { HostName = "VDA-01" };
        var started = boot.Started(1);
        var download = boot.Enter(2, BootPhase.BootstrapDownload, start.AddSeconds(2));
        boot.Enter(3, BootPhase.PvsLogon, start.AddSeconds(5));
        boot.Enter(4, BootPhase.SingleReadMode, start.AddSeconds(6));
        var bni = boot.Enter(5, BootPhase.BniStack, start.AddSeconds(40));
        var ended = boot.End(6, BootOutcome.Booted, start.AddSeconds(40));

        // The newest first, in one batch with an old one behind it; then the old ones alone.
        await IngestOkAsync(client, [ended, download]);
        await IngestOkAsync(client, [started, bni]);
        var session = await Api.WithDbAsync(db => db.Sessions.AsNoTracking().SingleAsync(s => s.Id == boot.Id));
        var phases = await Api.WithDbAsync(db => db.SessionPhases.AsNoTracking().Where(p => p.SessionId == boot.Id).ToListAsync());
        Assert.Equal(6, session.LastSequence);
        Assert.Equal(BootOutcome.Booted, session.Outcome);
        Assert.Equal(BootPhase.BniStack, session.Phase);
        Assert.Equal(40_000, session.DurationMs);
        Assert.Equal(5, phases.Count);
        Assert.Equal(3_000, phases.Single(p => p.Phase == BootPhase.BootstrapDownload).DurationMs);
        var device = await Api.WithDbAsync(db => db.Devices.AsNoTracking().SingleAsync(d => d.Mac == mac));
        Assert.Equal(BootOutcome.Booted, device.CurrentOutcome);
        Assert.Equal(boot.Id, device.LastSessionId);
        Assert.Equal("VDA-01", device.HostName);
        await AssertHistogramMatchesRowsAsync();
    }

    [SkippableFact]
    public async Task Corrected_durations_move_between_bins_and_hours()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var start = new DateTimeOffset(2026, 11, 30, 6, 59, 50, TimeSpan.Zero);
        var id = Guid.NewGuid();
        var mac = NewMac();
        var first = new Boot(mac, start, id);
        first.Enter(1, BootPhase.BootstrapDownload, start.AddSeconds(3));
        first.Enter(2, BootPhase.PvsLogon, start.AddSeconds(9));
        first.Enter(3, BootPhase.SingleReadMode, start.AddSeconds(10));
        first.Enter(4, BootPhase.BniStack, start.AddSeconds(70));
        await IngestOkAsync(client, [first.End(10, BootOutcome.Booted, start.AddSeconds(70))]);

        // A later snapshot of the same session says it started 20 s later (the next hour) and downloaded faster:
        // every duration moves, out of its old bin and hour, into the new ones.
        var moved = start.AddSeconds(20);
        var second = new Boot(mac, moved, id);
        second.Enter(1, BootPhase.BootstrapDownload, moved.AddSeconds(1));
        second.Enter(2, BootPhase.PvsLogon, moved.AddSeconds(9));
        second.Enter(3, BootPhase.SingleReadMode, moved.AddSeconds(10));
        second.Enter(4, BootPhase.BniStack, moved.AddSeconds(30));
        await IngestOkAsync(client, [second.End(11, BootOutcome.Booted, moved.AddSeconds(30))]);

        var siteId = await Api.WithDbAsync(db => db.Sites.Where(x => x.Name == site).Select(x => x.Id).SingleAsync());
        var mine = (await HistogramAsync()).Where(b => b.SiteId == siteId).ToList();
        Assert.DoesNotContain(mine, b => b.Hour.Hour == 6 && b.Series == DurationBins.WholeBoot);
        Assert.Contains(mine, b => b.Hour.Hour == 7 && b.Series == DurationBins.WholeBoot && b.MaxMs == 30_000);
        await AssertHistogramMatchesRowsAsync();
    }

    [SkippableFact]
    public async Task A_batch_failing_inside_the_database_changes_nothing()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        long seq = 1;
        await IngestOkAsync(client, Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-10), 1, 2, 3, 4));
        var collectorId = await Api.WithDbAsync(db => db.Collectors.OrderByDescending(c => c.Id).Select(c => c.Id).FirstAsync());
        var counts = await CountsAsync();

        // A good boot, then one whose host name the database refuses (the validator caps it; this reaches the writer
        // directly): the events are copied and devices written before the failure, and all of it must roll back.
        var events = Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-9), 1, 2, 3, 4);
        var bad = new Boot(NewMac(), Api.Clock.GetUtcNow().AddMinutes(-8)) { HostName = new string('x', 300) };
        events.Add(bad.Started(seq++));
        await Assert.ThrowsAsync<PostgresException>(() => Api.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            var received = events.Select(e => new ReceivedEvent(e, JsonSerializer.SerializeToUtf8Bytes(e, ApiFactory.Json))).ToList();
            return await PostgresIngestWriter.ApplyAsync(db, new IngestSource(collectorId, Guid.Empty), received, Api.Clock.GetUtcNow().UtcDateTime, default);
        }));
        Assert.Equal(counts, await CountsAsync());
        await AssertHistogramMatchesRowsAsync();
    }

    private Task<(int, int, int, int, long, long)> CountsAsync() => Api.WithDbAsync(async db => (
        await db.Events.CountAsync(), await db.Sessions.CountAsync(), await db.SessionPhases.CountAsync(), await db.Devices.CountAsync(),
        await db.Set<DurationHistogramBin>().SumAsync(b => b.Count), await db.Collectors.SumAsync(c => c.LastSequence)));

    [SkippableFact]
    public async Task Collectors_of_one_site_ingesting_at_once_keep_the_histogram_exact()
    {
        SkipIfUnavailable();
        var site = NewName("site");
        var clients = new List<HttpClient>();
        for (var i = 0; i < 3; i++)
            clients.Add((await NewCollectorAsync(site)).Client);
        var start = Api.Clock.GetUtcNow().AddHours(-2);
        await Task.WhenAll(clients.Select(async (client, c) =>
        {
            long seq = 1;
            for (var b = 0; b < 4; b++)
            {
                var events = new List<IngestEvent>();
                for (var i = 0; i < 10; i++)
                    events.AddRange(Boot.Booted(ref seq, NewMac(), start.AddMinutes((b * 10) + i), 1 + (c * 0.37), 2 + (i * 0.11), 3, 4 + b));
                await IngestOkAsync(client, events);
            }
        }));
        Assert.Equal(120, await Api.WithDbAsync(db => db.Sessions.CountAsync(s => db.Sites.Where(x => x.Name == site).Select(x => x.Id).Contains(s.SiteId))));
        await AssertHistogramMatchesRowsAsync();
    }

    [SkippableFact]
    public async Task Statistics_from_the_histogram_are_within_the_stated_error_with_exact_count_and_max()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var day = new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(7);
        long seq = 1;
        var events = new List<IngestEvent>();
        var durations = new List<(DateTimeOffset At, double Ms)>();
        for (var i = 0; i < 400; i++)
        {
            var at = day.AddMinutes(random.Next(0, 24 * 60)).AddSeconds(random.Next(0, 60));
            var phases = new[] { 1 + (random.NextDouble() * 5), 2 + (random.NextDouble() * 30), 0.5 + random.NextDouble(), 10 + (random.NextDouble() * 200) };
            phases = [.. phases.Select(p => Math.Round(p, 3))];
            events.AddRange(Boot.Booted(ref seq, NewMac(), at, phases));
            durations.Add((at, Math.Round(phases.Sum() * 1000, 3)));
        }
        foreach (var chunk in events.Chunk(600))
            await IngestOkAsync(client, chunk);

        // Not on hour boundaries: the partial hours at either end come from the rows.
        var from = day.AddMinutes(90);
        var to = day.AddHours(22).AddMinutes(17);
        var stats = await client.GetFromJsonAsync<BootDurationStats>(
            $"/api/v1/stats/boot-durations?site={site}&from={from:O}&to={to:O}&bucket=hour".Replace("+", "%2B", StringComparison.Ordinal), ApiFactory.Json);
        var inRange = durations.Where(d => d.At >= from && d.At < to).ToList();
        AssertClose(inRange.Select(d => d.Ms), stats!.Overall);
        foreach (var bucket in stats.Buckets)
        {
            var hour = bucket.Start;
            AssertClose(inRange.Where(d => d.At >= hour && d.At < hour.AddHours(1)).Select(d => d.Ms), bucket.Stats);
        }
        Assert.Equal(inRange.Count, stats.Buckets.Sum(b => b.Stats.Count));
    }

    private static void AssertClose(IEnumerable<double> values, DurationStats s)
    {
        var sorted = values.Order().ToArray();
        Assert.Equal(sorted.Length, s.Count);
        // The stored durations come from timestamps (tick precision), the expected ones from seconds: a hair apart.
        Assert.Equal(sorted[^1], s.MaxMs!.Value, 2);
        foreach (var (q, value) in new[] { (0.5, s.P50Ms), (0.9, s.P90Ms), (0.99, s.P99Ms) })
        {
            var exact = StatsApi.Percentile(sorted, q);
            Assert.True(Math.Abs(value!.Value - exact) <= (exact * DurationBins.RelativeError) + 0.01,
                $"p{q * 100}: {value} vs exact {exact} (n = {sorted.Length})");
        }
    }
}
