namespace PvsFleet.Web.Services;

/// <summary>
/// Runs an action at most once per interval however often it is asked for: a boot storm pushes hundreds of changes
/// a second and the page needs to redraw a few times a second, not hundreds. The first request after a quiet
/// spell runs at once, so a single change shows without delay.
/// </summary>
public sealed class Throttle(TimeSpan interval, Func<Task> action, TimeProvider? clock = null) : IDisposable
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly CancellationTokenSource _disposed = new();
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private bool _scheduled;

    public void Request()
    {
        if (_scheduled || _disposed.IsCancellationRequested)
            return;
        var wait = _last + interval - _clock.GetUtcNow();
        _scheduled = true;
        _ = RunAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    private async Task RunAsync(TimeSpan wait)
    {
        try
        {
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, _clock, _disposed.Token);
            else
                await Task.Yield();
        }
        catch (OperationCanceledException)
        {
            return;
        }
        _scheduled = false;
        _last = _clock.GetUtcNow();
        await action();
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
