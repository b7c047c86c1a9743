using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Live;
using PvsFleet.Deploy.Tests.Support;

namespace PvsFleet.Deploy.Tests;

/// <summary>
/// Two API replicas as real processes against one PostgreSQL database and one Redis server, as a Kubernetes
/// Deployment with replicas: 2 runs them.
/// </summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private readonly TestDatabase database = new();
    private readonly List<ApiReplica> replicas = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        await database.DisposeAsync();
    }

    [SkippableFact]
    public async Task Hub_client_on_replica_B_receives_a_session_ingested_through_replica_A()
    {
        var (a, b) = await StartTwoAsync(alerts: false);
        var key = await a.AddCollectorAsync("site-east", "c1");

        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(b.Url, "hubs/fleet"), o => o.Transports = HttpTransportType.WebSockets)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        var changes = Channel.CreateUnbounded<SessionChange>();
        hub.On<SessionChange>(nameof(IFleetClient.SessionChanged), c => changes.Writer.TryWrite(c));
        await hub.StartAsync();
        await hub.InvokeAsync("SubscribeSite", "site-east");

        var session = Guid.NewGuid();
        await IngestAsync(a, key, Started(1, session, "52:54:00:aa:00:01", DateTimeOffset.UtcNow));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var change = await changes.Reader.ReadAsync(timeout.Token);
        Assert.Equal(session, change.SessionId);
        Assert.Equal("site-east", change.Site, ignoreCase: true);
    }

    [SkippableFact]
    public async Task A_stuck_device_raises_one_alert_across_replicas_and_the_other_replica_takes_over_when_the_leader_dies()
    {
        var (a, b) = await StartTwoAsync(alerts: true);
        var key = await a.AddCollectorAsync("site-west", "c1");

        // Ten minutes in IpAcquisition: far beyond its 30 s threshold.
        const string first = "52:54:00:bb:00:01";
        await IngestAsync(a, key, Started(1, Guid.NewGuid(), first, DateTimeOffset.UtcNow.AddMinutes(-10)));
        await WaitForAlertAsync(first);
        // Both replicas run their evaluator every 200 ms; give them many rounds to race.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(1, await AlertsForAsync(first));

        var leaders = replicas.Where(r => r.Output.Contains("now evaluates alerts", StringComparison.Ordinal)).ToList();
        Assert.Single(leaders);

        // The leader dies: its session ends, PostgreSQL frees the lock, the other replica takes over.
        var leader = leaders[0];
        var survivor = leader == a ? b : a;
        leader.Kill();
        const string second = "52:54:00:bb:00:02";
        await IngestAsync(survivor, key, Started(2, Guid.NewGuid(), second, DateTimeOffset.UtcNow.AddMinutes(-10)));
        await WaitForAlertAsync(second);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await AlertsForAsync(second));
        Assert.Equal(1, await AlertsForAsync(first));
        Assert.Contains("now evaluates alerts", survivor.Output, StringComparison.Ordinal);
    }

    private async Task<(ApiReplica A, ApiReplica B)> StartTwoAsync(bool alerts)
    {
        database.SkipUnlessAvailable();
        TestRedis.SkipUnlessAvailable();
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Redis"] = TestRedis.Endpoint!,
            // Other tests (and other runs) may share the Redis server.
            ["PvsFleet__RedisChannelPrefix"] = "pvsfleet-test-" + Guid.NewGuid().ToString("N")[..8],
            ["PvsFleet__Alerts__Enabled"] = alerts ? "true" : "false",
            ["PvsFleet__Alerts__EvaluationInterval"] = "00:00:00.200",
        };
        var a = new ApiReplica(database.ConnectionString!, settings);
        replicas.Add(a);
        await a.StartAsync();
        var b = new ApiReplica(database.ConnectionString!, settings);
        replicas.Add(b);
        await b.StartAsync();
        return (a, b);
    }

    private static SessionStartedEvent Started(long sequence, Guid id, string mac, DateTimeOffset at) => new()
    {
        Sequence = sequence,
        Timestamp = at,
        Session = new SessionSnapshot
        {
            SessionId = id, Mac = mac, Firmware = Firmware.Uefi, Phase = BootPhase.IpAcquisition, Outcome = BootOutcome.InProgress,
            StartedAt = at, Phases = [new PhaseTiming { Phase = BootPhase.IpAcquisition, StartedAt = at }],
        },
    };

    private static async Task IngestAsync(ApiReplica replica, string key, IngestEvent e)
    {
        using var http = new HttpClient { BaseAddress = replica.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.PostAsJsonAsync("api/v1/ingest", new IngestBatch { Events = [e] }, Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var result = await response.Content.ReadFromJsonAsync<IngestResult>(Json);
        Assert.Equal(1, result!.Accepted);
    }

    private async Task WaitForAlertAsync(string mac)
    {
        for (var i = 0; i < 100 && await AlertsForAsync(mac) == 0; i++)
        {
            await Task.Delay(200);
        }

        Assert.True(await AlertsForAsync(mac) > 0, $"no alert for {mac}:\n{string.Join("\n---\n", replicas.Select(r => r.Output))}");
    }

    private Task<long> AlertsForAsync(string mac) =>
        database.CountAsync($"SELECT count(*) FROM \"Alerts\" WHERE lower(\"Mac\") = '{mac}'");
}
