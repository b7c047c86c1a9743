using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using System.IO.Compression;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Api.Alerts;
using PvsFleet.Api.Data;
using PvsFleet.Api.Queries;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>Helpers shared by the test classes that run against both providers.</summary>
public abstract class ApiTestBase<TApi>(TApi api) where TApi : ApiFactory
{
    protected TApi Api { get; } = api;
    private static int macCounter;

    protected static string NewMac()
    {
        var n = Interlocked.Increment(ref macCounter);
        return $"52:54:00:{(n >> 16) & 0xff:x2}:{(n >> 8) & 0xff:x2}:{n & 0xff:x2}";
    }

    protected static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    protected void SkipIfUnavailable() => Skip.If(Api.Unavailable is not null, Api.Unavailable);

    protected async Task<(HttpClient Client, string Site)> NewCollectorAsync(string? site = null)
    {
        site ??= NewName("site");
        var key = await Api.AddCollectorAsync(site, NewName("collector"));
        return (Api.CollectorClient(key), site);
    }

    protected async Task<IngestResult> IngestOkAsync(HttpClient client, IEnumerable<IngestEvent> events)
    {
        var response = await ApiFactory.PostJsonAsync(client, "/api/v1/ingest", new IngestBatch { Events = [.. events] });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<IngestResult>(ApiFactory.Json))!;
    }
}

/// <summary>The API's behaviour, run once against SQLite and once against PostgreSQL.</summary>
public abstract class ApiTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    private Task<int> EventCountAsync() => Api.WithDbAsync(db => db.Events.CountAsync());

    [SkippableFact]
    public async Task A_query_value_that_does_not_bind_is_answered_with_the_parameter_and_the_value()
    {
        SkipIfUnavailable();
        // In Production: in Development ASP.NET throws on a failed binding by default, and only there said why.
        await using var production = Api.WithWebHostBuilder(b => b.UseEnvironment("Production"));
        var client = production.CreateClient();
        foreach (var (url, parameter, value) in new[]
        {
            ("/api/v1/stats/boot-durations?from=yesterday", "from", "yesterday"),
            ("/api/v1/stats/slowest-devices?limit=many", "limit", "many"),
        })
        {
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            var detail = problem.GetProperty("detail").GetString();
            Assert.Contains(parameter, detail, StringComparison.Ordinal);
            Assert.Contains(value, detail, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task Migrations_match_the_model()
    {
        SkipIfUnavailable();
        var pending = await Api.WithDbAsync(db => Task.FromResult(db.Database.HasPendingModelChanges()));
        Assert.False(pending, "The model changed without a migration for this provider.");
        var applied = await Api.WithDbAsync(db => db.Database.GetAppliedMigrationsAsync());
        Assert.NotEmpty(applied);
    }

    [SkippableFact]
    public async Task Ingest_stores_session_device_and_phases()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var mac = NewMac();
        long seq = 1;
        var start = Api.Clock.GetUtcNow().AddMinutes(-5);
        var events = Boot.Booted(ref seq, mac.ToUpperInvariant(), start, 2, 3, 1.5, 20);
        var result = await IngestOkAsync(client, events);
        Assert.Equal(events.Count, result.Accepted);
        Assert.Equal(0, result.Duplicates);
        Assert.Equal(seq - 1, result.AcknowledgedThrough);

        var device = await client.GetFromJsonAsync<DeviceDetail>($"/api/v1/devices/{mac}", ApiFactory.Json);
        Assert.NotNull(device);
        Assert.Equal(mac, device.Device.Mac);
        Assert.Equal(site, device.Device.Site);
        Assert.Equal(BootOutcome.Booted, device.Device.Outcome);
        var session = Assert.Single(device.Sessions);
        Assert.Equal(26_500, session.DurationMs!.Value, 3);

        var detail = await client.GetFromJsonAsync<SessionDetail>($"/api/v1/sessions/{session.Id}", ApiFactory.Json);
        Assert.NotNull(detail);
        Assert.Equal(5, detail.Phases.Count);
        Assert.Equal(3_000, detail.Phases.Single(p => p.Phase == BootPhase.BootstrapDownload).DurationMs!.Value, 3);
        Assert.Equal(events.Count, detail.Timeline.Count);
        Assert.Equal("10.0.0.3", detail.Session.PvsServer);
    }

    [SkippableFact]
    public async Task Ingest_resent_batch_is_stored_once_and_acknowledged()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        long seq = 1;
        var events = Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-5), 1, 1, 1, 1);
        var before = await EventCountAsync();
        var first = await IngestOkAsync(client, events);
        var second = await IngestOkAsync(client, events);
        Assert.Equal(events.Count, first.Accepted);
        Assert.Equal(0, second.Accepted);
        Assert.Equal(events.Count, second.Duplicates);
        Assert.Equal(first.AcknowledgedThrough, second.AcknowledgedThrough);
        Assert.Equal(before + events.Count, await EventCountAsync());

        // Part old, part new: only the new part is stored.
        var more = Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-4), 1, 1, 1, 1);
        var mixed = await IngestOkAsync(client, events.TakeLast(2).Concat(more));
        Assert.Equal(more.Count, mixed.Accepted);
        Assert.Equal(2, mixed.Duplicates);
    }

    [SkippableFact]
    public async Task Ingest_concurrent_copies_of_a_batch_are_stored_once()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        long seq = 1;
        var events = Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-5), 1, 1, 1, 1);
        var before = await EventCountAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => IngestOkAsync(client, events)));
        Assert.Equal(events.Count, results.Sum(r => r.Accepted));
        Assert.Equal(before + events.Count, await EventCountAsync());
    }

    [SkippableFact]
    public async Task Ingest_accepts_gzip()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        long seq = 1;
        var events = Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-5), 1, 1, 1, 1);
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new IngestBatch { Events = events }, ApiFactory.Json);
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(json);
        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        var response = await client.PostAsync("/api/v1/ingest", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<IngestResult>(ApiFactory.Json);
        Assert.Equal(events.Count, result!.Accepted);
    }

    [SkippableFact]
    public async Task Ingest_requires_a_valid_unrevoked_collector_key()
    {
        SkipIfUnavailable();
        long seq = 1;
        var batch = new IngestBatch { Events = Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-5), 1) };
        var anonymous = Api.CreateClient();
        var none = await ApiFactory.PostJsonAsync(anonymous, "/api/v1/ingest", batch);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        var wrong = await ApiFactory.PostJsonAsync(Api.CollectorClient("pvsk_not-a-key"), "/api/v1/ingest", batch);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var site = NewName("site");
        var created = await Api.CreateClient().PostAsJsonAsync("/api/v1/collectors", new { site, name = "c1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var collector = await created.Content.ReadFromJsonAsync<CreatedCollector>(ApiFactory.Json);
        var client = Api.CollectorClient(collector!.Key);
        Assert.Equal(HttpStatusCode.OK, (await ApiFactory.PostJsonAsync(client, "/api/v1/ingest", batch)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Api.CreateClient().DeleteAsync($"/api/v1/collectors/{collector.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ApiFactory.PostJsonAsync(client, "/api/v1/ingest", batch)).StatusCode);
        var stored = await Api.WithDbAsync(db => db.Collectors.Where(c => c.Id == collector.Id).Select(c => c.KeyHash).SingleAsync());
        Assert.DoesNotContain(collector.Key, stored, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(BadBatchData.BadBatches), MemberType = typeof(BadBatchData))]
    public async Task Ingest_rejects_bad_batches_with_a_problem_and_stores_nothing(string why, string body, int status)
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var before = await EventCountAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await client.PostAsync("/api/v1/ingest", content);
        Assert.True(status == (int)response.StatusCode, $"{why}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await EventCountAsync());
        Assert.Equal(0, await Api.WithDbAsync(db => db.Sessions.CountAsync(s => s.Id == Guid.Parse("6f1c1f1e-0000-4000-8000-000000000001"))));
    }

    [SkippableTheory]
    [MemberData(nameof(BadBatchData.BadEvents), MemberType = typeof(BadBatchData))]
    public async Task Ingest_refuses_a_bad_event_on_its_own_and_stores_the_rest_of_the_batch(string why, string badEvent, long badSequence)
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var ts = Api.Clock.GetUtcNow().AddMinutes(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var session = $$"""{"sessionId":"{{Guid.NewGuid()}}","mac":"{{NewMac()}}","phase":"IpAcquisition","outcome":"InProgress","startedAt":"{{ts}}"}""";
        var good = $$"""{"type":"sessionStarted","sequence":1,"timestamp":"{{ts}}","session":{{session}}}""";
        var collectorId = await Api.WithDbAsync(db => db.Collectors.OrderByDescending(c => c.Id).Select(c => c.Id).FirstAsync());
        using var content = new StringContent($$"""{"events":[{{good}},{{badEvent}}]}""", Encoding.UTF8, "application/json");
        var response = await client.PostAsync("/api/v1/ingest", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{why}: {(int)response.StatusCode} {text}");
        var result = System.Text.Json.JsonSerializer.Deserialize<IngestResult>(text, ApiFactory.Json)!;
        Assert.Equal(1, result.Accepted);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal((badSequence, 1), (rejected.Sequence, rejected.Index));
        Assert.NotEmpty(rejected.Reasons);
        Assert.StartsWith("events[1]", rejected.Reasons[0], StringComparison.Ordinal);
        Assert.Equal(Math.Max(1, badSequence), result.AcknowledgedThrough);
        var stored = await Api.WithDbAsync(db => db.Events.Where(e => e.CollectorId == collectorId).Select(e => e.Sequence).ToListAsync());
        Assert.Equal([1L], stored);
        var refusedCount = await Api.WithDbAsync(db => db.CollectorInstances.Where(i => i.CollectorId == collectorId).Select(i => i.RefusedEvents).SingleAsync());
        Assert.Equal(1, refusedCount);
    }

    [SkippableFact]
    public async Task The_device_and_its_latest_session_agree_when_a_later_snapshot_moves_the_sessions_start()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var mac = NewMac();
        var start = Api.Clock.GetUtcNow().AddMinutes(-2);
        var boot = new Boot(mac, start);
        await IngestOkAsync(client, [boot.Started(1)]);
        // The tracker revised the start by a microsecond (an earlier DISCOVER of the same boot, seen late), and the boot
        // moved on: in one batch, and in a batch of its own.
        var entered = boot.Enter(2, BootPhase.BootstrapDownload, start.AddSeconds(3));
        await IngestOkAsync(client, [entered with { Session = entered.Session with { StartedAt = start.AddTicks(-10) } }]);
        await AssertDeviceFollowsAsync(BootPhase.BootstrapDownload);
        var logon = boot.Enter(3, BootPhase.PvsLogon, start.AddSeconds(5));
        var reads = boot.Enter(4, BootPhase.SingleReadMode, start.AddSeconds(6));
        await IngestOkAsync(client, [logon with { Session = logon.Session with { StartedAt = start.AddTicks(-20) } },
            reads with { Session = reads.Session with { StartedAt = start.AddTicks(-30) } }]);
        await AssertDeviceFollowsAsync(BootPhase.SingleReadMode);

        async Task AssertDeviceFollowsAsync(BootPhase phase)
        {
            var (device, session) = await Api.WithDbAsync(async db =>
            {
                var d = await db.Devices.AsNoTracking().SingleAsync(x => x.Mac == mac);
                var s = await db.Sessions.AsNoTracking().SingleAsync(x => x.Mac == mac);
                return (d, s);
            });
            Assert.Equal(phase, session.Phase);
            Assert.Equal(session.Id, device.LastSessionId);
            Assert.Equal(session.Phase, device.CurrentPhase);
            Assert.Equal(session.Outcome, device.CurrentOutcome);
            Assert.Equal(session.StartedAt, device.LastSessionStartedAt);
        }
    }

    [SkippableFact]
    public async Task A_nul_padded_host_name_is_stored_cleaned_and_the_rest_of_the_batch_with_it()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        long seq = 1;
        var mac = NewMac();
        var events = Boot.Booted(ref seq, mac, Api.Clock.GetUtcNow().AddMinutes(-5), 1, 2, 3, 4);
        var paddedMac = NewMac();
        var padded = new Boot(paddedMac, Api.Clock.GetUtcNow().AddMinutes(-4)) { HostName = "PVS-TARGET-07\0\0\0\0" };
        events.Add(padded.Started(seq++));
        events.AddRange(Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-3), 1, 2, 3, 4));
        var result = await IngestOkAsync(client, events);
        Assert.Equal(events.Count, result.Accepted);
        Assert.Empty(result.Rejected);
        var host = await Api.WithDbAsync(db => db.Sessions.Where(s => s.Mac == paddedMac).Select(s => s.HostName).SingleAsync());
        Assert.Equal("PVS-TARGET-07", host);
        Assert.Equal("PVS-TARGET-07", await Api.WithDbAsync(db => db.Devices.Where(d => d.Mac == paddedMac).Select(d => d.HostName).SingleAsync()));
    }

    [SkippableFact]
    public async Task Ingest_reads_type_anywhere_in_an_event_and_stores_each_event_exactly_as_sent()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var ts = Api.Clock.GetUtcNow().AddMinutes(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var id = Guid.NewGuid();
        // "type" last, odd spacing, an unknown property and non-ASCII text: the payload keeps all of it, byte for byte.
        var started = $$"""{ "sequence": 1, "timestamp": "{{ts}}", "session": {"sessionId":"{{id}}","mac":"{{NewMac()}}","phase":"IpAcquisition","outcome":"InProgress","startedAt":"{{ts}}"}, "type": "sessionStarted" }""";
        var heartbeat = $$"""{"type":"heartbeat","sequence":2,"timestamp":"{{ts}}","interface":"Ethernet — PVS","note":"ünïcode"}""";
        using var content = new StringContent($$"""{"comment":"ignored","events":[{{started}},  {{heartbeat}}]}""", Encoding.UTF8, "application/json");
        var response = await client.PostAsync("/api/v1/ingest", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var stored = await Api.WithDbAsync(db => db.Events
            .Where(e => db.Collectors.Any(c => c.Id == e.CollectorId && c.Site.Name == site))
            .OrderBy(e => e.Sequence).Select(e => e.Payload).ToListAsync());
        Assert.Equal([started, heartbeat], stored);
        Assert.Equal(BootPhase.IpAcquisition, await Api.WithDbAsync(db => db.Sessions.Where(s => s.Id == id).Select(s => s.Phase).SingleAsync()));
        Assert.Equal("Ethernet — PVS", await Api.WithDbAsync(db => db.Collectors.Where(c => c.Site.Name == site).Select(c => c.Interface).SingleAsync()));
    }

    [SkippableFact]
    public async Task Ingest_rejects_oversized_wrongly_typed_and_corrupt_bodies()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var before = await EventCountAsync();

        // 16 MiB is the default limit; a gzip bomb that inflates past it is cut off while reading.
        var big = new byte[17 * 1024 * 1024];
        Array.Fill(big, (byte)' ');
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            await gzip.WriteAsync(big);
        using var bomb = new ByteArrayContent(compressed.ToArray());
        bomb.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        bomb.Headers.ContentEncoding.Add("gzip");
        var tooBig = await client.PostAsync("/api/v1/ingest", bomb);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("application/problem+json", tooBig.Content.Headers.ContentType?.MediaType);

        var many = new IngestBatch { Events = [.. Enumerable.Range(1, 10_001).Select(i => new CollectorHeartbeatEvent { Sequence = i, Timestamp = Api.Clock.GetUtcNow() })] };
        var tooMany = await ApiFactory.PostJsonAsync(client, "/api/v1/ingest", many);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);

        using var text = new StringContent("{}", Encoding.UTF8, "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/v1/ingest", text)).StatusCode);

        using var corrupt = new ByteArrayContent([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]);
        corrupt.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        corrupt.Headers.ContentEncoding.Add("gzip");
        var bad = await client.PostAsync("/api/v1/ingest", corrupt);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);

        // Events are stored as sent, as text: a byte that is not UTF-8 (here in a property the API does not read) must
        // be refused before it reaches the database.
        var ts = Api.Clock.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var bytes = Encoding.UTF8.GetBytes($$"""{"events":[{"type":"heartbeat","sequence":1,"timestamp":"{{ts}}","note":"#"}]}""");
        bytes[Array.IndexOf(bytes, (byte)'#')] = 0xC3;
        using var notUtf8 = new ByteArrayContent(bytes);
        notUtf8.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var refused = await client.PostAsync("/api/v1/ingest", notUtf8);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("UTF-8", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await EventCountAsync());
    }

    [SkippableFact]
    public async Task Ingest_an_older_snapshot_arriving_late_does_not_overwrite_a_newer_one()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var start = Api.Clock.GetUtcNow().AddMinutes(-5);
        var boot = new Boot(NewMac(), start);
        var started = boot.Started(1);
        boot.Enter(2, BootPhase.BootstrapDownload, start.AddSeconds(2));
        boot.Enter(3, BootPhase.PvsLogon, start.AddSeconds(4));
        var reads = boot.Enter(4, BootPhase.SingleReadMode, start.AddSeconds(5));
        // Events 2 and 3 are lost; 4 arrives before 1.
        await IngestOkAsync(client, [reads]);
        await IngestOkAsync(client, [started]);
        var session = await Api.WithDbAsync(db => db.Sessions.SingleAsync(s => s.Id == boot.Id));
        Assert.Equal(BootPhase.SingleReadMode, session.Phase);
        Assert.Equal(4, await Api.WithDbAsync(db => db.SessionPhases.CountAsync(p => p.SessionId == boot.Id)));
        Assert.Equal(4, session.LastSequence);
    }

    [SkippableFact]
    public async Task Devices_are_filtered_and_paged()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var start = Api.Clock.GetUtcNow().AddMinutes(-10);
        long seq = 1;
        var events = new List<IngestEvent>();
        for (var i = 0; i < 5; i++)
            events.AddRange(Boot.Booted(ref seq, NewMac(), start.AddSeconds(i), 1, 1, 1, 1));
        var stuck = new Boot(NewMac(), start) { HostName = "VDA-Stuck-01" };
        events.Add(stuck.Started(seq++));
        events.Add(stuck.Enter(seq++, BootPhase.BootstrapDownload, start.AddSeconds(3)));
        await IngestOkAsync(client, events);

        var page1 = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&pageSize=2", ApiFactory.Json);
        Assert.Equal(6, page1!.Total);
        Assert.Equal(2, page1.Items.Count);
        var page3 = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&pageSize=2&page=3", ApiFactory.Json);
        Assert.Equal(2, page3!.Items.Count);
        Assert.Empty(page1.Items.Select(d => d.Mac).Intersect(page3.Items.Select(d => d.Mac)));

        var downloading = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&phase=BootstrapDownload", ApiFactory.Json);
        Assert.Equal(stuck.Snapshot().Mac, Assert.Single(downloading!.Items).Mac);
        var booted = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&outcome=Booted", ApiFactory.Json);
        Assert.Equal(5, booted!.Total);
        var byHost = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?site={site}&q=vda-stuck", ApiFactory.Json);
        Assert.Single(byHost!.Items);
        var byMac = await client.GetFromJsonAsync<Paged<DeviceView>>($"/api/v1/devices?q={stuck.Snapshot().Mac.ToUpperInvariant()}", ApiFactory.Json);
        Assert.Single(byMac!.Items);

        var badPage = await client.GetAsync($"/api/v1/devices?pageSize=100000");
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);
        Assert.Equal("application/problem+json", badPage.Content.Headers.ContentType?.MediaType);

        var sites = await client.GetFromJsonAsync<List<SiteView>>("/api/v1/sites", ApiFactory.Json);
        var mine = sites!.Single(s => s.Name == site);
        Assert.Equal(6, mine.Devices);
        Assert.Equal(1, mine.InProgressByPhase[BootPhase.BootstrapDownload]);

        var csv = await client.GetStringAsync($"/api/v1/sessions/export.csv?site={site}");
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length);
        Assert.StartsWith("session_id,site,mac", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("VDA-Stuck-01", StringComparison.Ordinal));

        var sessions = await client.GetFromJsonAsync<Paged<SessionView>>($"/api/v1/sessions?site={site}&outcome=Booted&pageSize=3", ApiFactory.Json);
        Assert.Equal(5, sessions!.Total);
        Assert.Equal(3, sessions.Items.Count);
    }

    [SkippableFact]
    public async Task Boot_duration_percentiles_match_hand_computed_values()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var hour1 = new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
        var hour2 = hour1.AddHours(1);
        long seq = 1;
        var events = new List<IngestEvent>();
        // Hour 1: boots of 10, 20, ... 100 s (bootstrap download 1..10 s of it); hour 2: 30, 60, 120 s.
        for (var i = 1; i <= 10; i++)
            events.AddRange(Boot.Booted(ref seq, NewMac(), hour1.AddMinutes(i), 2, i, 3, (10 * i) - 5 - i));
        foreach (var total in new[] { 30, 60, 120 })
            events.AddRange(Boot.Booted(ref seq, NewMac(), hour2.AddMinutes(5), 2, 4, 3, total - 9));
        await IngestOkAsync(client, events);

        var stats = await client.GetFromJsonAsync<BootDurationStats>(
            $"/api/v1/stats/boot-durations?site={site}&from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&bucket=hour", ApiFactory.Json);
        Assert.NotNull(stats);
        // Overall, 13 values sorted (s): 10 20 30 30 40 50 60 60 70 80 90 100 120.
        // p50: rank 6 -> 60; p90: rank 10.8 -> 90 + 0.8*10 = 98; p99: rank 11.88 -> 100 + 0.88*20 = 117.6.
        AssertStats(stats.Overall, 13, 60_000, 98_000, 117_600, 120_000);
        Assert.Equal(2, stats.Buckets.Count);
        Assert.Equal(hour1.UtcDateTime, stats.Buckets[0].Start);
        // Hour 1: 10..100: p50 rank 4.5 -> 55; p90 rank 8.1 -> 91; p99 rank 8.91 -> 99.1.
        AssertStats(stats.Buckets[0].Stats, 10, 55_000, 91_000, 99_100, 100_000);
        // Hour 2: 30, 60, 120: p50 60; p90 rank 1.8 -> 60 + 0.8*60 = 108; p99 rank 1.98 -> 118.8.
        AssertStats(stats.Buckets[1].Stats, 3, 60_000, 108_000, 118_800, 120_000);

        var day = await client.GetFromJsonAsync<BootDurationStats>(
            $"/api/v1/stats/boot-durations?site={site}&from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&bucket=day&phase=BootstrapDownload", ApiFactory.Json);
        // Bootstrap download: 1..10 s and 4, 4, 4 s -> 1 2 3 4 4 4 4 5 6 7 8 9 10: p50 4; p90 rank 10.8 -> 8.8; p99 rank 11.88 -> 9.88.
        AssertStats(day!.Overall, 13, 4_000, 8_800, 9_880, 10_000);
        Assert.Equal(new DateTime(2026, 11, 29, 0, 0, 0, DateTimeKind.Utc), Assert.Single(day.Buckets).Start);

        var other = await client.GetFromJsonAsync<BootDurationStats>(
            $"/api/v1/stats/boot-durations?site=nowhere&from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z", ApiFactory.Json);
        Assert.Equal(0, other!.Overall.Count);

        var bad = await client.GetAsync("/api/v1/stats/boot-durations?bucket=week");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var slowest = await client.GetFromJsonAsync<List<SlowDevice>>(
            $"/api/v1/stats/slowest-devices?site={site}&from=2026-11-29T00:00:00Z&to=2026-11-30T00:00:00Z&limit=2", ApiFactory.Json);
        Assert.Equal([120_000, 100_000], slowest!.Select(s => s.MaxMs));
    }

    private static void AssertStats(DurationStats s, long count, double p50, double p90, double p99, double max)
    {
        Assert.Equal(count, s.Count);
        Assert.Equal(p50, s.P50Ms!.Value, 3);
        Assert.Equal(p90, s.P90Ms!.Value, 3);
        Assert.Equal(p99, s.P99Ms!.Value, 3);
        Assert.Equal(max, s.MaxMs!.Value, 3);
    }

    [SkippableFact]
    public async Task Stuck_alert_from_a_collector_whose_clock_runs_ahead_never_shows_a_negative_duration()
    {
        SkipIfUnavailable();
        var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();
        var (client, _) = await NewCollectorAsync();
        // A replay shifted to now at --speed max stamps phases "later" than this server's clock.
        var boot = new Boot(NewMac(), Api.Clock.GetUtcNow().AddSeconds(20));
        var started = boot.Started(1);
        await IngestOkAsync(client, [started with { Session = started.Session with { Outcome = BootOutcome.Stuck } }]);

        var opened = Assert.Single(await evaluator.EvaluateAsync(), m => m.SessionId == boot.Id);

        Assert.Equal("StuckSession", opened.Kind);
        Assert.Contains("its collector reports no progress", opened.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("-", opened.Message.Split('(')[^1], StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Stuck_session_alert_opens_after_the_phase_threshold_and_resolves_when_the_device_moves_on()
    {
        SkipIfUnavailable();
        var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();
        var (client, site) = await NewCollectorAsync();
        var (slowClient, slowSite) = await NewCollectorAsync("slow");
        var now = Api.Clock.GetUtcNow();
        var boot = new Boot(NewMac(), now.AddSeconds(-10));
        await IngestOkAsync(client, [boot.Started(1), boot.Enter(2, BootPhase.PvsLogon, now)]);
        // The slow site allows 120 s in SingleReadMode instead of 60.
        var slow = new Boot(NewMac(), now.AddSeconds(-10));
        await IngestOkAsync(slowClient, [slow.Started(1), slow.Enter(2, BootPhase.SingleReadMode, now)]);
        var fast = new Boot(NewMac(), now.AddSeconds(-10));
        await IngestOkAsync(client, [fast.Started(3), fast.Enter(4, BootPhase.SingleReadMode, now)]);

        Api.Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.DoesNotContain(await evaluator.EvaluateAsync(), m => m.SessionId == boot.Id);

        Api.Clock.Advance(TimeSpan.FromSeconds(2));
        var opened = Assert.Single(await evaluator.EvaluateAsync(), m => m.SessionId == boot.Id);
        Assert.Equal("StuckSession", opened.Kind);
        Assert.Equal("open", opened.State);
        Assert.Empty(await evaluator.EvaluateAsync()); // no duplicates

        // Keep the collectors alive, then let SingleReadMode pass 60 s but not 120 s.
        Api.Clock.Advance(TimeSpan.FromSeconds(35));
        await IngestOkAsync(client, [new CollectorHeartbeatEvent { Sequence = 5, Timestamp = Api.Clock.GetUtcNow() }]);
        await IngestOkAsync(slowClient, [new CollectorHeartbeatEvent { Sequence = 3, Timestamp = Api.Clock.GetUtcNow() }]);
        var changes = await evaluator.EvaluateAsync();
        Assert.Contains(changes, m => m.SessionId == fast.Id && m.State == "open");
        Assert.DoesNotContain(changes, m => m.SessionId == slow.Id);

        // The device moves on to SingleReadMode: the PvsLogon alert resolves itself.
        await IngestOkAsync(client, [boot.Enter(6, BootPhase.SingleReadMode, Api.Clock.GetUtcNow())]);
        var resolved = Assert.Single(await evaluator.EvaluateAsync(), m => m.SessionId == boot.Id);
        Assert.Equal("resolved", resolved.State);

        var open = await client.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?state=open&site={site}", ApiFactory.Json);
        var fastAlert = Assert.Single(open!.Items);
        Assert.Equal(fast.Id, fastAlert.SessionId);
        var ack = await client.PostAsync($"/api/v1/alerts/{fastAlert.Id}/acknowledge", null);
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/v1/alerts/{fastAlert.Id}/acknowledge", null)).StatusCode);
        var acknowledged = await client.GetFromJsonAsync<Paged<AlertView>>($"/api/v1/alerts?state=acknowledged&site={site}", ApiFactory.Json);
        Assert.Single(acknowledged!.Items);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/alerts?state=closed")).StatusCode);
        _ = slowSite;

        // Booting through resolves the acknowledged alert too.
        await IngestOkAsync(client, [fast.Enter(7, BootPhase.BniStack, Api.Clock.GetUtcNow())]);
        Assert.Contains(await evaluator.EvaluateAsync(), m => m.SessionId == fast.Id && m.State == "resolved");
        await SilenceAllCollectorsAsync(evaluator);
    }

    [SkippableFact]
    public async Task Failed_boot_alert_resolves_when_the_device_boots_again()
    {
        SkipIfUnavailable();
        var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();
        var (client, _) = await NewCollectorAsync();
        var mac = NewMac();
        var now = Api.Clock.GetUtcNow();
        var failed = new Boot(mac, now.AddSeconds(-20));
        await IngestOkAsync(client, [failed.Started(1), failed.Enter(2, BootPhase.BootstrapDownload, now.AddSeconds(-18)), failed.End(3, BootOutcome.Failed, now.AddSeconds(-17))]);
        var opened = Assert.Single(await evaluator.EvaluateAsync(), m => m.SessionId == failed.Id);
        Assert.Equal("FailedBoot", opened.Kind);
        Assert.DoesNotContain(await evaluator.EvaluateAsync(), m => m.SessionId == failed.Id);

        long seq = 4;
        await IngestOkAsync(client, Boot.Booted(ref seq, mac, now.AddSeconds(-5), 1, 1, 1, 1));
        var resolved = Assert.Single(await evaluator.EvaluateAsync(), m => m.SessionId == failed.Id);
        Assert.Equal("resolved", resolved.State);
        await SilenceAllCollectorsAsync(evaluator);
    }

    [SkippableFact]
    public async Task Silent_collector_alert_opens_after_two_minutes_and_its_devices_are_not_called_stuck()
    {
        SkipIfUnavailable();
        var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();
        await SilenceAllCollectorsAsync(evaluator);
        var (client, site) = await NewCollectorAsync();
        var boot = new Boot(NewMac(), Api.Clock.GetUtcNow());
        await IngestOkAsync(client, [boot.Started(1)]);

        Api.Clock.Advance(TimeSpan.FromSeconds(119));
        var early = await evaluator.EvaluateAsync();
        Assert.DoesNotContain(early, m => m.Kind == "CollectorSilent" && m.Site == site);
        Assert.Contains(early, m => m.SessionId == boot.Id && m.Kind == "StuckSession");

        Api.Clock.Advance(TimeSpan.FromSeconds(2));
        var silent = Assert.Single(await evaluator.EvaluateAsync(), m => m.Site == site);
        Assert.Equal("CollectorSilent", silent.Kind);

        // A second stuck session of the silent collector opens nothing: the collector may be the broken part.
        var other = new Boot(NewMac(), Api.Clock.GetUtcNow().AddMinutes(-5));
        await using (var scope = Api.Services.CreateAsyncScope())
        {
            // Written directly: any ingest would count as a sign of life.
            var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
            var collector = await db.Collectors.SingleAsync(c => c.Site.Name == site);
            var device = new Device { Mac = other.Snapshot().Mac, SiteId = collector.SiteId, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow, LastSessionId = other.Id };
            db.Devices.Add(device);
            db.Sessions.Add(new StoredSession
            {
                Id = other.Id, Device = device, Mac = device.Mac, SiteId = collector.SiteId, CollectorId = collector.Id,
                Phase = BootPhase.PvsLogon, StartedAt = Api.Clock.GetUtcNow().UtcDateTime.AddMinutes(-5),
                PhaseStartedAt = Api.Clock.GetUtcNow().UtcDateTime.AddMinutes(-5),
            });
            await db.SaveChangesAsync();
        }
        Assert.DoesNotContain(await evaluator.EvaluateAsync(), m => m.SessionId == other.Id);

        await IngestOkAsync(client, [new CollectorHeartbeatEvent { Sequence = 2, Timestamp = Api.Clock.GetUtcNow(), PacketsReceived = 10 }]);
        var after = await evaluator.EvaluateAsync();
        Assert.Contains(after, m => m.Kind == "CollectorSilent" && m.Site == site && m.State == "resolved");
        Assert.Contains(after, m => m.SessionId == other.Id && m.State == "open");
        await SilenceAllCollectorsAsync(evaluator);
    }

    // Other tests share the database: move the clock far so their collectors are silent and settled.
    private async Task SilenceAllCollectorsAsync(AlertEvaluator evaluator)
    {
        Api.Clock.Advance(TimeSpan.FromMinutes(10));
        await evaluator.EvaluateAsync();
    }

    [SkippableFact]
    public async Task Operations_endpoints_answer()
    {
        SkipIfUnavailable();
        var client = Api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        var openapi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/v1/ingest", openapi, StringComparison.Ordinal);
        Assert.Contains("/api/v1/stats/boot-durations", openapi, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/scalar/v1")).StatusCode);
        var (collector, _) = await NewCollectorAsync();
        long seq = 1;
        await IngestOkAsync(collector, Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-1), 1, 1, 1, 1));
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("pvsfleet_events_ingested", metrics, StringComparison.Ordinal);
        var missing = await client.GetAsync("/api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}

public sealed class ApiTests_Sqlite(SqliteApi api) : ApiTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class ApiTests_Postgres(PostgresApi api) : ApiTests<PostgresApi>(api), IClassFixture<PostgresApi>;

public static class BadBatchData
{
    private const string Ts = "2026-11-30T07:55:00Z";

    private static string Session(string mac = "52:54:00:aa:bb:cc", string extra = "") =>
        $$"""{"sessionId":"6f1c1f1e-0000-4000-8000-000000000001","mac":"{{mac}}","phase":"IpAcquisition","outcome":"InProgress","startedAt":"{{Ts}}"{{extra}}}""";

    private static string Good(int seq) => $$"""{"type":"sessionStarted","sequence":{{seq}},"timestamp":"{{Ts}}","session":{{Session()}}}""";

    /// <summary>Batches refused whole: nothing in them can be refused on its own.</summary>
    public static TheoryData<string, string, int> BadBatches() => new()
    {
        { "not json", "{\"events\": [", 400 },
        { "no events", """{"events":[]}""", 400 },
        { "events not an array", """{"events":{}}""", 400 },
        { "null event", $$"""{"events":[{{Good(1)}},null]}""", 400 },
        { "something after the batch", $$"""{"events":[{{Good(1)}}]} {}""", 400 },
        { "an event without a readable sequence", $$"""{"events":[{{Good(1)}},{"type":"reboot","timestamp":"{{Ts}}"}]}""", 400 },
        { "number overflow", $$"""{"events":[{"type":"heartbeat","sequence":99999999999999999999,"timestamp":"{{Ts}}"}]}""", 400 },
        { "instance not a guid", $$"""{"instance":"node-1","events":[{{Good(1)}}]}""", 400 },
    };

    /// <summary>Events refused on their own (the second of the batch), with the sequence the refusal names.</summary>
    public static TheoryData<string, string, long> BadEvents() => new()
    {
        { "unknown type", $$"""{"type":"reboot","sequence":2,"timestamp":"{{Ts}}"}""", 2 },
        { "missing session", $$"""{"type":"sessionStarted","sequence":2,"timestamp":"{{Ts}}"}""", 2 },
        { "bad mac", $$"""{"type":"sessionStarted","sequence":2,"timestamp":"{{Ts}}","session":{{Session("52:54:00:zz:00:01")}}}""", 2 },
        { "sequence zero", $$"""{"type":"sessionStarted","sequence":0,"timestamp":"{{Ts}}","session":{{Session()}}}""", 0 },
        { "sequence twice", $$"""{"type":"heartbeat","sequence":1,"timestamp":"{{Ts}}"}""", 1 },
        { "future timestamp", """{"type":"heartbeat","sequence":2,"timestamp":"2031-01-01T00:00:00Z"}""", 2 },
        { "ancient timestamp", """{"type":"heartbeat","sequence":2,"timestamp":"1999-01-01T00:00:00Z"}""", 2 },
        { "unknown phase", $$"""{"type":"phaseEntered","sequence":2,"phase":"Warp","timestamp":"{{Ts}}","session":{{Session()}}}""", 2 },
        { "phase number out of range", $$"""{"type":"phaseEntered","sequence":2,"phase":9,"timestamp":"{{Ts}}","session":{{Session()}}}""", 2 },
        { "ended in progress", $$"""{"type":"sessionEnded","sequence":2,"outcome":"InProgress","timestamp":"{{Ts}}","session":{{Session()}}}""", 2 },
        { "bad ip", $$"""{"type":"sessionStarted","sequence":2,"timestamp":"{{Ts}}","session":{{Session(extra: ",\"ip\":\"10.0.0.999\"")}}}""", 2 },
        { "phase ends before start", $$"""{"type":"sessionStarted","sequence":2,"timestamp":"{{Ts}}","session":{{Session(extra: $",\"phases\":[{{\"phase\":\"IpAcquisition\",\"startedAt\":\"{Ts}\",\"endedAt\":\"2026-11-30T07:00:00Z\"}}]")}}}""", 2 },
        { "negative retries", $$"""{"type":"retries","sequence":2,"phase":"IpAcquisition","count":-1,"timestamp":"{{Ts}}","session":{{Session()}}}""", 2 },
        { "retries that would overflow a sum", $$"""{"type":"sessionStarted","sequence":2,"timestamp":"{{Ts}}","session":{{Session(extra: $",\"phases\":[{{\"phase\":\"IpAcquisition\",\"startedAt\":\"{Ts}\",\"retries\":2147483647}}]")}}}""", 2 },
        { "negative counters", $$"""{"type":"heartbeat","sequence":2,"timestamp":"{{Ts}}","packetsDropped":-5}""", 2 },
    };
}
