namespace PvsFleet.Web.Services;

/// <summary>
/// Runs an action at most once per interval however often it is asked for: a boot storm pushes hundreds of changes
/// a second and the page needs to redraw a few times a second, not hundreds. The first request after a quiet
/// spell runs at once, so a single change shows without delay.
/// </summary>
public sealed class Throttle(TimeSpan interval, Func<Task> action, TimeProvider? clock = null) : IDisposable
{
    private readonly TimeProvider clock = clock ?? TimeProvider.System;
    private readonly CancellationTokenSource disposed = new();
    private DateTimeOffset last = DateTimeOffset.MinValue;
    private bool scheduled;

    public void Request()
    {
        if (scheduled || disposed.IsCancellationRequested)
            return;
        var wait = last + interval - this.clock.GetUtcNow();
        scheduled = true;
        _ = RunAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    private async Task RunAsync(TimeSpan wait)
    {
        try
        {
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, this.clock, disposed.Token);
            else
                await Task.Yield();
        }
        catch (OperationCanceledException)
        {
            return;
        }
        scheduled = false;
        last = this.clock.GetUtcNow();
        await action();
    }

    public void Dispose()
    {
        disposed.Cancel();
        disposed.Dispose();
    }
}
