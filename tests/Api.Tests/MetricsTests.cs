using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Api.Operations;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Tests;

/// <summary>The boot histograms and counters on /metrics, read from a real scrape after real ingest.</summary>
public abstract partial class MetricsTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    [SkippableFact]
    public async Task Boots_are_measured_once_per_site_and_phase_and_a_replay_adds_nothing()
    {
        SkipIfUnavailable();
        var (collector, site) = await NewCollectorAsync();
        long seq = 1;
        var start = Api.Clock.GetUtcNow().AddMinutes(-10);
        // One boot: IpAcquisition 3 s with 2 retries, BootstrapDownload 12 s, PvsLogon 40 s, SingleReadMode 100 s.
        var boot = new Boot(NewMac(), start);
        var first = new List<IngestEvent> { boot.Started(seq++), boot.Retry(seq++, 2, start.AddSeconds(1)) };
        var at = start;
        double[] phases = [3, 12, 40, 100];
        for (var i = 0; i < phases.Length; i++)
        {
            at += TimeSpan.FromSeconds(phases[i]);
            first.Add(boot.Enter(seq++, (BootPhase)(i + 1), at));
        }
        first.Add(boot.End(seq++, BootOutcome.Booted, at));
        await IngestOkAsync(collector, first);
        // A second boot of the site fails in the bootstrap after 7 s.
        var failed = new Boot(NewMac(), start);
        await IngestOkAsync(collector, [failed.Started(seq++), failed.Enter(seq++, BootPhase.BootstrapDownload, start.AddSeconds(2)),
            failed.End(seq++, BootOutcome.Failed, start.AddSeconds(7))]);

        var before = await ScrapeAsync();
        // The collector re-sends the first batch (it never saw the answer): all duplicates, nothing measured again.
        var replay = await IngestOkAsync(collector, first);
        Assert.Equal(first.Count, replay.Duplicates);
        var after = await ScrapeAsync();
        Assert.Equal(SiteLines(before, site), SiteLines(after, site));
        Assert.NotEmpty(SiteLines(after, site));

        // Booted: 155 s to BNIStack, in the (120, 180] bucket; failed: 7 s, in (5, 10].
        Assert.Equal(1, Sample(after, "pvsfleet_boot_duration_seconds_count", site, ("outcome", "Booted")));
        Assert.Equal(155, Sample(after, "pvsfleet_boot_duration_seconds_sum", site, ("outcome", "Booted")), 3);
        Assert.Equal(0, Sample(after, "pvsfleet_boot_duration_seconds_bucket", site, ("outcome", "Booted"), ("le", "120")));
        Assert.Equal(1, Sample(after, "pvsfleet_boot_duration_seconds_bucket", site, ("outcome", "Booted"), ("le", "180")));
        Assert.Equal(1, Sample(after, "pvsfleet_boot_duration_seconds_bucket", site, ("outcome", "Failed"), ("le", "10")));
        Assert.Equal(0, Sample(after, "pvsfleet_boot_duration_seconds_bucket", site, ("outcome", "Failed"), ("le", "5")));
        // Phases: both boots ended IpAcquisition (3 s and 2 s); only the first ended the bootstrap (12 s) and the logon (40 s).
        Assert.Equal(2, Sample(after, "pvsfleet_phase_duration_seconds_count", site, ("phase", "IpAcquisition")));
        Assert.Equal(2, Sample(after, "pvsfleet_phase_duration_seconds_bucket", site, ("phase", "IpAcquisition"), ("le", "5")));
        Assert.Equal(1, Sample(after, "pvsfleet_phase_duration_seconds_count", site, ("phase", "BootstrapDownload")));
        Assert.Equal(0, Sample(after, "pvsfleet_phase_duration_seconds_bucket", site, ("phase", "BootstrapDownload"), ("le", "10")));
        Assert.Equal(1, Sample(after, "pvsfleet_phase_duration_seconds_bucket", site, ("phase", "BootstrapDownload"), ("le", "15")));
        Assert.Equal(1, Sample(after, "pvsfleet_phase_duration_seconds_bucket", site, ("phase", "PvsLogon"), ("le", "45")));
        Assert.Equal(0, Sample(after, "pvsfleet_phase_duration_seconds_bucket", site, ("phase", "PvsLogon"), ("le", "30")));
        Assert.Equal(1, Sample(after, "pvsfleet_phase_duration_seconds_bucket", site, ("phase", "PvsLogon"), ("le", "+Inf")));
        // Counters: the retries once (the snapshots after the retry repeat the running total), one outcome each.
        Assert.Equal(2, Sample(after, "pvsfleet_retries_total", site, ("phase", "IpAcquisition")));
        Assert.Equal(1, Sample(after, "pvsfleet_sessions_total", site, ("outcome", "Booted")));
        Assert.Equal(1, Sample(after, "pvsfleet_sessions_total", site, ("outcome", "Failed")));

        // Boots in flight show in the devices-booting gauge of their site, PVS server and phase; the ended ones do not.
        var now = Api.Clock.GetUtcNow();
        var flying = new List<IngestEvent>();
        foreach (var (server, phase) in new[] { ("10.0.0.31", BootPhase.PvsLogon), ("10.0.0.31", BootPhase.PvsLogon), ("10.0.0.32", BootPhase.PvsLogon), ("10.0.0.32", BootPhase.SingleReadMode) })
        {
            var b = new Boot(NewMac(), now.AddSeconds(-20)) { PvsServer = server };
            flying.AddRange([b.Started(seq++), b.Enter(seq++, BootPhase.BootstrapDownload, now.AddSeconds(-15)), b.Enter(seq++, phase, now.AddSeconds(-5))]);
        }
        await IngestOkAsync(collector, flying);
        var live = await ScrapeAsync();
        Assert.Equal(2, Sample(live, "pvsfleet_devices_booting", site, ("pvs_server", "10.0.0.31"), ("phase", "PvsLogon"), ("outcome", "InProgress")));
        Assert.Equal(1, Sample(live, "pvsfleet_devices_booting", site, ("pvs_server", "10.0.0.32"), ("phase", "PvsLogon"), ("outcome", "InProgress")));
        Assert.Equal(1, Sample(live, "pvsfleet_devices_booting", site, ("pvs_server", "10.0.0.32"), ("phase", "SingleReadMode"), ("outcome", "InProgress")));
        Assert.Equal(0, Sample(live, "pvsfleet_devices_booting", site, ("pvs_server", "10.0.0.3"), ("phase", "BniStack")));
        // The farm limits beside them: the Citrix defaults, 500 boot devices and 21 ports x 8 threads.
        Assert.Equal(500, Sample(live, "pvsfleet_capacity_limit", site, ("limit", "boot_devices")));
        Assert.Equal(168, Sample(live, "pvsfleet_capacity_limit", site, ("limit", "stream_threads")));
    }

    [SkippableFact]
    public async Task A_site_with_limits_of_its_own_exports_them()
    {
        SkipIfUnavailable();
        // ApiFactory configures small-farm with MaxBootDevicesAllowed 40 and 4 stream ports (x the default 8 threads).
        await NewCollectorAsync("small-farm");
        var scrape = await ScrapeAsync();
        Assert.Equal(40, Sample(scrape, "pvsfleet_capacity_limit", "small-farm", ("limit", "boot_devices")));
        Assert.Equal(32, Sample(scrape, "pvsfleet_capacity_limit", "small-farm", ("limit", "stream_threads")));
    }

    [SkippableFact]
    public async Task Another_API_in_the_process_stopping_takes_nothing_from_this_ones_metrics()
    {
        SkipIfUnavailable();
        // Test servers share the process, as replicas never do: each has its own meters, but the same names. When the
        // other one stops, its meters end; the metrics of this one must go on.
        _ = Api.Services.GetRequiredService<FleetMetrics>();
        await using (var other = new SqliteApi())
        {
            _ = other.Services.GetRequiredService<FleetMetrics>();
            Assert.Equal(HttpStatusCode.OK, (await other.CreateClient().GetAsync("/healthz")).StatusCode);
        }
        var (collector, site) = await NewCollectorAsync();
        long seq = 1;
        var start = Api.Clock.GetUtcNow().AddMinutes(-5);
        // Two scrapes: the first after the other stopped still showed what a dying stream held, the second nothing.
        for (var boots = 1; boots <= 2; boots++)
        {
            await IngestOkAsync(collector, Boot.Booted(ref seq, NewMac(), start, 2, 3, 1.5, 20));
            var scrape = await ScrapeAsync();
            Assert.Equal(boots, Sample(scrape, "pvsfleet_sessions_total", site, ("outcome", "Booted")));
            Assert.Equal(boots, Sample(scrape, "pvsfleet_boot_duration_seconds_count", site, ("outcome", "Booted")));
            Assert.Equal(boots, Sample(scrape, "pvsfleet_phase_duration_seconds_count", site, ("phase", "IpAcquisition")));
        }
    }

    private async Task<string> ScrapeAsync()
    {
        var client = Api.CreateClient();
        if (Api is SecuredSqliteApi)
        {
            // With authentication configured the metrics are for readers only.
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics")).StatusCode);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecuredSqliteApi.AdminKey);
        }
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The boot series of one site (the events counters carry no site, and change with the replay).</summary>
    private static string[] SiteLines(string scrape, string site) =>
        [.. scrape.Split('\n').Where(l => l.StartsWith("pvsfleet_", StringComparison.Ordinal) && l.Contains($"site=\"{site}\"", StringComparison.Ordinal)
            && !l.StartsWith("pvsfleet_devices_booting", StringComparison.Ordinal))];

    /// <summary>The value of one series of the scrape: the metric, the site and the other labels given (0 when absent).</summary>
    private static double Sample(string scrape, string metric, string site, params (string Name, string Value)[] labels)
    {
        foreach (Match m in SampleLine().Matches(scrape))
        {
            if (m.Groups["name"].Value != metric)
                continue;
            var found = LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            if (found.GetValueOrDefault("site") == site && labels.All(l => found.GetValueOrDefault(l.Name) == l.Value))
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return 0;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(\w+)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}

public sealed class MetricsTests_Sqlite(SqliteApi api) : MetricsTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class MetricsTests_Postgres(PostgresApi api) : MetricsTests<PostgresApi>(api), IClassFixture<PostgresApi>;

public sealed class MetricsTests_Secured(SecuredSqliteApi api) : MetricsTests<SecuredSqliteApi>(api), IClassFixture<SecuredSqliteApi>;
