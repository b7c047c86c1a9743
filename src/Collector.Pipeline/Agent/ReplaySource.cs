using System.Diagnostics;
using PvsFleet.Collector.Capture;

namespace PvsFleet.Collector.Agent;

/// <summary>
/// Plays capture files through the live pipeline: at their own pace (<c>--speed 1</c>), faster, or as fast as
/// they can be read; optionally moved to the present (<c>--shift-to-now</c>) and repeated (<c>--loop</c>). The
/// tracker's clock is the replayed time, so a replay reaches the same verdicts as <c>analyze</c> at any speed.
/// </summary>
public sealed class ReplaySource(IReadOnlyList<string> files, double? speed, bool loop, bool shiftToNow, TimeProvider clock) : IFrameSource
{
    /// <summary>Quiet time between two passes of a loop, so the devices of one pass settle before the next.</summary>
    private static readonly TimeSpan LoopGap = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private long frames;

    public string Name => string.Join(",", files.Select(Path.GetFileName));

    public CaptureStatistics Statistics => new(Interlocked.Read(ref frames), 0, 0);

    public Task RunAsync(CollectorPipeline pipeline, CancellationToken stopping) =>
        Task.Factory.StartNew(() => Replay(pipeline, stopping), stopping, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Replay(CollectorPipeline pipeline, CancellationToken stopping)
    {
        var offset = TimeSpan.Zero;
        var last = DateTime.MinValue;
        var firstPass = true;
        do
        {
            var wall = Stopwatch.StartNew();
            DateTime? first = null;
            var nextTick = DateTime.MinValue;
            foreach (var file in files)
            {
                using var reader = CaptureFile.Open(file);
                while (reader.TryRead(out var captured, out var frame, out var linkType) && !stopping.IsCancellationRequested)
                {
                    if (first is null)
                    {
                        first = captured;
                        if (firstPass && shiftToNow)
                        {
                            offset = clock.GetUtcNow().UtcDateTime - captured;
                        }

                    }

                    var at = captured + offset;
                    Pace(at - (first.Value + offset), wall, stopping);
                    pipeline.Process(at, frame, linkType);
                    Interlocked.Increment(ref frames);
                    last = at > last ? at : last;
                    if (at >= nextTick)
                    {
                        pipeline.Tick(at);
                        nextTick = at + TickInterval;
                    }
                }
            }

            if (first is null || stopping.IsCancellationRequested)
            {
                break;
            }

            firstPass = false;
            offset += last - (first.Value + offset) + LoopGap;
        }
        while (loop);

        if (!stopping.IsCancellationRequested && last != DateTime.MinValue)
        {
            pipeline.Tick(last);
            pipeline.Finish(last);
        }
    }

    /// <summary>Waits until the wall clock has caught up with the replayed time divided by the speed.</summary>
    private void Pace(TimeSpan intoPass, Stopwatch wall, CancellationToken stopping)
    {
        if (speed is not { } factor)
        {
            return;
        }

        var due = intoPass / factor;
        var ahead = due - wall.Elapsed;
        if (ahead > TimeSpan.FromMilliseconds(2))
        {
            stopping.WaitHandle.WaitOne(ahead);
        }
    }

    public void Dispose()
    {
    }
}
