using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Api.Alerts;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>
/// Network hygiene: the collector's findings from many devices become one alert per site, finding and server with a
/// device count; a TFTP server much slower than the fastest for the same file is found from the sessions.
/// Run once against SQLite and once against PostgreSQL.
/// </summary>
public abstract class HygieneAlertTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    private long seq;

    private IssueEvent Issue(string mac, BootIssueKind kind, string? server) => new()
    {
        Sequence = ++seq, Timestamp = Api.Clock.GetUtcNow(), Session = new Boot(mac, Api.Clock.GetUtcNow()).Snapshot(), Kind = kind,
        Phase = BootPhase.IpAcquisition, Detail = $"{kind} seen by {mac}", Hint = $"hint for {kind}", Server = server,
    };

    private static List<AlertView> Hygiene(Paged<AlertView>? page) => [.. page!.Items.Where(a => a.Kind == AlertKind.NetworkHygiene)];

    [SkippableFact]
    public async Task A_storm_of_findings_is_one_alert_per_site_finding_and_server_with_a_device_count()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var (otherClient, otherSite) = await NewCollectorAsync();
        var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();
        const string Rogue = "10.0.0.4, 10.0.0.66";
        var macs = Enumerable.Range(0, 120).Select(_ => NewMac()).ToList();

        var events = new List<IngestEvent>();
        events.AddRange(macs.Select(m => Issue(m, BootIssueKind.MultiplePxeServers, Rogue)));
        events.AddRange(macs.Take(7).Select(m => Issue(m, BootIssueKind.MultiplePxeServers, "10.0.0.4, 10.0.0.77")));
        events.AddRange(macs.Take(12).Select(m => Issue(m, BootIssueKind.NoPxeOffer, "10.0.0.1")));
        events.AddRange(macs.Take(9).Select(m => Issue(m, BootIssueKind.Fragmentation, "10.0.0.2")));
        events.AddRange(macs.Take(5).Select(m => Issue(m, BootIssueKind.BootstrapFirmwareMismatch, "10.0.0.2")));
        // Issues that are not hygiene findings raise no hygiene alert.
        events.AddRange(macs.Take(3).Select(m => Issue(m, BootIssueKind.DhcpNak, "10.0.0.1")));
        foreach (var chunk in events.Chunk(50))
            await IngestOkAsync(client, chunk);
        await IngestOkAsync(otherClient, macs.Take(4).Select(m => Issue(m, BootIssueKind.MultiplePxeServers, Rogue)));

        Api.Clock.Advance(TimeSpan.FromSeconds(10));
        var messages = await evaluator.EvaluateAsync();
        // Opened alerts go out like any other (the webhook outbox takes exactly these messages).
        var hygieneOpened = messages.Where(m => m.Kind == "NetworkHygiene" && m.State == "open").ToList();
        Assert.Equal(6, hygieneOpened.Count);
        Assert.Contains(hygieneOpened, m => m.Site == site && m.Finding == "MultiplePxeServers" && m.Server == Rogue && m.DeviceCount == 120);

        var alerts = Hygiene(await client.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?site={site}&kind=NetworkHygiene&pageSize=100", ApiFactory.Json));
        Assert.Equal(5, alerts.Count);
        var rogue = Assert.Single(alerts, a => a.Finding == HygieneFinding.MultiplePxeServers && a.Server == Rogue);
        Assert.Equal(120, rogue.DeviceCount);
        Assert.Equal("hint for MultiplePxeServers", rogue.Hint);
        Assert.Contains("120 devices", rogue.Message, StringComparison.Ordinal);
        Assert.Equal(7, Assert.Single(alerts, a => a.Server == "10.0.0.4, 10.0.0.77").DeviceCount);
        Assert.Equal(12, Assert.Single(alerts, a => a.Finding == HygieneFinding.NoPxeOffer).DeviceCount);
        Assert.Equal(9, Assert.Single(alerts, a => a.Finding == HygieneFinding.Fragmentation).DeviceCount);
        Assert.Equal(5, Assert.Single(alerts, a => a.Finding == HygieneFinding.BootstrapFirmwareMismatch).DeviceCount);
        var other = Assert.Single(Hygiene(await client.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?site={otherSite}&kind=NetworkHygiene", ApiFactory.Json)));
        Assert.Equal(4, other.DeviceCount);

        // Nothing new: nothing changes. Then the same devices again and ten new ones: the count grows, no second alert.
        Api.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(await evaluator.EvaluateAsync(), m => m.Kind == "NetworkHygiene");
        var ack = await client.PostAsync($"/api/v1/alerts/{rogue.Id}/acknowledge", null);
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/v1/alerts/{rogue.Id}/acknowledge", null)).StatusCode);
        var more = macs.Concat(Enumerable.Range(0, 10).Select(_ => NewMac())).Select(m => Issue(m, BootIssueKind.MultiplePxeServers, Rogue)).ToList();
        foreach (var chunk in more.Chunk(50))
            await IngestOkAsync(client, chunk);
        Api.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(await evaluator.EvaluateAsync(), m => m.Kind == "NetworkHygiene");
        var acknowledged = Assert.Single(Hygiene(await client.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?site={site}&state=acknowledged", ApiFactory.Json)));
        Assert.Equal(rogue.Id, acknowledged.Id);
        Assert.Equal(130, acknowledged.DeviceCount);
        Assert.Equal(Api.Clock.GetUtcNow().UtcDateTime.AddSeconds(-10), acknowledged.LastSeenAt!.Value, TimeSpan.FromSeconds(1));

        // An hour without a sighting: every hygiene alert resolves, the acknowledged one too.
        Api.Clock.Advance(new FleetOptions().Alerts.Hygiene.ResolveAfterQuiet + TimeSpan.FromSeconds(20));
        var resolved = (await evaluator.EvaluateAsync()).Where(m => m.Kind == "NetworkHygiene").ToList();
        Assert.Equal(6, resolved.Count);
        Assert.All(resolved, m => Assert.Equal("resolved", m.State));
        Assert.Empty(Hygiene(await client.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?site={site}&state=open", ApiFactory.Json)));
    }

    [SkippableFact]
    public async Task A_tftp_server_twice_as_slow_as_the_fastest_for_the_same_file_is_found_and_even_servers_are_not()
    {
        SkipIfUnavailable();
        var (evenClient, evenSite) = await NewCollectorAsync();
        var (skewClient, skewSite) = await NewCollectorAsync();
        var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();

        // Bootstrap downloads per server: (server, samples, seconds around which they lie).
        async Task DownloadsAsync(HttpClient client, string server, int samples, double seconds)
        {
            var events = new List<IngestEvent>();
            for (var i = 0; i < samples; i++)
            {
                var start = Api.Clock.GetUtcNow().AddMinutes(-30).AddSeconds(i);
                var download = seconds * (0.9 + 0.2 * i / samples);
                events.AddRange(Boot.Booted(ref seq, NewMac(), start, 2, download, 3, 20).Select(e => e is SessionEvent se
                    ? se with { Session = se.Session with { Servers = se.Session.Servers! with { Tftp = server } } }
                    : e));
            }
            foreach (var chunk in events.Chunk(200))
                await IngestOkAsync(client, chunk);
        }
        await DownloadsAsync(evenClient, "10.1.0.10", 25, 4);
        await DownloadsAsync(evenClient, "10.1.0.11", 25, 6);
        await DownloadsAsync(skewClient, "10.2.0.10", 25, 4);
        await DownloadsAsync(skewClient, "10.2.0.11", 25, 9);
        // Slower still, but too few downloads to judge.
        await DownloadsAsync(skewClient, "10.2.0.12", 10, 30);

        Api.Clock.Advance(TimeSpan.FromSeconds(10));
        var messages = await evaluator.EvaluateAsync();
        var opened = Assert.Single(messages, m => m.Kind == "NetworkHygiene" && m.Finding == "SlowTftpServer");
        Assert.Equal(skewSite, opened.Site);
        Assert.Equal("10.2.0.11", opened.Server);
        Assert.Equal(25, opened.DeviceCount);
        Assert.Contains("pvsnbpx64.efi", opened.Message, StringComparison.Ordinal);
        Assert.Contains("10.2.0.10", opened.Message, StringComparison.Ordinal);
        Assert.Empty(Hygiene(await evenClient.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?site={evenSite}", ApiFactory.Json)));
        Assert.NotNull(opened.Hint);

        // Still slow on the next pass: no second alert. Once the window has passed the downloads, it resolves.
        Api.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(await evaluator.EvaluateAsync(), m => m.Kind == "NetworkHygiene");
        Api.Clock.Advance(new FleetOptions().Alerts.Hygiene.SlowTftpWindow);
        var resolved = Assert.Single(await evaluator.EvaluateAsync(), m => m.Kind == "NetworkHygiene");
        Assert.Equal("resolved", resolved.State);
        Assert.Equal(opened.Id, resolved.Id);
    }
}

public sealed class HygieneAlertTests_Sqlite(SqliteApi api) : HygieneAlertTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class HygieneAlertTests_Postgres(PostgresApi api) : HygieneAlertTests<PostgresApi>(api), IClassFixture<PostgresApi>;
