using System.Globalization;
using System.Net;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Ingest;

/// <summary>Checks a whole batch before anything is stored; the errors use JSON paths of the request.</summary>
public static class IngestValidator
{
    private static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Dictionary<string, string[]> Validate(IngestBatch batch, DateTimeOffset now, IngestOptions options)
    {
        var errors = new Dictionary<string, List<string>>();
        void Error(string path, string message)
        {
            if (!errors.TryGetValue(path, out var list))
                errors[path] = list = [];
            list.Add(message);
        }

        if (batch.Events is null || batch.Events.Count == 0)
        {
            Error("events", "A batch carries at least one event.");
            return Flatten(errors);
        }
        if (batch.Events.Count > options.MaxEventsPerBatch)
        {
            Error("events", $"A batch carries at most {options.MaxEventsPerBatch} events.");
            return Flatten(errors);
        }

        var latest = now + options.MaxClockSkew;
        var sequences = new HashSet<long>();
        for (var i = 0; i < batch.Events.Count; i++)
        {
            var p = $"events[{i}]";
            var e = batch.Events[i];
            if (e is null)
            {
                Error(p, "An event may not be null.");
                continue;
            }
            if (e.Sequence < 1)
                Error($"{p}.sequence", "Sequence numbers start at 1.");
            else if (!sequences.Add(e.Sequence))
                Error($"{p}.sequence", $"Sequence {e.Sequence} appears twice in the batch.");
            CheckTime(e.Timestamp, $"{p}.timestamp");

            switch (e)
            {
                case PhaseEnteredEvent pe:
                    CheckPhase(pe.Phase, $"{p}.phase");
                    break;
                case RetriesEvent re:
                    CheckPhase(re.Phase, $"{p}.phase");
                    if (re.Count < 0)
                        Error($"{p}.count", "Retries cannot be negative.");
                    break;
                case IssueEvent ie:
                    CheckPhase(ie.Phase, $"{p}.phase");
                    if (!Enum.IsDefined(ie.Kind))
                        Error($"{p}.kind", "Unknown issue kind.");
                    if (ie.Detail is { Length: > 512 })
                        Error($"{p}.detail", "At most 512 characters.");
                    if (ie.Hint is { Length: > 512 })
                        Error($"{p}.hint", "At most 512 characters.");
                    break;
                case SessionEndedEvent se:
                    if (!Enum.IsDefined(se.Outcome) || se.Outcome == BootOutcome.InProgress)
                        Error($"{p}.outcome", "An ended session is Booted, Failed or Stuck.");
                    break;
                case CollectorHeartbeatEvent hb:
                    if (hb.PacketsReceived < 0 || hb.PacketsDropped < 0 || hb.InterfaceDropped < 0 || hb.ActiveSessions < 0 || hb.SpooledEvents < 0)
                        Error(p, "Capture counters cannot be negative.");
                    if (hb.Interface is { Length: > 200 })
                        Error($"{p}.interface", "At most 200 characters.");
                    if (hb.Version is { Length: > 100 })
                        Error($"{p}.version", "At most 100 characters.");
                    break;
            }

            if (e is SessionEvent s)
                CheckSession(s.Session, $"{p}.session");
        }
        return Flatten(errors);

        void CheckTime(DateTimeOffset t, string path)
        {
            if (t < Earliest || t > latest)
                Error(path, "Timestamp out of range (before 2000 or ahead of the server's clock).");
        }

        void CheckPhase(BootPhase phase, string path)
        {
            if (!Enum.IsDefined(phase))
                Error(path, "Unknown phase.");
        }

        void CheckSession(SessionSnapshot? s, string p)
        {
            if (s is null)
            {
                Error(p, "A session event carries its session.");
                return;
            }
            if (s.SessionId == Guid.Empty)
                Error($"{p}.sessionId", "The session id is a non-empty GUID.");
            if (!Macs.TryNormalize(s.Mac, out _))
                Error($"{p}.mac", "A MAC address looks like 52:54:00:00:00:01.");
            CheckAddress(s.Ip, $"{p}.ip");
            CheckAddress(s.Servers?.Dhcp, $"{p}.servers.dhcp");
            CheckAddress(s.Servers?.Tftp, $"{p}.servers.tftp");
            CheckAddress(s.Servers?.Pvs, $"{p}.servers.pvs");
            if (!Enum.IsDefined(s.Firmware))
                Error($"{p}.firmware", "Unknown firmware.");
            CheckPhase(s.Phase, $"{p}.phase");
            if (!Enum.IsDefined(s.Outcome))
                Error($"{p}.outcome", "Unknown outcome.");
            if (s.BootFile is { Length: > 256 })
                Error($"{p}.bootFile", "At most 256 characters.");
            if (s.HostName is { Length: > 255 })
                Error($"{p}.hostName", "At most 255 characters.");
            CheckTime(s.StartedAt, $"{p}.startedAt");
            if (s.EndedAt is { } ended)
            {
                CheckTime(ended, $"{p}.endedAt");
                if (ended < s.StartedAt)
                    Error($"{p}.endedAt", "A session cannot end before it started.");
            }
            var phases = s.Phases ?? [];
            var seen = new HashSet<BootPhase>();
            for (var j = 0; j < phases.Count; j++)
            {
                var t = phases[j];
                var tp = $"{p}.phases[{j}]";
                if (t is null)
                {
                    Error(tp, "A phase may not be null.");
                    continue;
                }
                CheckPhase(t.Phase, $"{tp}.phase");
                if (!seen.Add(t.Phase))
                    Error($"{tp}.phase", "Each phase appears at most once.");
                CheckTime(t.StartedAt, $"{tp}.startedAt");
                if (t.StartedAt < s.StartedAt)
                    Error($"{tp}.startedAt", "A phase cannot start before its session.");
                if (t.EndedAt is { } end && end < t.StartedAt)
                    Error($"{tp}.endedAt", "A phase cannot end before it started.");
                if (t.Retries < 0)
                    Error($"{tp}.retries", "Retries cannot be negative.");
            }
        }

        void CheckAddress(string? address, string path)
        {
            if (address is not null && (address.Length > 45 || !IPAddress.TryParse(address, out _)))
                Error(path, "Not an IP address.");
        }
    }

    private static Dictionary<string, string[]> Flatten(Dictionary<string, List<string>> errors) =>
        errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
}

/// <summary>MAC addresses are stored as lower-case, colon-separated text.</summary>
public static class Macs
{
    public static bool TryNormalize(string? text, out string mac)
    {
        mac = "";
        if (text is null || text.Length != 17)
            return false;
        Span<char> buffer = stackalloc char[17];
        for (var i = 0; i < 17; i++)
        {
            var c = text[i];
            if (i % 3 == 2)
            {
                if (c is not (':' or '-'))
                    return false;
                buffer[i] = ':';
            }
            else
            {
                if (!char.IsAsciiHexDigit(c))
                    return false;
                buffer[i] = char.ToLowerInvariant(c);
            }
        }
        mac = new string(buffer);
        return true;
    }

    public static string Normalize(string text) =>
        TryNormalize(text, out var mac) ? mac : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"Not a MAC address: {text}"));
}
