using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Api.Alerts;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Live;

namespace PvsFleet.Api.Tests;

/// <summary>A real SignalR client talks to the hub over the test server's handler (long polling).</summary>
public abstract class HubTests<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    internal static HubConnection Connect(ApiFactory api, string? token = null) => new HubConnectionBuilder()
        .WithUrl(new Uri(api.Server.BaseAddress, "hubs/fleet"), o =>
        {
            o.HttpMessageHandlerFactory = _ => api.Server.CreateHandler();
            o.Transports = HttpTransportType.LongPolling;
            if (token is not null)
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
        })
        .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
        .Build();

    private static async Task<T> NextAsync<T>(ChannelReader<T> reader, Func<T, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var item = await reader.ReadAsync(timeout.Token);
            if (match(item))
                return item;
        }
    }

    [SkippableFact]
    public async Task Hub_pushes_session_changes_alerts_and_collector_status_to_subscribers_of_the_site()
    {
        SkipIfUnavailable();
        var (client, site) = await NewCollectorAsync();
        var (otherClient, otherSite) = await NewCollectorAsync();
        var changes = Channel.CreateUnbounded<SessionChange>();
        var alerts = Channel.CreateUnbounded<AlertMessage>();
        var statuses = Channel.CreateUnbounded<CollectorStatusMessage>();
        await using var hub = Connect(Api);
        hub.On<SessionChange>(nameof(IFleetClient.SessionChanged), c => changes.Writer.TryWrite(c));
        hub.On<AlertMessage>(nameof(IFleetClient.AlertOpened), a => alerts.Writer.TryWrite(a));
        hub.On<CollectorStatusMessage>(nameof(IFleetClient.CollectorStatus), s => statuses.Writer.TryWrite(s));
        await hub.StartAsync();
        await hub.InvokeAsync("SubscribeSite", site);

        var now = Api.Clock.GetUtcNow();
        var other = new Boot(NewMac(), now);
        await IngestOkAsync(otherClient, [other.Started(1)]);
        var boot = new Boot(NewMac(), now);
        await IngestOkAsync(client, [boot.Started(1), new PvsFleet.Contracts.Ingest.CollectorHeartbeatEvent { Sequence = 2, Timestamp = now, PacketsReceived = 42 }]);

        var change = await NextAsync(changes.Reader, _ => true);
        Assert.Equal(boot.Id, change.SessionId);
        Assert.Equal(site, change.Site);
        Assert.Equal(BootPhase.IpAcquisition, change.Phase);
        var status = await NextAsync(statuses.Reader, _ => true);
        Assert.Equal(42, status.PacketsReceived);
        Assert.False(status.Silent);

        await IngestOkAsync(client, [boot.Enter(3, BootPhase.BootstrapDownload, now.AddSeconds(1))]);
        var moved = await NextAsync(changes.Reader, _ => true);
        Assert.Equal(BootPhase.BootstrapDownload, moved.Phase);

        Api.Clock.Advance(TimeSpan.FromSeconds(40));
        await Api.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync();
        var alert = await NextAsync(alerts.Reader, a => a.SessionId == boot.Id);
        Assert.Equal("StuckSession", alert.Kind);
        Assert.Equal(site, alert.Site);

        // Nothing of the other site reached this subscriber.
        changes.Writer.TryComplete();
        alerts.Writer.TryComplete();
        await foreach (var c in changes.Reader.ReadAllAsync())
            Assert.Equal(site, c.Site);
        await foreach (var a in alerts.Reader.ReadAllAsync())
            Assert.NotEqual(otherSite, a.Site);
        Api.Clock.Advance(TimeSpan.FromMinutes(10));
        await Api.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync();
    }
}

public sealed class HubTests_Sqlite(SqliteApi api) : HubTests<SqliteApi>(api), IClassFixture<SqliteApi>;

public sealed class HubTests_Postgres(PostgresApi api) : HubTests<PostgresApi>(api), IClassFixture<PostgresApi>;

/// <summary>With an admin key configured, reading and the hub need it; collector keys only ingest.</summary>
public sealed class AuthTests(SecuredSqliteApi api) : IClassFixture<SecuredSqliteApi>
{
    [Fact]
    public async Task Read_api_and_hub_require_authentication_once_configured()
    {
        var anonymous = api.CreateClient();
        var denied = await anonymous.GetAsync("/api/v1/devices");
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Equal("application/problem+json", denied.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);

        var admin = api.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecuredSqliteApi.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/stats/boot-durations")).StatusCode);

        var key = await api.AddCollectorAsync("secure", "c1");
        var collector = api.CollectorClient(key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await collector.GetAsync("/api/v1/devices")).StatusCode);
        var adminIngest = await ApiFactory.PostJsonAsync(admin, "/api/v1/ingest",
            new PvsFleet.Contracts.Ingest.IngestBatch { Events = [new PvsFleet.Contracts.Ingest.CollectorHeartbeatEvent { Sequence = 1, Timestamp = api.Clock.GetUtcNow() }] });
        Assert.Equal(HttpStatusCode.Unauthorized, adminIngest.StatusCode);

        await using var rejected = HubTests<SecuredSqliteApi>.Connect(api);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => rejected.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        await using var accepted = HubTests<SecuredSqliteApi>.Connect(api, SecuredSqliteApi.AdminKey);
        await accepted.StartAsync();
        await accepted.InvokeAsync("SubscribeSite", "secure");
    }
}
