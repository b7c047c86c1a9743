using System.Globalization;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Analysis;

/// <summary>
/// <c>analyze --explain MAC</c>: one device's boot as a walk-through of numbered frames — what each frame was, where a
/// phase began, what was a retry, and each problem in plain words — for the admin who opens the capture in Wireshark
/// next (<c>frame.number == N</c>). Long runs of TFTP blocks or vDisk reads are folded into one line.
/// </summary>
public sealed class DeviceWalkthrough(MacAddress device, TrackerOptions options)
{
    private readonly List<Step> steps = [];
    private readonly Dictionary<long, List<(BootSession Session, string Text)>> notesByFrame = [];
    private readonly List<(BootSession Session, string Text)> endings = [];
    private BootSession? latest;

    /// <summary>Called for every frame after the tracker processed it.</summary>
    public void OnFrame(BootTracker tracker, DateTime at, ReadOnlySpan<byte> frame, LinkType linkType)
    {
        var session = tracker.LastFrameSession;
        if (session?.Mac != device)
        {
            if (latest is null || !FrameDescriber.IsArpOf(frame, linkType, device, latest.Ip))
            {
                return;
            }

            session = latest;
        }

        var ordinal = tracker.Counters.Packets;
        var (text, kind) = FrameDescriber.Describe(frame, linkType, options);
        var retry = tracker.LastFrameWasRetry;
        var step = new Step(session, ordinal, at, text, kind, retry);
        if (notesByFrame.Remove(ordinal, out var notes))
        {
            foreach (var (noted, note) in notes)
            {
                // A frame that ends one session and starts the next (a new DISCOVER): the old session's end stays with it.
                (noted == session ? step : LastStepOf(noted) ?? step).Notes.Add(note);
            }
        }

        FlushEndings(step);

        var foldable = !retry && step.Notes.Count == 0
            && ((kind == FrameDescriber.StepKind.TftpBlock && session.Phase == BootPhase.BootstrapDownload)
                || (kind == FrameDescriber.StepKind.Streaming && session.Phase >= BootPhase.SingleReadMode));
        if (foldable && steps.Count >= 2 && steps[^1] is { Foldable: true } previous && previous.Kind == kind
            && steps[^2] is { Foldable: true } first && first.Kind == kind)
        {
            // Keep the first and the newest of a run; the ones between are counted.
            step.Folded = previous.Folded + 1;
            steps[^1] = step;
        }
        else
        {
            steps.Add(step);
        }

        step.Foldable = foldable;
    }

    /// <summary>A session's end is told after its last frame: this one if it is the session's own, else the last it had.</summary>
    private void FlushEndings(Step? next)
    {
        foreach (var (session, text) in endings)
        {
            (next?.Session == session ? next : LastStepOf(session) ?? next)?.Notes.Add(text);
        }

        endings.Clear();
    }

    /// <summary>The tracker's observer for this device's sessions: where phases begin, problems, outcomes.</summary>
    public void OnSessionChanged(BootSession session, SessionChangeKind change)
    {
        if (session.Mac != device)
        {
            return;
        }

        switch (change)
        {
            case SessionChangeKind.Started:
                latest = session;
                steps.Add(new Step(session, 0, session.Start, "", FrameDescriber.StepKind.Single, false)
                {
                    Header = session.JoinedMidBoot ? $"a boot joined mid-way, first seen in {session.Phase}" : "a boot from its first PXE DISCOVER",
                });
                Note(session, session[session.Phase].StartFrame, $"{session.Phase} begins");
                break;
            case SessionChangeKind.PhaseEntered:
                Note(session, session[session.Phase].StartFrame, $"{session.Phase} begins");
                break;
            case SessionChangeKind.IssueRaised:
                var issue = session.Issues[^1];
                var when = issue.Kind == BootIssueKind.Stuck ? "problem, after this frame" : "problem";
                Note(session, issue.Frame, $"{when}: {issue.Detail}\n            → {issue.Hint}");
                break;
            case SessionChangeKind.Ended:
                endings.Add((session, $"the session ends {session.Outcome} in {session.Phase}, retries {string.Join(", ", session.Phases.Select(p => $"{p.Phase} {p.Retries}"))}"
                    + (session.LoopCount > 0 ? $", boot loop {session.LoopCount} in a row" : "")));
                break;
        }
    }

    /// <summary>Attaches a note to the step of <paramref name="frame"/>, now if it is shown, or when it comes.</summary>
    private void Note(BootSession session, long frame, string text)
    {
        for (var i = steps.Count - 1; i >= 0 && steps[i].Frame >= frame; i--)
        {
            if (steps[i].Frame == frame)
            {
                steps[i].Notes.Add(text);
                return;
            }
        }

        if (!notesByFrame.TryGetValue(frame, out var notes))
        {
            notes = [];
            notesByFrame[frame] = notes;
        }

        notes.Add((session, text));
    }

    private Step? LastStepOf(BootSession session)
    {
        for (var i = steps.Count - 1; i >= 0; i--)
        {
            if (steps[i].Session == session && steps[i].Header is null)
            {
                return steps[i];
            }
        }

        return null;
    }

    public void Write(TextWriter output, CaptureFrameIndex frames)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(frames);
        if (steps.Count == 0)
        {
            output.WriteLine($"{device}: no boot of this device in the capture.");
            return;
        }

        FlushEndings(null);
        DateTime? origin = null;
        var session = 0;
        foreach (var step in steps)
        {
            if (step.Header is not null)
            {
                output.WriteLine();
                output.WriteLine($"{device} — session {++session}: {step.Header}");
                output.WriteLine("   frame  time (UTC)         +s       step");
                origin = step.At;
                continue;
            }

            if (step.Folded > 0)
            {
                output.WriteLine($"       …                               {step.Folded} more frames like these, none a retry");
            }

            var where = frames.Find(step.Frame);
            var number = where is null ? step.Frame.ToString(CultureInfo.InvariantCulture) : where.Number.ToString(CultureInfo.InvariantCulture);
            var seconds = (step.At - (origin ?? step.At)).TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
            output.WriteLine($"{number,8}  {step.At:HH:mm:ss.ffffff}  {seconds,8}  {step.Text}{(step.Retry ? "   ← retry" : "")}");
            foreach (var note in step.Notes)
            {
                output.WriteLine($"          ▸ {note}");
            }
        }

        foreach (var (_, note) in notesByFrame.OrderBy(n => n.Key).SelectMany(n => n.Value))
        {
            output.WriteLine($"          ▸ {note}");
        }

        if (frames.Files.Count > 1)
        {
            output.WriteLine();
            output.WriteLine($"Frame numbers are Wireshark's within each file: {string.Join(", ", frames.Files.Select(f => $"{f.File} from recording frame {f.FirstOrdinal}"))}.");
        }
    }

    private sealed class Step(BootSession session, long frame, DateTime at, string text, FrameDescriber.StepKind kind, bool retry)
    {
        public BootSession Session { get; } = session;
        public long Frame { get; } = frame;
        public DateTime At { get; } = at;
        public string Text { get; } = text;
        public FrameDescriber.StepKind Kind { get; } = kind;
        public bool Retry { get; } = retry;
        public List<string> Notes { get; } = [];
        public string? Header { get; init; }
        public bool Foldable { get; set; }
        public int Folded { get; set; }
    }
}
