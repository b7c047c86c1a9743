using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Agent;

/// <summary>One capture thread per mirror interface, all feeding one pipeline.</summary>
public sealed class LiveSource : IFrameSource
{
    private readonly List<LiveCapture> captures;

    /// <summary>Opens every interface first, so a typo in the last one fails before any capture starts.</summary>
    /// <param name="filterFor">The BPF filter for an interface's link type (see <see cref="Filter"/>).</param>
    public LiveSource(IReadOnlyList<string> interfaces, Func<LinkType, string> filterFor, int bufferBytes)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        captures = [];
        try
        {
            foreach (var name in interfaces)
            {
                captures.Add(LiveCapture.Open(name, filterFor, bufferBytes));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The filter a live run uses per interface: the configured one, or the default for the configured ports and the
    /// interface's link type (VLAN stacks are matched on Ethernet only).
    /// </summary>
    public static Func<LinkType, string> Filter(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var custom = options.Filter;
        var ports = options.ToTrackerOptions().Ports;
        return string.IsNullOrWhiteSpace(custom) ? linkType => BootTrafficFilter.Build(ports, linkType) : _ => custom;
    }

    public string Name => string.Join(",", captures.Select(c => c.Name));

    public CaptureStatistics Statistics => captures
        .Select(c => c.Statistics)
        .Aggregate(new CaptureStatistics(0, 0, 0), (a, b) => new CaptureStatistics(a.Received + b.Received, a.Dropped + b.Dropped, a.InterfaceDropped + b.InterfaceDropped));

    public Task RunAsync(CollectorPipeline pipeline, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        for (var i = 0; i < captures.Count; i++)
        {
            pipeline.NameInterface((byte)Math.Min(i, byte.MaxValue), captures[i].Name);
        }

        return Task.WhenAll(captures.Select((capture, i) => Task.Factory.StartNew(
            () => capture.Run(pipeline, stopping, (byte)Math.Min(i, byte.MaxValue)), stopping, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
    }

    public void Dispose()
    {
        foreach (var capture in captures)
        {
            capture.Dispose();
        }
    }
}
