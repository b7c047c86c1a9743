using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Shipping;

/// <summary>
/// Turns what the tracker reports into the API's ingest events. Every event carries the whole session snapshot,
/// so the API can rebuild a session from any one of them. Sequence numbers are the spool's to give.
/// </summary>
public sealed class SessionEvents(Action<IngestEvent> sink, TimeSpan? progressInterval = null)
{
    /// <summary>
    /// How often, at most, a session in flight that made progress is reported although nothing else changed: the API
    /// judges "stuck" by the last progress it heard of, so this must stay well below the shortest stuck threshold.
    /// </summary>
    public static readonly TimeSpan DefaultProgressInterval = TimeSpan.FromSeconds(10);

    private readonly TimeSpan progressEvery = progressInterval ?? DefaultProgressInterval;
    private readonly Dictionary<Guid, int> reportedRetries = [];
    private readonly Dictionary<Guid, (DateTime Progress, DateTime At)> reportedProgress = [];
    private bool stoppedWatching;

    /// <summary>
    /// From now on an "ended" session that had not finished (in progress, stuck) is the collector leaving, not the
    /// boot ending: it is reported as it stands instead of as ended.
    /// </summary>
    public void StopWatching() => stoppedWatching = true;

    public void OnSessionChanged(BootSession session, SessionChangeKind change)
    {
        ArgumentNullException.ThrowIfNull(session);
        var at = session.LastActivity;
        IngestEvent e = change switch
        {
            SessionChangeKind.Started => new SessionStartedEvent { Sequence = 0, Timestamp = session.Start, Session = Snapshot(session) },
            SessionChangeKind.PhaseEntered => new PhaseEnteredEvent { Sequence = 0, Timestamp = session[session.Phase].Start, Session = Snapshot(session), Phase = session.Phase },
            SessionChangeKind.IssueRaised => Issue(session),
            SessionChangeKind.Ended when stoppedWatching && session.Outcome is BootOutcome.InProgress or BootOutcome.Stuck => Retries(session, at),
            SessionChangeKind.Ended => new SessionEndedEvent
            {
                Sequence = 0,
                Timestamp = session.End ?? at,
                Session = Snapshot(session) with { Outcome = Final(session.Outcome) },
                Outcome = Final(session.Outcome),
            },
            // The contract has no outcome event: a retries report with the fresh snapshot carries Stuck / resumed.
            _ => Retries(session, at),
        };
        sink(e);
        reportedProgress[session.Id] = (session.LastProgress, e.Timestamp.UtcDateTime);
        if (change == SessionChangeKind.Ended)
        {
            reportedRetries.Remove(session.Id);
            reportedProgress.Remove(session.Id);
        }
    }

    /// <summary>
    /// Reports retries counted since the last report, for sessions still in flight (called every few seconds), and the
    /// progress of sessions that made some but have not been reported for <see cref="DefaultProgressInterval"/>: a
    /// long, healthy phase (a slow vDisk read in SingleReadMode) keeps telling the API that it is alive. Both go out as
    /// a retries event (count 0 when only progress is new) carrying the fresh snapshot.
    /// </summary>
    public void ReportRetries(IEnumerable<BootSession> sessions, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        foreach (var session in sessions)
        {
            // Only sessions reported before and not ended (the tracker keeps ended ones a while to recognise reboots).
            var progressed = reportedProgress.TryGetValue(session.Id, out var reported)
                && session.LastProgress > reported.Progress && now - reported.At >= progressEvery;
            if (TotalRetries(session) != reportedRetries.GetValueOrDefault(session.Id) || progressed)
            {
                sink(Retries(session, now));
                reportedProgress[session.Id] = (session.LastProgress, now);
            }
        }
    }

    private RetriesEvent Retries(BootSession session, DateTime at)
    {
        var total = TotalRetries(session);
        var added = total - reportedRetries.GetValueOrDefault(session.Id);
        reportedRetries[session.Id] = total;
        return new RetriesEvent { Sequence = 0, Timestamp = at, Session = Snapshot(session), Phase = session.Phase, Count = Math.Max(0, added) };
    }

    private static IssueEvent Issue(BootSession session)
    {
        var issue = session.Issues[^1];
        var detail = issue.Detail.Length > 512 ? issue.Detail[..512] : issue.Detail;
        var hint = issue.Hint.Length > 512 ? issue.Hint[..512] : issue.Hint;
        return new IssueEvent
        {
            Sequence = 0, Timestamp = issue.At, Session = Snapshot(session), Kind = issue.Kind, Phase = issue.Phase, Detail = detail, Hint = hint,
            Server = issue.Server, Frame = KnownFrame(issue.Frame),
        };
    }

    /// <summary>The tracker numbers frames from 1; 0 is a phase or problem no frame marked (a session joined mid-boot, a timeout).</summary>
    private static long? KnownFrame(long ordinal) => ordinal > 0 ? ordinal : null;

    /// <summary>A session given up while in progress ends as Stuck: the API never sees InProgress as an end.</summary>
    private static BootOutcome Final(BootOutcome outcome) => outcome == BootOutcome.InProgress ? BootOutcome.Stuck : outcome;

    private static int TotalRetries(BootSession session) => session.Phases.Sum(p => p.Retries);

    public static SessionSnapshot Snapshot(BootSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new SessionSnapshot
        {
            SessionId = session.Id,
            Mac = session.Mac.ToString(),
            Ip = Address(session.Ip),
            Firmware = session.Firmware,
            BootFile = session.BootFile,
            HostName = session.HostName,
            Phase = session.Phase,
            Outcome = session.Outcome,
            StartedAt = session.Start,
            EndedAt = session.End,
            JoinedMidBoot = session.JoinedMidBoot,
            LoopCount = session.LoopCount,
            LastProgressAt = session.LastProgress,
            Phases = session.Phases.Select(p => new PhaseTiming { Phase = p.Phase, StartedAt = p.Start, EndedAt = p.End, Retries = p.Retries, StartFrame = KnownFrame(p.StartFrame) }).ToList(),
            Servers = new SessionServers { Dhcp = Address(session.DhcpServer), Tftp = Address(session.TftpServer), Pvs = Address(session.PvsServer),
                Stream = Address(session.StreamServer) },
        };
    }

    private static string? Address(uint address) => address == 0 ? null : Ipv4Address.Format(address);
}
