namespace PvsFleet.Api.Hosting;

internal static class LifetimeExtensions
{
    /// <summary>
    /// Waits until the host has started, so that the API listens: true then, false when <paramref name="stopping"/>
    /// comes first (the host stopped before it ever started).
    /// </summary>
    public static async Task<bool> StartedAsync(this IHostApplicationLifetime lifetime, CancellationToken stopping)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stopping.Register(() => started.TrySetCanceled(stopping));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
