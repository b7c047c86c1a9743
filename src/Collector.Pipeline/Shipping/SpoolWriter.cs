using System.Threading.Channels;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Shipping;

/// <summary>
/// Takes spool writes off the capture thread: the pipeline hands events to a bounded queue, and one writer task
/// appends them to the <see cref="EventSpool"/> in the same order (so sequence numbers follow the order of events).
/// A slow disk, an fsync per event, or a full disk therefore delays the spool, not the capture. Only when the queue is
/// full does the capture thread wait (counted as a stall): memory stays bounded, and the kernel's capture ring absorbs
/// the wait. Events in the queue are counted as spooled; a kill loses them, which is part of the loss window the
/// README states.
/// </summary>
public sealed class SpoolWriter : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly EventSpool spool;
    private readonly Channel<IngestEvent> queue;
    private readonly Action<string>? warn;
    private readonly Task pump;
    private long queued;
    private long stalls;

    public SpoolWriter(EventSpool spool, int capacity = 65_536, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(spool);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.spool = spool;
        this.warn = warn;
        queue = Channel.CreateBounded<IngestEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true, FullMode = BoundedChannelFullMode.Wait,
        });
        pump = Task.Run(PumpAsync);
    }

    /// <summary>Events handed over and not yet in the spool.</summary>
    public long Queued => Interlocked.Read(ref queued);

    /// <summary>How often the capture thread had to wait for the spool because the queue was full.</summary>
    public long Stalls => Interlocked.Read(ref stalls);

    public void Enqueue(IngestEvent e)
    {
        Interlocked.Increment(ref queued);
        if (queue.Writer.TryWrite(e))
        {
            return;
        }

        Interlocked.Increment(ref stalls);
        queue.Writer.WriteAsync(e).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Waits until every event handed over so far is in the spool.</summary>
    public async Task FlushAsync(CancellationToken cancel = default)
    {
        while (Queued > 0 && !pump.IsCompleted)
        {
            await Task.Delay(5, cancel);
        }
    }

    private async Task PumpAsync()
    {
        await foreach (var e in queue.Reader.ReadAllAsync())
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    spool.Append(e);
                    break;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A full or failing disk: keep the event and try again; the queue fills, then capture waits.
                    if (attempt == 1 || attempt % 60 == 0)
                    {
                        warn?.Invoke($"the spool cannot be written ({ex.Message}); retrying every {RetryDelay.TotalSeconds:0} s, {Queued} events waiting");
                    }

                    await Task.Delay(RetryDelay);
                }
            }

            Interlocked.Decrement(ref queued);
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await pump;
    }
}
