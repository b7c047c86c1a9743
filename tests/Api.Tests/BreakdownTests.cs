using System.Net;
using System.Net.Http.Json;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The per-server breakdown against figures the test computes itself from the boots it sent through the ingest API:
/// percentile_cont's definition (linear interpolation between closest ranks) over each group's durations.
/// </summary>
public abstract class BreakdownTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    private static readonly DateTimeOffset Day = new(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
    private const string Range = "from=2026-11-28T00:00:00Z&to=2026-11-29T00:00:00Z";

    /// <summary>What the test sent for one boot: its servers, outcome, phase durations (null when the phase did not end) and retries.</summary>
    private sealed record Sent(string? Pvs, string? Stream, string BootFile, Firmware Firmware, BootOutcome Outcome,
        double? BootMs, double?[] PhaseMs, int[] Retries);

    private async Task<(HttpClient Client, string Site, List<Sent> Sent)> SeedAsync()
    {
        var (client, site) = await NewCollectorAsync();
        var random = new Random(1313);
        var sent = new List<Sent>();
        var events = new List<IngestEvent>();
        long seq = 1;
        // pvs01 30 boots, pvs02 25 (logon four times slower), pvs03 5: too few to compare.
        var plan = Enumerable.Repeat("10.9.0.1", 30).Concat(Enumerable.Repeat("10.9.0.2", 25)).Concat(Enumerable.Repeat("10.9.0.3", 5)).ToList();
        for (var i = 0; i < plan.Count; i++)
        {
            var pvs = plan[i];
            var start = Day.AddHours(6).AddSeconds(i * 97);
            var bios = i % 3 == 0;
            var boot = new Boot(NewMac(), start)
            {
                Firmware = bios ? Firmware.Bios : Firmware.Uefi,
                BootFile = bios ? "ARDBP32.bin" : "pvsnbpx64.efi",
            };
            // Whole milliseconds, so what is stored is exactly what the test sums.
            int[] ms = [random.Next(1000, 4000), random.Next(2000, 6000), random.Next(800, 2500) * (pvs == "10.9.0.2" ? 4 : 1), random.Next(20_000, 40_000)];
            var stuck = pvs == "10.9.0.2" && i % 5 == 0;
            var stream = stuck ? null : i % 4 == 0 ? "10.9.0.9" : pvs;
            boot.Servers = new SessionServers { Dhcp = "10.9.0.250", Tftp = "10.9.0.251", Pvs = pvs, Stream = stream };
            var retries = new int[5];
            events.Add(boot.Started(seq++));
            var at = start;
            var phaseMs = new double?[5];
            var last = stuck ? 2 : 4;
            for (var p = 1; p <= last; p++)
            {
                if (i % 7 == 0 && p - 1 == 1)
                {
                    retries[p - 1] = 3;
                    boot.Retries(3);
                }
                at += TimeSpan.FromMilliseconds(ms[p - 1]);
                phaseMs[p - 1] = ms[p - 1];
                events.Add(boot.Enter(seq++, (BootPhase)p, at));
            }
            if (stuck)
            {
                retries[2] = 10;
                boot.Retries(10);
                events.Add(boot.End(seq++, BootOutcome.Stuck, at.AddSeconds(30)));
                sent.Add(new Sent(pvs, stream, boot.BootFile, boot.Firmware, BootOutcome.Stuck, null, phaseMs, retries));
            }
            else
            {
                events.Add(boot.End(seq++, BootOutcome.Booted, at.AddSeconds(8)));
                sent.Add(new Sent(pvs, stream, boot.BootFile, boot.Firmware, BootOutcome.Booted, (at - start).TotalMilliseconds, phaseMs, retries));
            }
        }
        await IngestOkAsync(client, events);
        return (client, site, sent);
    }

    [SkippableFact]
    public async Task Breakdown_by_pvs_server_matches_percentiles_computed_from_the_boots_sent()
    {
        SkipIfUnavailable();
        var (client, site, sent) = await SeedAsync();

        var view = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=pvsServer&site={site}&{Range}", ApiFactory.Json);

        Assert.NotNull(view);
        Assert.Equal(BreakdownBy.PvsServer, view.By);
        Assert.Equal(20, view.MinBoots);
        Assert.Equal(["10.9.0.1", "10.9.0.2", "10.9.0.3"], view.Groups.Select(g => g.Key));
        var bestBoot = Median(sent.Where(s => s.Pvs == "10.9.0.1"));
        var bestLogon = Percentile(sent.Where(s => s.Pvs == "10.9.0.1").Select(s => s.PhaseMs[2]), 0.5)!.Value;
        foreach (var g in view.Groups)
        {
            var mine = sent.Where(s => s.Pvs == g.Key).ToList();
            Assert.Equal(mine.Count, g.Boots);
            Assert.Equal(mine.Count(s => s.Outcome == BootOutcome.Booted), g.Booted);
            Assert.Equal(mine.Count(s => s.Outcome == BootOutcome.Stuck), g.Stuck);
            Assert.Equal(0, g.Failed);
            Assert.Equal(mine.Sum(s => s.Retries.Sum()), g.Retries);
            AssertStats(mine.Select(s => s.BootMs), g.Boot);
            Assert.Equal(mine.Count >= 20, g.Comparable);
            foreach (var phase in g.Phases)
            {
                AssertStats(mine.Select(s => s.PhaseMs[(int)phase.Phase]), phase.Stats);
                Assert.Equal(mine.Sum(s => s.Retries[(int)phase.Phase]), phase.Retries);
            }
        }
        var pvs2 = view.Groups[1];
        // The slow logon server: about four times the fastest at logon, and flagged on the boot as a whole by its median.
        var logon = pvs2.Phases.Single(p => p.Phase == BootPhase.PvsLogon);
        Assert.Equal(Percentile(sent.Where(s => s.Pvs == "10.9.0.2").Select(s => s.PhaseMs[2]), 0.5)!.Value / bestLogon, logon.SlowerThanBest!.Value, 9);
        Assert.InRange(logon.SlowerThanBest!.Value, 2.5, 6);
        Assert.Equal(Median(sent.Where(s => s.Pvs == "10.9.0.2")) / bestBoot, pvs2.SlowerThanBest!.Value, 9);
        Assert.Equal(1.0, view.Groups[0].Phases.Single(p => p.Phase == BootPhase.PvsLogon).SlowerThanBest!.Value, 9);
        // Too few boots: shown, not compared.
        Assert.False(view.Groups[2].Comparable);
        Assert.Null(view.Groups[2].SlowerThanBest);
        Assert.All(view.Groups[2].Phases, p => Assert.Null(p.SlowerThanBest));
    }

    [SkippableFact]
    public async Task Breakdown_groups_by_stream_server_boot_file_and_firmware()
    {
        SkipIfUnavailable();
        var (client, site, sent) = await SeedAsync();

        var stream = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=streamServer&site={site}&{Range}", ApiFactory.Json);
        Assert.Equal(sent.Select(s => s.Stream).Distinct().Order(StringComparer.Ordinal), stream!.Groups.Select(g => g.Key).Order(StringComparer.Ordinal));
        // The boots stuck at logon never streamed: their group has no key.
        var unknown = stream.Groups.Single(g => g.Key is null);
        Assert.Equal(sent.Count(s => s.Stream is null), unknown.Stuck);
        Assert.Equal(0, unknown.Boot.Count);
        Assert.False(unknown.Comparable);
        Assert.Null(unknown.SlowerThanBest);
        foreach (var g in stream.Groups)
            AssertStats(sent.Where(s => s.Stream == g.Key).Select(s => s.BootMs), g.Boot);

        var files = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=bootFile&site={site}&{Range}", ApiFactory.Json);
        foreach (var g in files!.Groups)
        {
            Assert.Equal(sent.Count(s => s.BootFile == g.Key), g.Boots);
            AssertStats(sent.Where(s => s.BootFile == g.Key).Select(s => s.PhaseMs[1]), g.Phases.Single(p => p.Phase == BootPhase.BootstrapDownload).Stats);
        }

        var firmware = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=firmware&site={site}&{Range}", ApiFactory.Json);
        Assert.Equal(["Uefi", "Bios"], firmware!.Groups.Select(g => g.Key));
        foreach (var g in firmware.Groups)
            AssertStats(sent.Where(s => s.Firmware.ToString() == g.Key).Select(s => s.BootMs), g.Boot);

        var tftp = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=TFTPSERVER&site={site}&{Range}", ApiFactory.Json);
        Assert.Equal(sent.Count, Assert.Single(tftp!.Groups).Boots);
        var dhcp = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=dhcpServer&site={site}&{Range}", ApiFactory.Json);
        Assert.Equal("10.9.0.250", Assert.Single(dhcp!.Groups).Key);

        // Another day, another site: nothing.
        var before = await client.GetFromJsonAsync<ServerBreakdown>(
            $"/api/v1/stats/breakdown?by=pvsServer&site={site}&from=2026-11-27T00:00:00Z&to=2026-11-28T00:00:00Z", ApiFactory.Json);
        Assert.Empty(before!.Groups);
        var nowhere = await client.GetFromJsonAsync<ServerBreakdown>($"/api/v1/stats/breakdown?by=pvsServer&site=nowhere&{Range}", ApiFactory.Json);
        Assert.Empty(nowhere!.Groups);
    }

    [SkippableTheory]
    [InlineData("", "by")]
    [InlineData("by=tftp", "by")]
    [InlineData("by=3", "by")]
    [InlineData("by=pvsServer&from=2026-11-29T00:00:00Z&to=2026-11-28T00:00:00Z", "from")]
    [InlineData("by=pvsServer&from=2026-01-01T00:00:00Z&to=2026-11-28T00:00:00Z", "from")]
    [InlineData("by=pvsServer&from=yesterday", "from")]
    [InlineData("by=pvsServer&from=1900-01-01T00:00:00Z", "from")]
    public async Task Breakdown_refuses_bad_input_with_a_problem_naming_the_parameter(string query, string parameter)
    {
        SkipIfUnavailable();
        using var client = Api.CreateClient();

        var response = await client.GetAsync("/api/v1/stats/breakdown?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        if (parameter != "from" || !query.Contains("yesterday", StringComparison.Ordinal))
            Assert.Contains($"\"{parameter}\"", body, StringComparison.Ordinal);
    }

    private static double Median(IEnumerable<Sent> boots) => Percentile(boots.Select(b => b.BootMs), 0.5)!.Value;

    private static void AssertStats(IEnumerable<double?> values, DurationStats actual)
    {
        var present = values.OfType<double>().ToList();
        Assert.Equal(present.Count, actual.Count);
        Near(Percentile(present.Cast<double?>(), 0.5), actual.P50Ms);
        Near(Percentile(present.Cast<double?>(), 0.9), actual.P90Ms);
        Near(Percentile(present.Cast<double?>(), 0.99), actual.P99Ms);
        Near(present.Count == 0 ? null : present.Max(), actual.MaxMs);
    }

    private static void Near(double? expected, double? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }
        Assert.NotNull(actual);
        Assert.True(Math.Abs(expected.Value - actual.Value) < 1e-6, $"expected {expected}, got {actual}");
    }

    /// <summary>The definition of percentile_cont: the value at rank f·(n−1), interpolated between its neighbours.</summary>
    private static double? Percentile(IEnumerable<double?> values, double f)
    {
        var sorted = values.OfType<double>().OrderBy(v => v).ToList();
        if (sorted.Count == 0)
            return null;
        var rank = f * (sorted.Count - 1);
        var below = (int)rank;
        return below + 1 < sorted.Count ? sorted[below] + ((rank - below) * (sorted[below + 1] - sorted[below])) : sorted[below];
    }
}

public sealed class BreakdownTests_Sqlite(SqliteApi api) : BreakdownTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class BreakdownTests_Postgres(PostgresApi api) : BreakdownTests<PostgresApi>(api), IClassFixture<PostgresApi>;
