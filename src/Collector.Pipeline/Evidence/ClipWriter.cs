using System.Globalization;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Evidence;

/// <summary>
/// Writes a session's kept frames as pcapng: one interface description per capture interface and link type the frames
/// came from (if_name, and if_tsresol 6 when every timestamp is whole microseconds, else 9), one EPB per frame with its
/// original timestamp and length, and a comment naming the frame in the recording and the phase or problem it marks.
/// </summary>
internal static class ClipWriter
{
    public static EvidenceClip Write(FrameStore store, FrameStore.DeviceFrames frames, BootSession session, ClipReason reason,
        string?[] interfaceNames, Func<long, string>? describeFrame)
    {
        // First pass: which interfaces, and whether their timestamps need nanoseconds.
        var interfaces = new List<(byte Id, LinkType LinkType, bool Nanoseconds)>();
        var first = DateTime.MaxValue;
        var last = DateTime.MinValue;
        var count = 0;
        store.ForEach(frames, f =>
        {
            count++;
            first = f.Timestamp < first ? f.Timestamp : first;
            last = f.Timestamp > last ? f.Timestamp : last;
            var index = interfaces.FindIndex(i => i.Id == f.Interface && i.LinkType == f.LinkType);
            var fractional = (f.Timestamp - DateTime.UnixEpoch).Ticks % 10 != 0;
            if (index < 0)
            {
                interfaces.Add((f.Interface, f.LinkType, fractional));
            }
            else if (fractional)
            {
                interfaces[index] = interfaces[index] with { Nanoseconds = true };
            }
        });

        var notes = Annotations(session);
        using var buffer = new MemoryStream();
        using (var writer = new PcapNgWriter(buffer, leaveOpen: true, [.. interfaces.Select(i => new PcapNgInterface(
            i.LinkType, interfaceNames[i.Id] ?? $"if{i.Id}", PcapNgWriter.DefaultSnapLength, i.Nanoseconds ? (byte)9 : (byte)6))]))
        {
            store.ForEach(frames, f =>
            {
                var id = interfaces.FindIndex(i => i.Id == f.Interface && i.LinkType == f.LinkType);
                var ticks = (ulong)(f.Timestamp - DateTime.UnixEpoch).Ticks;
                var units = interfaces[id].Nanoseconds ? ticks * 100 : ticks / 10;
                // Every frame names its place in the recording: the clip renumbers its frames from 1, and the events, the
                // device page and analyze name the recording's numbers (live: the capture's packet counter).
                var comment = describeFrame?.Invoke(f.Ordinal) ?? string.Create(CultureInfo.InvariantCulture, $"frame {f.Ordinal}");
                if (notes.TryGetValue(f.Ordinal, out var note))
                {
                    comment = comment is null ? note : $"{comment}: {note}";
                }

                writer.WritePacket(id, units, f.Bytes.Span, f.OriginalLength, comment);
            });
        }

        return new EvidenceClip(session.Id, session.Mac, reason, first, last, count, buffer.ToArray());
    }

    /// <summary>The frames where a phase began or a problem showed, as the device page and <c>analyze --explain</c> name them.</summary>
    private static Dictionary<long, string> Annotations(BootSession session)
    {
        var notes = new Dictionary<long, string>();
        foreach (var phase in session.Phases)
        {
            if (phase.StartFrame > 0)
            {
                Add(notes, phase.StartFrame, $"{phase.Phase} begins");
            }
        }

        foreach (var issue in session.Issues)
        {
            if (issue.Frame > 0)
            {
                Add(notes, issue.Frame, string.Create(CultureInfo.InvariantCulture, $"{issue.Kind}: {issue.Detail}"));
            }
        }

        if (session.Outcome != BootOutcome.InProgress)
        {
            Add(notes, session.LastProgressFrame, $"last progress ({session.Outcome} in {session.Phase})");
        }

        return notes;
    }

    private static void Add(Dictionary<long, string> notes, long frame, string note) =>
        notes[frame] = notes.TryGetValue(frame, out var before) ? $"{before}; {note}" : note;
}
