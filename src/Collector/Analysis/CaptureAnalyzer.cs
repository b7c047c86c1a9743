using System.Diagnostics;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Analysis;

/// <summary>
/// Runs capture files through the boot tracker, in the order given, as one continuous recording (a ring of
/// files from one mirror port), and judges what is still open against the end of the last frame.
/// </summary>
public sealed class CaptureAnalyzer(TrackerOptions options, CaptureReaderKind readerKind = CaptureReaderKind.Auto)
{
    /// <summary>How often, in capture time, the tracker's clock is advanced (stuck marking, settling, eviction).</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    /// <summary>Prints progress lines to this writer for large files; null for none.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>The frame index of the last analysis: which file each of its frame ordinals came from.</summary>
    public CaptureFrameIndex Frames { get; private set; } = new();

    /// <param name="walkthrough">When set, it follows one device frame by frame (<c>analyze --explain</c>).</param>
    /// <param name="evidence">When set, it keeps each boot's frames and clips the failed ones (<c>analyze --evidence</c>).</param>
    public AnalysisReport Analyze(IReadOnlyList<string> paths, DeviceWalkthrough? walkthrough = null, EvidenceCollector? evidence = null)
    {
        var frames = Frames = new CaptureFrameIndex();
        var builder = new ReportBuilder(frames);
        Action<BootSession, SessionChangeKind> observe = builder.OnSessionChanged;
        if (walkthrough is not null)
        {
            observe += walkthrough.OnSessionChanged;
        }

        if (evidence is not null)
        {
            observe += evidence.OnSessionChanged;
            evidence.DescribeFrame = ordinal => frames.Find(ordinal) is { } reference ? $"frame {reference.Number} of {reference.File}" : $"frame {ordinal}";
        }

        var tracker = new BootTracker(options, observe);
        var warnings = new List<string>();
        DateTime? first = null;
        DateTime? last = null;
        var nextSweep = DateTime.MinValue;

        foreach (var path in paths)
        {
            using var reader = CaptureFile.Open(path, readerKind);
            frames.BeginFile(path, tracker.Counters.Packets);
            // Each file of the recording is its own capture interface in the clips (a ring of files may mix link types).
            var fileInterface = (byte)Math.Min(frames.Files.Count - 1, byte.MaxValue);
            evidence?.NameInterface(fileInterface, System.IO.Path.GetFileName(path));
            var progress = new ProgressReporter(Progress, reader);
            while (reader.TryRead(out var timestamp, out var frame, out var linkType))
            {
                first ??= timestamp;
                if (last is null || timestamp > last)
                {
                    last = timestamp;
                }

                tracker.Process(timestamp, frame, linkType);
                walkthrough?.OnFrame(tracker, timestamp, frame, linkType);
                evidence?.OnFrame(tracker, timestamp, frame, linkType, fileInterface);
                if (timestamp >= nextSweep)
                {
                    tracker.Advance(timestamp);
                    nextSweep = timestamp + SweepInterval;
                    progress.Report(tracker.Counters.Packets);
                }
            }

            if (reader.Damage is { } damage)
            {
                warnings.Add($"{path}: {damage}; analysed up to the damage");
            }

            if (reader is MappedCaptureReader { SkippedFrames: > 0 } mapped)
            {
                warnings.Add($"{path}: {mapped.SkippedFrames} frames were skipped: {LinkTypes.Unsupported(mapped.SkippedLinkType)}");
            }

            progress.Done(tracker.Counters.Packets);
        }

        if (last is { } end)
        {
            tracker.Finish(end);
        }

        evidence?.Complete();

        return builder.Build(first, last, tracker.Counters, warnings);
    }

    /// <summary>A line on stderr every few seconds, only for files big enough to make someone wait.</summary>
    private sealed class ProgressReporter(TextWriter? writer, ICaptureFileReader reader)
    {
        private const long BigFileBytes = 64L << 20;
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly bool enabled = writer is not null && reader.Length >= BigFileBytes;
        private TimeSpan next = Interval;

        public void Report(long packets)
        {
            if (!enabled || clock.Elapsed < next)
            {
                return;
            }

            next = clock.Elapsed + Interval;
            var share = reader.Position > 0 ? $"{100.0 * reader.Position / reader.Length:0}%, " : "";
            writer!.WriteLine($"analyze: {System.IO.Path.GetFileName(reader.Path)}: {share}{packets:N0} packets, {packets / clock.Elapsed.TotalSeconds:N0} packets/s");
        }

        public void Done(long packets)
        {
            if (enabled)
            {
                writer!.WriteLine($"analyze: {System.IO.Path.GetFileName(reader.Path)}: done, {packets:N0} packets in {clock.Elapsed.TotalSeconds:0.0} s");
            }
        }
    }
}
