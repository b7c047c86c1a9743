using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Shipping;

namespace PvsFleet.Collector.Agent;

/// <summary>
/// Runs a collector: the frame source feeding the pipeline, heartbeats, and the shipper. On shutdown (SIGTERM,
/// Ctrl+C) capture stops first, then the shipper gets a bounded time to flush; the rest waits in the spool.
/// A replay that reaches its end waits until everything was delivered, then stops the process.
/// </summary>
public sealed partial class CollectorService(
    IFrameSource source, CollectorPipeline pipeline, Shipper shipper, EventSpool spool, IOptions<AgentOptions> options,
    IHostApplicationLifetime lifetime, AgentExit exit, ILogger<CollectorService> logger, TimeProvider clock, SpoolWriter? writer = null,
    EvidenceUploader? uploader = null) : BackgroundService
{
    private static readonly TimeSpan ShutdownDrain = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(source.Name, options.Value.ApiUrl, spool.Pending);
        using var shipping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var shipperLoop = Task.Run(() => shipper.RunAsync(shipping.Token), CancellationToken.None);
        // A shipper that gave up (see Shipper.RunAsync) must not leave a collector that captures into a spool nobody
        // sends: the process stops, non-zero, for its supervisor to restart it.
        _ = shipperLoop.ContinueWith(t =>
        {
            LogShipperDied(t.Exception?.GetBaseException().Message ?? "");
            exit.Code = 3;
            lifetime.StopApplication();
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        var heartbeats = Task.Run(() => HeartbeatsAsync(shipping.Token), CancellationToken.None);
        // Clips go on their own loop: however slow their uploads, events are not held up behind them.
        var clips = uploader is null ? Task.CompletedTask : Task.Run(() => uploader.RunAsync(shipping.Token), CancellationToken.None);
        var sourceEnded = false;
        try
        {
            await source.RunAsync(pipeline, stoppingToken);
            sourceEnded = !stoppingToken.IsCancellationRequested;
        }
        catch (CaptureException e)
        {
            LogCaptureFailed(e.Message);
            exit.Code = 2;
        }

        await shipping.CancelAsync();
        try
        {
            await Task.WhenAll(shipperLoop, heartbeats, clips);
        }
        catch (Exception) when (shipperLoop.IsFaulted)
        {
            lifetime.StopApplication();
            return; // logged above; the spool keeps everything for the next start
        }

        if (sourceEnded)
        {
            // A replay that reached its end: everything it produced is delivered before the process exits.
            pipeline.Heartbeat(clock.GetUtcNow().UtcDateTime, source.Name, source.Statistics);
            await FlushAsync(stoppingToken);
            LogSourceEnded(source.Name, spool.Pending);
            await shipper.DrainAsync(stoppingToken);
            if (uploader is not null)
            {
                await uploader.DrainAsync(stoppingToken);
            }
        }
        else
        {
            using var drain = new CancellationTokenSource(ShutdownDrain);
            try
            {
                await FlushAsync(drain.Token);
            }
            catch (OperationCanceledException)
            {
                // The disk did not take the queue in time: what is left is lost with the process, and counted below.
            }

            await shipper.DrainAsync(drain.Token);
            if (uploader is not null)
            {
                await uploader.DrainAsync(drain.Token);
            }
        }

        if (writer?.Queued > 0)
        {
            LogQueueLost(writer.Queued);
        }

        var captured = source.Statistics;
        LogCaptureTotals(source.Name, captured.Received, captured.Dropped, captured.InterfaceDropped, pipeline.Counters.Packets, pipeline.Counters.Malformed);
        lifetime.StopApplication();
    }

    private Task FlushAsync(CancellationToken cancel) => writer?.FlushAsync(cancel) ?? Task.CompletedTask;

    private async Task HeartbeatsAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, clock);
        do
        {
            pipeline.Heartbeat(clock.GetUtcNow().UtcDateTime, source.Name, source.Statistics);
            if (spool.DroppedEvents > 0)
            {
                LogSpoolOverflow(spool.DroppedEvents, options.Value.SpoolMaxBytes);
            }
        }
        while (await WaitAsync(timer, stopping));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stopping);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(LogLevel.Information, "Collecting from {Source}, shipping to {Api}; {Pending} events waiting in the spool from before")]
    private partial void LogStarted(string source, Uri? api, long pending);

    [LoggerMessage(LogLevel.Information, "{Source} ended; delivering the {Pending} events still spooled")]
    private partial void LogSourceEnded(string source, long pending);

    [LoggerMessage(LogLevel.Information, "{Source}: {Received} packets received, {Dropped} dropped by the kernel, {InterfaceDropped} by the interface; {Decoded} decoded, {Malformed} malformed")]
    private partial void LogCaptureTotals(string source, long received, long dropped, long interfaceDropped, long decoded, long malformed);

    [LoggerMessage(LogLevel.Error, "{Message}")]
    private partial void LogCaptureFailed(string message);

    [LoggerMessage(LogLevel.Warning, "{Queued} events had not reached the spool when the collector stopped and are lost")]
    private partial void LogQueueLost(long queued);

    [LoggerMessage(LogLevel.Critical, "The shipper stopped for good ({Message}): the collector exits with code 3; the spool keeps every event")]
    private partial void LogShipperDied(string message);

    [LoggerMessage(LogLevel.Warning, "The spool reached its cap of {Cap} bytes: {Dropped} events were dropped so far")]
    private partial void LogSpoolOverflow(long dropped, long cap);
}

/// <summary>The process's exit code, set by whoever knows the run failed.</summary>
public sealed class AgentExit
{
    public int Code { get; set; }
}
