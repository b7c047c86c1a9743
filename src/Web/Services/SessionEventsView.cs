using System.Text.Json;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Web.Services;

/// <summary>A problem of a session, read from its stored issue events; <see cref="Frame"/> as in <see cref="PhaseFrame"/>.</summary>
public sealed record Problem(DateTimeOffset At, BootIssueKind Kind, BootPhase Phase, string? Detail, string Hint, long? Frame = null);

/// <summary>
/// The frame a phase began with, as the collector counted it: Wireshark's frame.number in a replayed capture file,
/// the packet counter of a live capture. The evidence clip names the same number beside each of its frames.
/// </summary>
public sealed record PhaseFrame(BootPhase Phase, long Frame);

/// <summary>Retries reported at a moment of a phase, for the waterfall's marks.</summary>
public sealed record RetryMark(DateTimeOffset At, BootPhase Phase, int Count);

/// <summary>What the collector's newest snapshot says about how the session was seen: joined mid-boot, a boot loop.</summary>
public sealed record SessionMarks(bool JoinedMidBoot, int LoopCount);

/// <summary>Reads what the waterfall and the problem list need from a session's stored events.</summary>
public static class SessionEventsView
{
    // The payload is the event's JSON as the collector sent it, where "type" need not come first.
    private static readonly JsonSerializerOptions PayloadJson = new(FleetApi.Json) { AllowOutOfOrderMetadataProperties = true };

    public static List<Problem> Problems(IEnumerable<TimelineEntry> timeline) =>
        [.. Read<IssueEvent>(timeline, "issue").Select(e => new Problem(e.At, e.Event.Kind, e.Event.Phase, e.Event.Detail,
            string.IsNullOrWhiteSpace(e.Event.Hint) ? Format.FallbackHint(e.Event.Kind, e.Event.Phase) : e.Event.Hint, e.Event.Frame is > 0 ? e.Event.Frame : null))];

    /// <summary>From the newest stored snapshot that names frames (collectors before frame references name none).</summary>
    public static List<PhaseFrame> PhaseFrames(IEnumerable<TimelineEntry> timeline) =>
        timeline.OrderByDescending(t => t.Sequence).Select(Snapshot)
            .Select(s => s?.Phases.Where(p => p.StartFrame is > 0).Select(p => new PhaseFrame(p.Phase, p.StartFrame!.Value)).ToList())
            .FirstOrDefault(f => f is { Count: > 0 }) ?? [];

    public static List<RetryMark> Retries(IEnumerable<TimelineEntry> timeline) =>
        [.. Read<RetriesEvent>(timeline, "retries").Where(e => e.Event.Count > 0).Select(e => new RetryMark(e.At, e.Event.Phase, e.Event.Count))];

    /// <summary>From the newest stored session event: each carries the whole snapshot as the collector saw it.</summary>
    public static SessionMarks Marks(IEnumerable<TimelineEntry> timeline)
    {
        var newest = timeline.OrderByDescending(t => t.Sequence).Select(Snapshot).FirstOrDefault(s => s is not null);
        return newest is null ? new SessionMarks(false, 0) : new SessionMarks(newest.JoinedMidBoot, newest.LoopCount);
    }

    private static SessionSnapshot? Snapshot(TimelineEntry entry)
    {
        try
        {
            return (JsonSerializer.Deserialize<IngestEvent>(entry.Payload, PayloadJson) as SessionEvent)?.Session;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    private static IEnumerable<(DateTimeOffset At, T Event)> Read<T>(IEnumerable<TimelineEntry> timeline, string type) where T : IngestEvent
    {
        foreach (var entry in timeline.Where(t => t.Type == type))
        {
            T? e;
            try
            {
                // Read as the base type, so that the discriminator picks the kind.
                e = JsonSerializer.Deserialize<IngestEvent>(entry.Payload, PayloadJson) as T;
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException)
            {
                e = null;
            }
            if (e is not null)
                yield return (entry.Timestamp, e);
        }
    }
}
