using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Deploy.Tests.Support;

namespace PvsFleet.Deploy.Tests;

/// <summary>
/// The provisioned Grafana dashboard against the API's real /metrics: every query must name metrics the API exports,
/// read from a scrape of the API process after boots of each kind were ingested, so a renamed metric or a typo in a
/// panel fails here instead of drawing an empty graph.
/// </summary>
public sealed partial class GrafanaDashboardTests : IAsyncLifetime
{
    private const string Dashboard = "deploy/observability/grafana/provisioning/dashboards/pvsfleet-fleet.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>PromQL's own words: functions, aggregations and keywords the dashboard uses; anything else is a metric.</summary>
    private static readonly HashSet<string> PromQl = new(StringComparer.Ordinal)
    {
        "sum", "max", "min", "avg", "count", "topk", "bottomk", "rate", "irate", "increase", "histogram_quantile",
        "max_over_time", "min_over_time", "avg_over_time", "label_values", "by", "without", "on", "ignoring",
        "group_left", "group_right", "and", "or", "unless", "offset",
    };

    private readonly TestDatabase database = new();
    private ApiReplica? api;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (api is not null)
        {
            await api.DisposeAsync();
        }

        await database.DisposeAsync();
    }

    [Fact]
    public void Dashboard_shows_the_fleet_the_percentiles_and_the_capacity_view()
    {
        var panels = Panels().ToList();
        Assert.All(panels, p => Assert.NotEmpty(Queries(p)));
        var queries = panels.SelectMany(Queries).ToList();
        Assert.Contains(queries, q => q.Contains("histogram_quantile(0.99", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("pvsfleet_phase_duration_seconds_bucket", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("pvs_server", StringComparison.Ordinal) && q.Contains("pvsfleet_devices_booting", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("limit=\"boot_devices\"", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("limit=\"stream_threads\"", StringComparison.Ordinal));
        // The reading of a query itself: names kept, PromQL, labels, variables and numbers dropped.
        Assert.Equal(
            ["pvsfleet_a_total", "pvsfleet_b"],
            MetricNames("""max_over_time(sum by (site, le) (rate(pvsfleet_a_total{site=~"$site",x="a{b}"}[$__rate_interval])) / on (site) group_left max by (site) (pvsfleet_b)[$__range:1m]) * 60""").Order());
        Assert.Equal(["pvsfleet_sessions_total"], MetricNames("label_values(pvsfleet_sessions_total, site)"));
        // Grafana provisions it by this uid; a second file with the same uid would replace it.
        Assert.Equal("pvsfleet-fleet", (string?)Load()["uid"]);
    }

    [SkippableFact]
    public async Task Every_panel_query_names_a_metric_the_API_exports()
    {
        database.SkipUnlessAvailable();
        api = new ApiReplica(database.ConnectionString!, new Dictionary<string, string> { ["PvsFleet__Alerts__Enabled"] = "false" });
        await api.StartAsync();
        var key = await api.AddCollectorAsync("site-dash", "c1");
        await IngestAsync(key, BootsOfEachKind(DateTimeOffset.UtcNow));

        var exported = await ExportedMetricsAsync();
        Assert.Contains("pvsfleet_boot_duration_seconds_bucket", exported);

        var checkedQueries = 0;
        foreach (var (where, query) in Panels().SelectMany(p => Queries(p).Select(q => ((string?)p["title"], q))).Append(("the site variable", SiteVariableQuery())))
        {
            var metrics = MetricNames(query);
            Assert.True(metrics.Count > 0, $"{where}: `{query}` names no metric");
            foreach (var metric in metrics)
            {
                Assert.True(exported.Contains(metric), $"{where}: `{query}` names {metric}, which /metrics does not export");
            }

            checkedQueries++;
        }

        Assert.True(checkedQueries >= 10, $"only {checkedQueries} queries checked");
    }

    /// <summary>The sample names of a real scrape (what PromQL selects: name_bucket, name_total, ...).</summary>
    private async Task<HashSet<string>> ExportedMetricsAsync()
    {
        using var http = new HttpClient { BaseAddress = api!.Url };
        var scrape = await http.GetStringAsync("metrics");
        return [.. SampleName().Matches(scrape).Select(m => m.Groups[1].Value)];
    }

    /// <summary>One booted, one failed with retries, one still booting on a PVS server: every boot series appears.</summary>
    private static List<IngestEvent> BootsOfEachKind(DateTimeOffset now)
    {
        var events = new List<IngestEvent>();
        long seq = 1;
        var start = now.AddMinutes(-5);
        void Boot(string mac, BootPhase last, BootOutcome outcome, int retries)
        {
            var id = Guid.NewGuid();
            var phases = new List<PhaseTiming>();
            var at = start;
            for (var phase = BootPhase.IpAcquisition; phase <= last; phase++)
            {
                if (phases.Count > 0)
                {
                    phases[^1] = phases[^1] with { EndedAt = at };
                }

                phases.Add(new PhaseTiming { Phase = phase, StartedAt = at, Retries = phase == BootPhase.IpAcquisition ? retries : 0 });
                var snapshot = Snapshot(id, mac, start, phase, BootOutcome.InProgress, null, phases);
                events.Add(phases.Count == 1
                    ? new SessionStartedEvent { Sequence = seq++, Timestamp = at, Session = snapshot }
                    : new PhaseEnteredEvent { Sequence = seq++, Timestamp = at, Phase = phase, Session = snapshot });
                at = at.AddSeconds(10);
            }

            if (outcome != BootOutcome.InProgress)
            {
                events.Add(new SessionEndedEvent { Sequence = seq++, Timestamp = at, Outcome = outcome, Session = Snapshot(id, mac, start, last, outcome, at, phases) });
            }
        }

        Boot("52:54:00:dd:00:01", BootPhase.BniStack, BootOutcome.Booted, 0);
        Boot("52:54:00:dd:00:02", BootPhase.BootstrapDownload, BootOutcome.Failed, 3);
        Boot("52:54:00:dd:00:03", BootPhase.SingleReadMode, BootOutcome.InProgress, 0);
        return events;
    }

    private static SessionSnapshot Snapshot(Guid id, string mac, DateTimeOffset start, BootPhase phase, BootOutcome outcome, DateTimeOffset? ended, List<PhaseTiming> phases) => new()
    {
        SessionId = id, Mac = mac, Firmware = Firmware.Uefi, Phase = phase, Outcome = outcome, StartedAt = start, EndedAt = ended,
        Phases = [.. phases], Servers = new SessionServers { Dhcp = "10.0.0.1", Tftp = "10.0.0.2", Pvs = "10.0.0.3" },
    };

    private async Task IngestAsync(string key, List<IngestEvent> events)
    {
        using var http = new HttpClient { BaseAddress = api!.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.PostAsJsonAsync("api/v1/ingest", new IngestBatch { Events = [.. events] }, Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var result = await response.Content.ReadFromJsonAsync<IngestResult>(Json);
        Assert.Equal(events.Count, result!.Accepted);
    }

    /// <summary>
    /// The metric names in a PromQL expression: strings, label matchers, ranges and grouping lists removed, what is left
    /// is PromQL's own words, numbers and metric names.
    /// </summary>
    internal static HashSet<string> MetricNames(string query)
    {
        var bare = StringLiteral().Replace(query, "\"\"");
        bare = LabelValues().Replace(bare, "$1");
        bare = LabelMatchers().Replace(bare, " ");
        bare = RangeOrSubquery().Replace(bare, " ");
        bare = GroupingList().Replace(bare, "$1 ");
        return [.. Identifier().Matches(bare).Select(m => m.Value).Where(w => !PromQl.Contains(w))];
    }

    private static JsonObject Load() =>
        Assert.IsType<JsonObject>(JsonNode.Parse(File.ReadAllText(Path.Combine(Yaml.RepositoryRoot, Dashboard))));

    /// <summary>Every panel that draws something, rows' nested panels included.</summary>
    private static IEnumerable<JsonObject> Panels()
    {
        foreach (var node in Load()["panels"]!.AsArray())
        {
            var panel = (JsonObject)node!;
            if ((string?)panel["type"] == "row")
            {
                foreach (var nested in panel["panels"]?.AsArray() ?? [])
                {
                    yield return (JsonObject)nested!;
                }
            }
            else
            {
                yield return panel;
            }
        }
    }

    private static List<string> Queries(JsonObject panel) =>
        [.. (panel["targets"]?.AsArray() ?? []).Select(t => (string?)t!["expr"]).Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e!)];

    private static string SiteVariableQuery() =>
        (string)Load()["templating"]!["list"]!.AsArray().Single(v => (string?)v!["name"] == "site")!["query"]!;

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )", RegexOptions.Multiline)]
    private static partial Regex SampleName();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringLiteral();

    // Grafana's label_values(metric, label): the label is not a metric.
    [GeneratedRegex(@"label_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangeOrSubquery();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex GroupingList();

    // Grafana's variables ($site, $__range) and numbers are not names; a name does not start with a digit or a $.
    [GeneratedRegex(@"(?<![\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();
}
