namespace PvsFleet.Collector.Agent;

/// <summary>Where a collector's frames come from: live interfaces, or capture files replayed as if live.</summary>
public interface IFrameSource : IDisposable
{
    /// <summary>Interface names or file names, for heartbeats and logs.</summary>
    string Name { get; }

    CaptureStatistics Statistics { get; }

    /// <summary>Feeds the pipeline until the source ends (a replay) or <paramref name="stopping"/> fires.</summary>
    Task RunAsync(CollectorPipeline pipeline, CancellationToken stopping);
}
