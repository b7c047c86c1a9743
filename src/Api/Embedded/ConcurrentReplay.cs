using PvsFleet.Collector.Agent;

namespace PvsFleet.Api.Embedded;

/// <summary>
/// Several captures replayed side by side, each looping and shifted to now on its own. One <see cref="ReplaySource"/>
/// over several files keeps their recorded distance in time (days between the sample recordings), which a demo cannot
/// wait for. The pipeline is thread-safe: a live collector on several NICs feeds it the same way.
/// </summary>
public sealed class ConcurrentReplay(IReadOnlyList<string> files, TimeProvider clock) : IFrameSource
{
    private readonly ReplaySource[] sources = [.. files.Select(f => new ReplaySource([f], 1, loop: true, shiftToNow: true, clock))];

    public string Name => string.Join(",", sources.Select(s => s.Name));

    public CaptureStatistics Statistics => new(sources.Sum(s => s.Statistics.Received), 0, 0);

    public Task RunAsync(CollectorPipeline pipeline, CancellationToken stopping) =>
        Task.WhenAll(sources.Select(s => s.RunAsync(pipeline, stopping)));

    public void Dispose()
    {
        foreach (var source in sources)
            source.Dispose();
    }
}
