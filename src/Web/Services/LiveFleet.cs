using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.SignalR.Client;
using PvsFleet.Contracts.Live;

namespace PvsFleet.Web.Services;

public enum LiveState
{
    Connecting,
    Live,
    Reconnecting,
}

/// <summary>
/// The live feed of the hub at /hubs/fleet, for every site. Pages listen to its events; after a reconnect they get
/// <see cref="Resynced"/> and reload, because whatever happened while the connection was down was not pushed.
/// </summary>
public interface ILiveFleet
{
    LiveState State { get; }

    event Action? StateChanged;
    event Action? Resynced;
    event Action<SessionChange>? SessionChanged;
    event Action<AlertMessage>? AlertOpened;
    event Action<AlertMessage>? AlertChanged;
    event Action<CollectorStatusMessage>? CollectorStatus;

    /// <summary>Connects once for the whole app (later calls return at once) and keeps reconnecting forever.</summary>
    void EnsureStarted();

    /// <summary>Joins the groups of sites the dashboard did not know when it connected.</summary>
    Task WatchSitesAsync(IEnumerable<string> sites);
}

public sealed class LiveFleet(NavigationManager navigation, FleetApi api, ApiKey key, ILogger<LiveFleet> log) : ILiveFleet, IAsyncDisposable
{
    private readonly HashSet<string> sites = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource stop = new();
    private HubConnection? connection;

    public LiveState State { get; private set; } = LiveState.Connecting;

    public event Action? StateChanged;
    public event Action? Resynced;
    public event Action<SessionChange>? SessionChanged;
    public event Action<AlertMessage>? AlertOpened;
    public event Action<AlertMessage>? AlertChanged;
    public event Action<CollectorStatusMessage>? CollectorStatus;

    public void EnsureStarted()
    {
        if (this.connection is not null)
            return;
        this.connection = new HubConnectionBuilder()
            .WithUrl(navigation.ToAbsoluteUri("hubs/fleet"), o => o.AccessTokenProvider = () => Task.FromResult(key.Value))
            .WithAutomaticReconnect(new ForeverRetryPolicy())
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();
        this.connection.On<SessionChange>(nameof(IFleetClient.SessionChanged), m => SessionChanged?.Invoke(m));
        this.connection.On<AlertMessage>(nameof(IFleetClient.AlertOpened), m => AlertOpened?.Invoke(m));
        this.connection.On<AlertMessage>(nameof(IFleetClient.AlertChanged), m => AlertChanged?.Invoke(m));
        this.connection.On<CollectorStatusMessage>(nameof(IFleetClient.CollectorStatus), m => CollectorStatus?.Invoke(m));
        this.connection.Reconnecting += _ =>
        {
            SetState(LiveState.Reconnecting);
            return Task.CompletedTask;
        };
        this.connection.Reconnected += async _ =>
        {
            // A new connection is in no group yet.
            await SubscribeAsync(this.sites.ToList());
            SetState(LiveState.Live);
            Resynced?.Invoke();
        };
        this.connection.Closed += error =>
        {
            // Automatic reconnect never gives up, so this is a stop or a refused first handshake: start over.
            if (!this.stop.IsCancellationRequested)
                _ = ConnectLoopAsync(resync: true);
            return Task.CompletedTask;
        };
        _ = ConnectLoopAsync(resync: false);
        _ = DiscoverSitesLoopAsync();
    }

    public async Task WatchSitesAsync(IEnumerable<string> sites)
    {
        var added = sites.Where(this.sites.Add).ToList();
        if (added.Count > 0 && this.connection?.State == HubConnectionState.Connected)
            await SubscribeAsync(added);
    }

    private async Task ConnectLoopAsync(bool resync)
    {
        var attempt = 0;
        while (!this.stop.IsCancellationRequested && this.connection is { State: HubConnectionState.Disconnected })
        {
            try
            {
                await this.connection.StartAsync(this.stop.Token);
                await SubscribeAsync(this.sites.ToList());
                SetState(LiveState.Live);
                if (resync || attempt > 0)
                    Resynced?.Invoke();
                return;
            }
            catch (Exception ex) when (!this.stop.IsCancellationRequested)
            {
                log.LogDebug(ex, "Hub connection failed");
                SetState(attempt == 0 && !resync ? LiveState.Connecting : LiveState.Reconnecting);
                attempt++;
                await Task.Delay(ForeverRetryPolicy.Delay(attempt), this.stop.Token);
            }
        }
    }

    // Sites appear when their first collector is created; look for new ones now and then.
    private async Task DiscoverSitesLoopAsync()
    {
        while (!this.stop.IsCancellationRequested)
        {
            try
            {
                var sites = await api.GetSitesAsync(this.stop.Token);
                await WatchSitesAsync(sites.Select(s => s.Name));
            }
            catch (Exception ex) when (ex is ApiException or InvalidOperationException or HttpRequestException or Microsoft.AspNetCore.SignalR.HubException)
            {
                log.LogDebug(ex, "Site discovery failed");
            }
            await Task.Delay(TimeSpan.FromSeconds(15), this.stop.Token);
        }
    }

    private async Task SubscribeAsync(IReadOnlyCollection<string> sites)
    {
        if (this.connection is null)
            return;
        foreach (var site in sites)
            await this.connection.InvokeAsync("SubscribeSite", site, this.stop.Token);
    }

    private void SetState(LiveState state)
    {
        if (State == state)
            return;
        State = state;
        StateChanged?.Invoke();
    }

    public async ValueTask DisposeAsync()
    {
        await this.stop.CancelAsync();
        if (this.connection is not null)
            await this.connection.DisposeAsync();
        this.stop.Dispose();
    }

    /// <summary>0, 1, 2, 5 s, then every 5 s for as long as it takes: an API restart must not leave a dashboard dead.</summary>
    private sealed class ForeverRetryPolicy : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => Delay(retryContext.PreviousRetryCount);

        public static TimeSpan Delay(long attempt) => attempt switch
        {
            0 => TimeSpan.Zero,
            1 => TimeSpan.FromSeconds(1),
            2 => TimeSpan.FromSeconds(2),
            _ => TimeSpan.FromSeconds(5),
        };
    }
}
