using System.Diagnostics.Metrics;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Tests.Agent;

/// <summary>The copies a live collector sees reach the operator: in its heartbeat to the API and in its metrics.</summary>
public sealed class CopyReportingTests : IDisposable
{
    private readonly string spoolDirectory = Path.Combine(Path.GetTempPath(), $"pvsfleet-copies-{Guid.NewGuid():N}");

    [Fact]
    public void Heartbeat_and_metrics_carry_the_duplicate_frames()
    {
        using var spool = new EventSpool(spoolDirectory);
        using var metrics = new CollectorMetrics();
        var pipeline = new CollectorPipeline(new TrackerOptions(), spool, metrics);
        var at = BootScenario.Origin;
        foreach (var frame in new BootScenario().Dhcp(7, 0).Download(1, blocks: 3).Frames)
        {
            at = at.AddMilliseconds(20);
            pipeline.Process(at, frame);
            pipeline.Process(at.AddTicks(30), FrameBuilder.Sll2(frame), LinkType.LinuxSll2);
        }

        pipeline.Heartbeat(at, "any", new CaptureStatistics(20, 0, 0));

        var heartbeat = Assert.Single(spool.Peek(1000).OfType<CollectorHeartbeatEvent>());
        Assert.True(heartbeat.DuplicateFrames > 0);
        Assert.Equal(pipeline.Counters.Packets / 2, heartbeat.DuplicateFrames);
        Assert.Equal(heartbeat.DuplicateFrames, Measure("pvsfleet.collector.duplicate_frames"));
    }

    private static long Measure(string instrument)
    {
        long value = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == CollectorMetrics.MeterName && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => value = measurement);
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }

    public void Dispose()
    {
        if (Directory.Exists(spoolDirectory))
        {
            Directory.Delete(spoolDirectory, recursive: true);
        }
    }
}
