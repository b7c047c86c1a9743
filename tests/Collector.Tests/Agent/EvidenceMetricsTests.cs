using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Tests.Agent;

/// <summary>
/// The evidence side of a collector on its metrics: an SRE sees clips written, uploaded and lost, and the frame memory
/// held against the budget, without reading logs.
/// </summary>
public sealed class EvidenceMetricsTests : IDisposable
{
    private readonly string spoolDirectory = Path.Combine(Path.GetTempPath(), $"pvsfleet-evidence-metrics-{Guid.NewGuid():N}");

    [Fact]
    public void A_failed_boots_clip_and_the_frames_it_held_show_on_the_metrics()
    {
        using var spool = new EventSpool(spoolDirectory);
        using var metrics = new CollectorMetrics();
        var clips = new List<EvidenceClip>();
        var evidence = new EvidenceCollector(new EvidenceOptions(), clips.Add);
        var pipeline = new CollectorPipeline(new TrackerOptions(), spool, metrics, evidence: evidence);
        Assert.Equal(0, Measure("pvsfleet.collector.evidence.clips"));

        // The TFTP server refuses the bootstrap: the boot fails there and its frames become a clip.
        var at = BootScenario.Origin;
        foreach (var frame in new BootScenario().Dhcp(3, 0).At(1).ReadRequest(2070, "ARDBP32.bin")
                     .At(1.001).TftpError(fromDevice: false, 1, "File not found", 2070, 40000).Frames)
        {
            at = at.AddMilliseconds(20);
            pipeline.Process(at, frame);
        }

        var clip = Assert.Single(clips);
        Assert.Equal(1, Measure("pvsfleet.collector.evidence.clips"));
        Assert.Equal(clip.Frames, Measure("pvsfleet.collector.evidence.frames.kept"));
        Assert.Equal(evidence.Counters.BytesInUse, Measure("pvsfleet.collector.evidence.bytes"));
        Assert.True(Measure("pvsfleet.collector.evidence.bytes.peak") > 0, "the clipped frames were held before the clip");
        Assert.Equal(0, Measure("pvsfleet.collector.evidence.frames.dropped"));
    }

    [Fact]
    public void Clips_lost_to_a_full_upload_queue_are_counted()
    {
        using var metrics = new CollectorMetrics();
        using var http = new HttpClient();
        // Nothing listens there, and nothing is sent: the uploader's loop is not started, so the queue fills.
        var options = new AgentOptions { ApiUrl = new Uri("http://127.0.0.1:9/"), Key = "test" };
        options.Evidence.UploadQueueClips = 2;
        var uploader = new EvidenceUploader(http, options, NullLogger<EvidenceUploader>.Instance);
        metrics.Observe(uploader);
        var clip = new EvidenceClip(Guid.NewGuid(), BootScenario.Device, ClipReason.Failed, BootScenario.Origin, BootScenario.Origin, 0, []);

        for (var i = 0; i < 5; i++)
        {
            uploader.Enqueue(clip);
        }

        Assert.Equal(3, Measure("pvsfleet.collector.evidence.upload_dropped"));
        Assert.Equal(0, Measure("pvsfleet.collector.evidence.uploaded"));
        Assert.Equal(0, Measure("pvsfleet.collector.evidence.upload_failures"));
    }

    /// <summary>
    /// The instrument's current value. Other tests' collectors may be alive at the same time, but none of them has
    /// evidence instruments, so the one measurement is this test's.
    /// </summary>
    private static long Measure(string instrument)
    {
        var values = new List<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == CollectorMetrics.MeterName && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => values.Add(measurement));
        listener.Start();
        listener.RecordObservableInstruments();
        return Assert.Single(values);
    }

    public void Dispose()
    {
        if (Directory.Exists(spoolDirectory))
        {
            Directory.Delete(spoolDirectory, recursive: true);
        }
    }
}
