using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The capacity view against a brute-force count the test makes itself: at every instant that matters (each step's start
/// and every interval's start), how many of the sessions it sent were in each phase, booting, streaming.
/// </summary>
public abstract class CapacityTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    private static readonly DateTime From = new(2026, 11, 29, 6, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime To = From.AddHours(1);
    private const int Step = 300;

    /// <summary>A boot as sent: its login server, its phases' starts (the phases entered), when it ended, and its time-to-boot.</summary>
    private sealed record Sent(string? Pvs, DateTime Start, List<DateTime> PhaseStarts, DateTime? End, double? BootMs);

    private async Task<(HttpClient Client, string Site, List<Sent> Sent)> SeedAsync()
    {
        var (client, site) = await NewCollectorAsync();
        var random = new Random(4242);
        var sent = new List<Sent>();
        var events = new List<IngestEvent>();
        long seq = 1;
        // A storm of 40 boots between 06:10 and 06:40 on two servers, one boot running since before the range, one stuck at
        // logon, one failed in the bootstrap download (no PVS server), and one still streaming when the range ends.
        var starts = new List<(DateTime Start, int Kind)> { (From.AddSeconds(-5), 0) };
        for (var i = 0; i < 40; i++)
            starts.Add((From.AddMinutes(10).AddMilliseconds((i * 45_000) + random.Next(0, 20_000)), i == 7 ? 1 : i == 13 ? 2 : 0));
        starts.Add((To.AddSeconds(-20), 3));
        foreach (var (start, kind) in starts.OrderBy(s => s.Start))
        {
            var pvs = kind == 2 ? null : random.Next(2) == 0 ? "10.8.0.1" : "10.8.0.2";
            var boot = new Boot(NewMac(), start) { Servers = new SessionServers { Dhcp = "10.8.0.250", Tftp = "10.8.0.251", Pvs = pvs } };
            events.Add(boot.Started(seq++));
            int[] ms = [random.Next(1000, 3000), random.Next(2000, 5000), random.Next(500, 2000), random.Next(20_000, 60_000)];
            var entered = kind switch { 1 => 2, 2 => 1, 3 => 3, _ => 4 };
            var at = start;
            var phaseStarts = new List<DateTime> { start };
            for (var p = 1; p <= entered; p++)
            {
                at = at.AddMilliseconds(ms[p - 1]);
                phaseStarts.Add(at);
                events.Add(boot.Enter(seq++, (BootPhase)p, new DateTimeOffset(at)));
            }
            DateTime? end = kind switch
            {
                0 => at.AddSeconds(10),
                1 => at.AddSeconds(40),
                2 => at.AddSeconds(5),
                _ => null,
            };
            if (end is { } e)
                events.Add(boot.End(seq++, kind == 0 ? BootOutcome.Booted : kind == 1 ? BootOutcome.Stuck : BootOutcome.Failed, new DateTimeOffset(e)));
            sent.Add(new Sent(pvs, start, phaseStarts, end, kind == 0 ? (phaseStarts[4] - start).TotalMilliseconds : null));
        }
        await IngestOkAsync(client, events);
        return (client, site, sent);
    }

    /// <summary>Phase p of a boot as an interval: to the next phase's start, else the session's end, else now (capped at an hour).</summary>
    private (DateTime Start, DateTime End)? PhaseInterval(Sent b, int p)
    {
        if (p >= b.PhaseStarts.Count)
            return null;
        var end = p + 1 < b.PhaseStarts.Count ? b.PhaseStarts[p + 1] : b.End ?? Api.Clock.GetUtcNow().UtcDateTime;
        var cap = b.Start.AddHours(1);
        return (b.PhaseStarts[p], end < cap ? end : cap);
    }

    private (DateTime Start, DateTime End)? Span(Sent b, int first, int last)
    {
        var parts = Enumerable.Range(first, last - first + 1).Select(p => PhaseInterval(b, p)).OfType<(DateTime Start, DateTime End)>().ToList();
        return parts.Count == 0 ? null : (parts.Min(x => x.Start), parts.Max(x => x.End));
    }

    private int CountAt(IEnumerable<Sent> boots, DateTime t, Func<Sent, (DateTime Start, DateTime End)?> interval) =>
        boots.Count(b => interval(b) is { } i && i.Start <= t && t < i.End);

    [SkippableFact]
    public async Task Capacity_counts_each_phase_the_peak_and_time_to_boot_as_a_brute_force_count_does()
    {
        SkipIfUnavailable();
        var (client, site, sent) = await SeedAsync();

        var view = await client.GetFromJsonAsync<CapacityView>(
            $"/api/v1/stats/capacity?site={site}&from={From:yyyy-MM-ddTHH:mm:ssZ}&to={To:yyyy-MM-ddTHH:mm:ssZ}&step={Step}", ApiFactory.Json);

        Assert.NotNull(view);
        Assert.Equal(Step, view.StepSeconds);
        Assert.Equal(new CapacityLimits(500, 21, 8), view.Limits);
        Assert.Equal([null, "10.8.0.1", "10.8.0.2"], view.Series.Select(s => s.PvsServer));
        var whole = view.Series[0];
        Assert.Equal(site, whole.Site);
        Assert.Equal(2, whole.Servers);
        Assert.Equal(1000, whole.BootingLimit);
        Assert.Equal(2 * 168, whole.StreamingLimit);
        Assert.Equal(500, view.Series[1].BootingLimit);
        Assert.Equal(168, view.Series[1].StreamingLimit);

        foreach (var series in view.Series)
        {
            var boots = sent.Where(b => series.PvsServer is null || b.Pvs == series.PvsServer).ToList();
            Func<Sent, (DateTime Start, DateTime End)?> booting = b => Span(b, 0, 3);
            Func<Sent, (DateTime Start, DateTime End)?> streaming = b => Span(b, 3, 4);
            Assert.Equal(12, series.Points.Count);
            for (var i = 0; i < series.Points.Count; i++)
            {
                var stepStart = From.AddSeconds(i * Step);
                var stepEnd = stepStart.AddSeconds(Step);
                var point = series.Points[i];
                Assert.Equal(stepStart, point.Start);
                for (var p = 0; p < 5; p++)
                {
                    var phase = p;
                    Assert.Equal(PeakIn(boots, stepStart, stepEnd, b => PhaseInterval(b, phase)), point.Phases[p]);
                }
                Assert.Equal(PeakIn(boots, stepStart, stepEnd, booting), point.Booting);
                Assert.Equal(PeakIn(boots, stepStart, stepEnd, streaming), point.Streaming);
            }

            var (peak, at) = FirstPeak(boots, booting);
            Assert.Equal(peak, series.PeakBooting.Count);
            Assert.Equal(at, series.PeakBooting.At);
            Assert.Equal(FirstPeak(boots, streaming).Count, series.PeakStreaming.Count);

            // Time-to-boot by how many were booting when each boot (in the range) started, itself included.
            var byConcurrency = boots.Where(b => b.Start >= From && b.Start < To)
                .Select(b => (Concurrency: CountAt(boots, b.Start, booting), b.BootMs)).ToList();
            var highest = byConcurrency.Max(x => x.Concurrency);
            int[] widths = [1, 2, 5, 10, 20, 25, 50];
            var width = widths.First(w => (highest + w - 1) / w <= 10);
            var expected = byConcurrency.GroupBy(x => (x.Concurrency - 1) / width).OrderBy(g => g.Key).ToList();
            Assert.Equal(expected.Count, series.TimeToBoot.Count);
            for (var k = 0; k < expected.Count; k++)
            {
                var bucket = series.TimeToBoot[k];
                var durations = expected[k].Select(x => x.BootMs).OfType<double>().Order().ToList();
                Assert.Equal((expected[k].Key * width) + 1, bucket.From);
                Assert.Equal((expected[k].Key + 1) * width, bucket.To);
                Assert.Equal(expected[k].Count(), bucket.Boots);
                Assert.Equal(durations.Count, bucket.Booted);
                Near(Percentile(durations, 0.5), bucket.P50Ms);
                Near(Percentile(durations, 0.9), bucket.P90Ms);
            }
        }
        // The storm really overlapped: several at once, and the boot from before the range counts at its start.
        Assert.True(whole.PeakBooting.Count >= 2, $"peak {whole.PeakBooting.Count}");
        Assert.Equal(1, whole.Points[0].Booting);
        Assert.Equal(1, whole.Points[^1].Streaming);
    }

    /// <summary>The most intervals holding one instant of [start, end): the count only rises at the step's start or an interval's start.</summary>
    private int PeakIn(List<Sent> boots, DateTime start, DateTime end, Func<Sent, (DateTime Start, DateTime End)?> interval)
    {
        var instants = boots.Select(interval).OfType<(DateTime Start, DateTime End)>().Select(i => i.Start)
            .Where(t => t >= start && t < end).Append(start);
        return instants.Max(t => CountAt(boots, t, interval));
    }

    private (int Count, DateTime? At) FirstPeak(List<Sent> boots, Func<Sent, (DateTime Start, DateTime End)?> interval)
    {
        var instants = boots.Select(interval).OfType<(DateTime Start, DateTime End)>().Select(i => i.Start)
            .Where(t => t >= From && t < To).Append(From).Order().ToList();
        var best = (Count: 0, At: (DateTime?)null);
        foreach (var t in instants)
        {
            var n = CountAt(boots, t, interval);
            if (n > best.Count)
                best = (n, t);
        }
        return best;
    }

    [SkippableFact]
    public async Task Capacity_uses_the_configured_limits_and_picks_a_step_when_none_is_given()
    {
        SkipIfUnavailable();
        var (_, site, _) = await SeedAsync();
        using var custom = Api.WithWebHostBuilder(b => b
            .UseSetting("PvsFleet:Capacity:MaxBootDevicesAllowed", "50")
            .UseSetting("PvsFleet:Capacity:StreamPorts", "4")
            .UseSetting("PvsFleet:Capacity:ThreadsPerPort", "10"));
        using var client = custom.CreateClient();

        var view = await client.GetFromJsonAsync<CapacityView>(
            $"/api/v1/stats/capacity?site={site}&from={From:yyyy-MM-ddTHH:mm:ssZ}&to={To:yyyy-MM-ddTHH:mm:ssZ}", ApiFactory.Json);

        Assert.Equal(new CapacityLimits(50, 4, 10), view!.Limits);
        Assert.Equal(100, view.Series[0].BootingLimit);
        Assert.Equal(40, view.Series[1].StreamingLimit);
        // An hour in about 240 points: the smallest step of one minute.
        Assert.Equal(60, view.StepSeconds);
        Assert.Equal(60, view.Series[0].Points.Count);
    }

    [SkippableFact]
    public void Invalid_farm_limits_stop_the_api_at_start()
    {
        SkipIfUnavailable();
        using var bad = Api.WithWebHostBuilder(b => b.UseSetting("PvsFleet:Capacity:MaxBootDevicesAllowed", "0"));

        // Program prints the validation's words and exits before the host starts.
        Assert.ThrowsAny<InvalidOperationException>(() => bad.CreateClient());
    }

    [Fact]
    public void Farm_limit_validation_names_each_wrong_setting()
    {
        var options = new FleetOptions
        {
            Capacity = new CapacityOptions { MaxBootDevicesAllowed = 0, StreamPorts = 21, ThreadsPerPort = -8, MaxBootLength = TimeSpan.Zero },
            Stats = new StatsOptions { BreakdownMinBoots = 0, BreakdownSlowFactor = 0.5 },
        };

        var result = new FleetOptionsValidation().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(5, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("PvsFleet:Capacity:MaxBootDevicesAllowed is 0:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("PvsFleet:Capacity:ThreadsPerPort is -8:", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Failures!, f => f.Contains("StreamPorts", StringComparison.Ordinal));
        Assert.True(new FleetOptionsValidation().Validate(null, new FleetOptions()).Succeeded);
    }

    [Fact]
    public void A_site_takes_the_limits_it_leaves_out_from_the_flat_settings()
    {
        var capacity = new CapacityOptions
        {
            MaxBootDevicesAllowed = 900,
            ThreadsPerPort = 10,
            Sites = { ["hq"] = new SiteFarmLimits { StreamPorts = 4 }, ["bad"] = new SiteFarmLimits { ThreadsPerPort = 0 } },
        };

        Assert.Equal(new FarmLimits(900, 4, 10), capacity.For("HQ"));
        Assert.Equal(new FarmLimits(900, 21, 10), capacity.For("unnamed"));
        Assert.Equal(["PvsFleet:Capacity:Sites:bad:ThreadsPerPort"], capacity.Problems().Select(p => p[..p.IndexOf(" is ", StringComparison.Ordinal)]));
    }

    [SkippableTheory]
    [InlineData("from=2026-11-29T07:00:00Z&to=2026-11-29T06:00:00Z", "from")]
    [InlineData("from=2026-11-01T00:00:00Z&to=2026-11-29T00:00:00Z", "from")]
    [InlineData("from=2026-11-28T00:00:00Z&to=2026-11-29T00:00:00Z&step=5", "step")]
    [InlineData("from=2026-11-22T00:00:00Z&to=2026-11-29T00:00:00Z&step=60", "step")]
    [InlineData("step=-1", "step")]
    [InlineData("from=2300-01-01T00:00:00Z", "from")]
    public async Task Capacity_refuses_bad_input_with_a_problem_naming_the_parameter(string query, string parameter)
    {
        SkipIfUnavailable();
        using var client = Api.CreateClient();

        var response = await client.GetAsync("/api/v1/stats/capacity?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"\"{parameter}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Capacity_of_an_unknown_site_or_an_empty_range_is_empty()
    {
        SkipIfUnavailable();
        using var client = Api.CreateClient();

        var nowhere = await client.GetFromJsonAsync<CapacityView>("/api/v1/stats/capacity?site=nowhere", ApiFactory.Json);
        var (_, site, _) = await SeedAsync();
        var before = await client.GetFromJsonAsync<CapacityView>(
            $"/api/v1/stats/capacity?site={site}&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", ApiFactory.Json);

        Assert.Empty(nowhere!.Series);
        Assert.Empty(before!.Series);
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

    private static double? Percentile(List<double> sorted, double f)
    {
        if (sorted.Count == 0)
            return null;
        var rank = f * (sorted.Count - 1);
        var below = (int)rank;
        return below + 1 < sorted.Count ? sorted[below] + ((rank - below) * (sorted[below + 1] - sorted[below])) : sorted[below];
    }
}

public sealed class CapacityTests_Sqlite(SqliteApi api) : CapacityTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class CapacityTests_Postgres(PostgresApi api) : CapacityTests<PostgresApi>(api), IClassFixture<PostgresApi>;
