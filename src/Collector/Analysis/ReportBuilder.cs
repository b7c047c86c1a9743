using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Analysis;

/// <summary>Collects sessions as the tracker ends them and shapes them into an <see cref="AnalysisReport"/>.</summary>
public sealed class ReportBuilder(CaptureFrameIndex? frames = null)
{
    private readonly Dictionary<MacAddress, List<SessionReport>> sessionsByDevice = [];

    public void OnSessionChanged(BootSession session, SessionChangeKind change)
    {
        if (change != SessionChangeKind.Ended)
        {
            return;
        }

        if (!sessionsByDevice.TryGetValue(session.Mac, out var sessions))
        {
            sessions = [];
            sessionsByDevice[session.Mac] = sessions;
        }

        sessions.Add(ToReport(session, frames));
    }

    public AnalysisReport Build(DateTime? captureStart, DateTime? captureEnd, TrackerCounters counters, IReadOnlyList<string> warnings) =>
        new(captureStart, captureEnd, counters.Packets, counters.Malformed,
            sessionsByDevice
                .OrderBy(d => d.Key.Value)
                .Select(d => new DeviceReport(d.Key.ToString(), d.Value.OrderBy(s => s.Start).ToList()))
                .ToList())
        {
            Warnings = warnings,
            PeakSessionsInFlight = counters.PeakSessionsInFlight,
            DuplicateFrames = counters.DuplicateFrames,
            MalformedDhcpOptions = counters.MalformedDhcpOptions,
        };

    public static SessionReport ToReport(BootSession session, CaptureFrameIndex? frames = null) =>
        new(
            session.Ip == 0 ? null : Ipv4Address.Format(session.Ip),
            session.Firmware,
            session.BootFile,
            session.Start,
            session.End,
            session.Outcome,
            session.Phase,
            session.Phases.Select(p => new PhaseReport(p.Phase, p.Start, p.End, p.Retries) { StartFrame = frames?.Find(p.StartFrame) }).ToList(),
            session.Issues.Select(i => new IssueReport(i.Kind, i.At, i.Detail) { Hint = i.Hint, Phase = i.Phase, Frame = frames?.Find(i.Frame) }).ToList())
        {
            HostName = session.HostName,
            DhcpServer = Address(session.DhcpServer),
            TftpServer = Address(session.TftpServer),
            PvsServer = Address(session.PvsServer),
            StreamServer = Address(session.StreamServer),
            JoinedMidBoot = session.JoinedMidBoot,
            LoopCount = session.LoopCount,
            Bootstrap = session.Bootstrap is { } t
                ? new BootstrapReport(t.BlocksReceived, t.BlockSize, t.WindowSize, t.TransferSize, session.BootstrapComplete)
                : null,
        };

    private static string? Address(uint address) => address == 0 ? null : Ipv4Address.Format(address);
}
