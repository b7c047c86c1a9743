using PvsFleet.Contracts.Live;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

/// <summary>The hub, as far as a page can tell: tests push messages and move the connection state.</summary>
public sealed class FakeLive : ILiveFleet
{
    public LiveState State { get; private set; } = LiveState.Connecting;
    public List<string> Watched { get; } = [];

    public event Action? StateChanged;
    public event Action? Resynced;
    public event Action<SessionChange>? SessionChanged;
    public event Action<AlertMessage>? AlertOpened;
    public event Action<AlertMessage>? AlertChanged;
    public event Action<CollectorStatusMessage>? CollectorStatus;

    public void EnsureStarted()
    {
    }

    public Task WatchSitesAsync(IEnumerable<string> sites)
    {
        Watched.AddRange(sites);
        return Task.CompletedTask;
    }

    public void Set(LiveState state)
    {
        State = state;
        StateChanged?.Invoke();
    }

    public void Resync() => Resynced?.Invoke();
    public void Push(SessionChange m) => SessionChanged?.Invoke(m);
    public void Opened(AlertMessage m) => AlertOpened?.Invoke(m);
    public void Changed(AlertMessage m) => AlertChanged?.Invoke(m);
    public void Collector(CollectorStatusMessage m) => CollectorStatus?.Invoke(m);
}
