using PvsFleet.Collector.Tracking;
using PvsFleet.Collector.Analysis;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// The ground truth of one boot session, written down by the device's script as it emits frames — the simulator
/// knows what it put on the wire, so the truth never depends on re-reading the capture.
/// </summary>
internal sealed class SessionRecorder
{
    private readonly List<PhaseEntry> phases = [];
    private BootOutcome? outcome;
    private long? end;
    private IssueReport? failure;
    private long lastStreamPacket;

    public SessionRecorder(long start, Firmware firmware)
    {
        Start = start;
        Firmware = firmware;
        LastProgress = start;
        phases.Add(new PhaseEntry(BootPhase.IpAcquisition, start));
    }

    public long Start { get; private set; }
    public Firmware Firmware { get; private set; }
    public bool JoinedMidBoot { get; private set; }
    public int LoopCount { get; set; }
    public string? Ip { get; set; }
    public string? BootFile { get; set; }
    public string? HostName { get; set; }
    public string? DhcpServer { get; set; }
    public string? TftpServer { get; set; }
    public string? PvsServer { get; set; }

    public BootPhase Phase => phases[^1].Phase;

    /// <summary>The last moment the session moved forward; retransmits never count.</summary>
    public long LastProgress { get; private set; }

    /// <summary>False once the session has a definitive outcome (Booted or Failed).</summary>
    public bool IsOpen => outcome is null;

    public void EnterPhase(BootPhase phase, long at)
    {
        phases.Add(new PhaseEntry(phase, at));
        Progress(at);
        if (phase == BootPhase.BniStack)
            outcome = BootOutcome.Booted;
    }

    /// <summary>
    /// The recording begins here, in <paramref name="phase"/>: what came before is not on the wire, so the tracker joins the
    /// boot from this frame knowing nothing DHCP told (firmware, DHCP server) and none of the earlier phases or retries.
    /// </summary>
    public void JoinAt(BootPhase phase, long at)
    {
        Start = at;
        LastProgress = at;
        JoinedMidBoot = true;
        Firmware = Firmware.Unknown;
        DhcpServer = null;
        if (phase > BootPhase.BootstrapDownload)
        {
            BootFile = null;
            TftpServer = null;
        }

        phases.Clear();
        phases.Add(new PhaseEntry(phase, at));
    }

    public void Retry() => phases[^1].Retries++;

    public void Progress(long at) => LastProgress = Math.Max(LastProgress, at);

    /// <summary>In BNIStack the session (and the phase) ends with the last stream-port packet of the device.</summary>
    public void StreamPacket(long at)
    {
        if (Phase == BootPhase.BniStack)
            lastStreamPacket = at;
    }

    public void Fail(BootIssueKind kind, long at, string detail)
    {
        outcome = BootOutcome.Failed;
        end = at;
        failure = new IssueReport(kind, SimulationClock.ToDateTime(at), detail);
    }

    /// <summary>
    /// Seals the session at the end of the capture: an open session whose silence exceeds its phase's threshold is
    /// Stuck, otherwise InProgress; either way it has no end yet.
    /// </summary>
    public SessionReport ToReport(long captureEnd, TrackerOptions thresholds)
    {
        var finalOutcome = outcome ?? (captureEnd - LastProgress > ThresholdMicros(Phase, thresholds) ? BootOutcome.Stuck : BootOutcome.InProgress);
        var sessionEnd = finalOutcome switch
        {
            BootOutcome.Booted => lastStreamPacket,
            BootOutcome.Failed => end,
            _ => (long?)null,
        };

        var reports = new PhaseReport[phases.Count];
        for (var i = 0; i < phases.Count; i++)
        {
            var phaseEnd = i + 1 < phases.Count ? phases[i + 1].Start : sessionEnd;
            reports[i] = new PhaseReport(phases[i].Phase, SimulationClock.ToDateTime(phases[i].Start), SimulationClock.ToDateTime(phaseEnd), phases[i].Retries);
        }

        List<IssueReport> issues = [];
        if (failure is not null)
            issues.Add(failure);
        if (finalOutcome == BootOutcome.Stuck)
        {
            var stuckAt = LastProgress + ThresholdMicros(Phase, thresholds);
            issues.Add(new IssueReport(BootIssueKind.Stuck, SimulationClock.ToDateTime(stuckAt), $"no progress in {Phase}"));
        }

        return new SessionReport(Ip, Firmware, BootFile, SimulationClock.ToDateTime(Start), SimulationClock.ToDateTime(sessionEnd),
            finalOutcome, Phase, reports, issues)
        {
            HostName = HostName,
            DhcpServer = DhcpServer,
            TftpServer = TftpServer,
            PvsServer = PvsServer,
            JoinedMidBoot = JoinedMidBoot,
            LoopCount = LoopCount,
        };
    }

    public static long ThresholdMicros(BootPhase phase, TrackerOptions thresholds)
    {
        var threshold = thresholds.StuckThreshold(phase);
        return threshold == TimeSpan.MaxValue ? long.MaxValue : threshold.Ticks / TimeSpan.TicksPerMicrosecond;
    }

    private sealed class PhaseEntry(BootPhase phase, long start)
    {
        public BootPhase Phase { get; } = phase;
        public long Start { get; } = start;
        public int Retries { get; set; }
    }
}
