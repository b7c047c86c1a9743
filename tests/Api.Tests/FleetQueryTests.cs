using System.Net;
using System.Net.Http.Json;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>The fleet grid's server side (sorting over all devices) and the needs-attention list, on both providers.</summary>
public abstract class FleetQueryTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    [SkippableFact]
    public async Task Devices_are_sorted_on_the_server_over_every_page()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var start = Api.Clock.GetUtcNow().AddMinutes(-10);
        long seq = 1;
        var events = new List<IngestEvent>();
        // Boots of 4, 40 and 8 s, and one still running since 10 min ago: the longest.
        var quick = NewMac();
        var slow = NewMac();
        var middle = NewMac();
        events.AddRange(Boot.Booted(ref seq, quick, start, 1, 1, 1, 1));
        events.AddRange(Boot.Booted(ref seq, slow, start, 10, 10, 10, 10));
        events.AddRange(Boot.Booted(ref seq, middle, start, 2, 2, 2, 2));
        var running = new Boot(NewMac(), start);
        events.Add(running.Started(seq++));
        events.Add(running.Enter(seq++, BootPhase.PvsLogon, start.AddSeconds(5)));
        await IngestOkAsync(client, events);

        var longest = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&sort=duration&dir=desc&pageSize=2", ApiFactory.Json);
        Assert.Equal([running.Snapshot().Mac, slow], longest!.Items.Select(d => d.Mac));
        Assert.Equal(4, longest.Total);
        var next = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&sort=duration&dir=desc&pageSize=2&page=2", ApiFactory.Json);
        Assert.Equal([middle, quick], next!.Items.Select(d => d.Mac));
        var shortest = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&sort=duration&pageSize=1", ApiFactory.Json);
        Assert.Equal(quick, Assert.Single(shortest!.Items).Mac);

        var byPhase = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&sort=phase", ApiFactory.Json);
        Assert.Equal(running.Snapshot().Mac, byPhase!.Items[0].Mac);
        var macsDesc = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&dir=desc", ApiFactory.Json);
        Assert.Equal(macsDesc!.Items.Select(d => d.Mac).OrderDescending(StringComparer.Ordinal), macsDesc.Items.Select(d => d.Mac));

        var bad = await client.GetAsync($"/api/v1/devices?sort=colour&dir=up");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("sort", problem, StringComparison.Ordinal);
        Assert.Contains("dir", problem, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Attention_lists_stuck_failed_and_looping_devices_longest_waiting_first()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var now = Api.Clock.GetUtcNow();
        long seq = 1;
        var events = new List<IngestEvent>();
        var stuck = new Boot(NewMac(), now.AddMinutes(-8));
        events.Add(stuck.Started(seq++));
        events.Add(stuck.Enter(seq++, BootPhase.BootstrapDownload, now.AddMinutes(-8).AddSeconds(3)));
        events.Add(stuck.End(seq++, BootOutcome.Stuck, now.AddMinutes(-7)));
        var failed = new Boot(NewMac(), now.AddMinutes(-2));
        events.Add(failed.Started(seq++));
        events.Add(failed.End(seq++, BootOutcome.Failed, now.AddMinutes(-2).AddSeconds(4)));
        var loopMac = NewMac();
        for (var i = 3; i >= 1; i--)
        {
            var attempt = new Boot(loopMac, now.AddMinutes(-6 * i));
            events.Add(attempt.Started(seq++));
            events.Add(attempt.Enter(seq++, BootPhase.BootstrapDownload, now.AddMinutes(-6 * i).AddSeconds(2)));
            events.Add(attempt.End(seq++, BootOutcome.Failed, now.AddMinutes(-6 * i).AddSeconds(20)));
        }
        var fine = NewMac();
        events.AddRange(Boot.Booted(ref seq, fine, now.AddMinutes(-3), 1, 1, 1, 1));
        await IngestOkAsync(client, events);

        var items = await client.GetFromJsonAsync<List<AttentionItem>>($"/api/v1/attention?site={site}", ApiFactory.Json);

        Assert.NotNull(items);
        Assert.DoesNotContain(items, i => i.Mac == fine);
        Assert.Contains(items, i => i.Kind == AttentionKind.Stuck && i.Mac == stuck.Snapshot().Mac && i.Phase == BootPhase.BootstrapDownload);
        Assert.Contains(items, i => i.Kind == AttentionKind.Failed && i.Mac == failed.Snapshot().Mac);
        var loop = Assert.Single(items, i => i.Kind == AttentionKind.Looping);
        Assert.Equal(loopMac, loop.Mac);
        Assert.Contains("3 boots", loop.Detail, StringComparison.Ordinal);
        Assert.Equal(items.OrderBy(i => i.Since).Select(i => i.Since), items.Select(i => i.Since));
        Assert.All(items, i => Assert.Equal(site, i.Site));
        var elsewhere = await client.GetFromJsonAsync<List<AttentionItem>>($"/api/v1/attention?site={NewName("nowhere")}", ApiFactory.Json);
        Assert.Empty(elsewhere!);
    }
}

public sealed class FleetQueryTests_Sqlite(SqliteApi api) : FleetQueryTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class FleetQueryTests_Postgres(PostgresApi api) : FleetQueryTests<PostgresApi>(api), IClassFixture<PostgresApi>;
