using System.Globalization;
using System.Net;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Ingest;

/// <summary>
/// Checks a batch event by event: an event with errors is refused on its own and the rest is stored. The errors use
/// JSON paths of the request. They are written only when something is wrong: a valid batch of a thousand events should
/// cost no strings at all.
/// </summary>
public static class IngestValidator
{
    private static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Retries of one phase above this are not a device retrying but a broken counter; it also keeps every sum of
    /// retries (a session's five phases, a site's sessions) far from overflowing.
    /// </summary>
    public const int MaxRetries = 10_000_000;

    /// <summary>Why the batch as a whole is refused (nothing is stored), or null.</summary>
    public static string? CheckBatch(IngestRead batch, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(options);
        if (batch.Events is null || batch.Count == 0)
            return "A batch carries at least one event.";
        if (batch.Count > options.MaxEventsPerBatch)
            return string.Create(CultureInfo.InvariantCulture, $"A batch carries at most {options.MaxEventsPerBatch} events.");
        return null;
    }

    /// <summary>
    /// The events of the batch that are refused, with their reasons, by index in the batch; the others are valid.
    /// Empty (and allocation-free) when every event is valid.
    /// </summary>
    public static Dictionary<int, List<string>> Validate(IReadOnlyList<ReceivedEvent> events, DateTimeOffset now, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(options);
        var errors = new Dictionary<int, List<string>>();
        var index = 0;
        void Error(string path, string message)
        {
            if (!errors.TryGetValue(index, out var list))
                errors[index] = list = [];
            list.Add(path + ": " + message);
        }

        var latest = now + options.MaxClockSkew;
        var sequences = new HashSet<long>(events.Count);
        foreach (var (e, _, i) in events)
        {
            index = i;
            if (e.Sequence < 1)
                Error(At(i, ".sequence"), "Sequence numbers start at 1.");
            else if (!sequences.Add(e.Sequence))
                Error(At(i, ".sequence"), $"Sequence {e.Sequence} appears twice in the batch.");
            if (!InRange(e.Timestamp))
                TimeError(At(i, ".timestamp"));

            switch (e)
            {
                case PhaseEnteredEvent pe:
                    if (!Enum.IsDefined(pe.Phase))
                        PhaseError(At(i, ".phase"));
                    break;
                case RetriesEvent re:
                    if (!Enum.IsDefined(re.Phase))
                        PhaseError(At(i, ".phase"));
                    if (re.Count is < 0 or > MaxRetries)
                        Error(At(i, ".count"), $"Retries are between 0 and {MaxRetries}.");
                    break;
                case IssueEvent ie:
                    if (!Enum.IsDefined(ie.Phase))
                        PhaseError(At(i, ".phase"));
                    if (!Enum.IsDefined(ie.Kind))
                        Error(At(i, ".kind"), "Unknown issue kind.");
                    if (ie.Detail is { Length: > 512 })
                        Error(At(i, ".detail"), "At most 512 characters.");
                    if (ie.Hint is { Length: > 512 })
                        Error(At(i, ".hint"), "At most 512 characters.");
                    if (ie.Server is { Length: > 100 })
                        Error(At(i, ".server"), "At most 100 characters.");
                    break;
                case SessionEndedEvent se:
                    if (!Enum.IsDefined(se.Outcome) || se.Outcome == BootOutcome.InProgress)
                        Error(At(i, ".outcome"), "An ended session is Booted, Failed or Stuck.");
                    break;
                case CollectorHeartbeatEvent hb:
                    if (hb.PacketsReceived < 0 || hb.PacketsDropped < 0 || hb.InterfaceDropped < 0 || hb.ActiveSessions < 0 || hb.SpooledEvents < 0
                        || hb.DuplicateFrames < 0 || hb.RejectedEvents < 0 || hb.CorruptSpoolLines < 0)
                    {
                        Error(At(i), "Capture counters cannot be negative.");
                    }
                    if (hb.Interface is { Length: > 200 })
                        Error(At(i, ".interface"), "At most 200 characters.");
                    if (hb.Version is { Length: > 100 })
                        Error(At(i, ".version"), "At most 100 characters.");
                    if (hb.Host is { Length: > 200 })
                        Error(At(i, ".host"), "At most 200 characters.");
                    break;
            }

            if (e is SessionEvent s)
                CheckSession(s.Session, i);
        }
        return errors;

        bool InRange(DateTimeOffset t) => t >= Earliest && t <= latest;
        void TimeError(string path) => Error(path, "Timestamp out of range (before 2000 or ahead of the server's clock).");
        void PhaseError(string path) => Error(path, "Unknown phase.");

        void CheckSession(SessionSnapshot? s, int i)
        {
            if (s is null)
            {
                Error(At(i, ".session"), "A session event carries its session.");
                return;
            }
            if (s.SessionId == Guid.Empty)
                Error(At(i, ".session.sessionId"), "The session id is a non-empty GUID.");
            if (!Macs.IsValid(s.Mac))
                Error(At(i, ".session.mac"), "A MAC address looks like 52:54:00:00:00:01.");
            if (!IsAddress(s.Ip))
                AddressError(At(i, ".session.ip"));
            if (!IsAddress(s.Servers?.Dhcp))
                AddressError(At(i, ".session.servers.dhcp"));
            if (!IsAddress(s.Servers?.Tftp))
                AddressError(At(i, ".session.servers.tftp"));
            if (!IsAddress(s.Servers?.Pvs))
                AddressError(At(i, ".session.servers.pvs"));
            if (!IsAddress(s.Servers?.Stream))
                AddressError(At(i, ".session.servers.stream"));
            if (!Enum.IsDefined(s.Firmware))
                Error(At(i, ".session.firmware"), "Unknown firmware.");
            if (!Enum.IsDefined(s.Phase))
                PhaseError(At(i, ".session.phase"));
            if (!Enum.IsDefined(s.Outcome))
                Error(At(i, ".session.outcome"), "Unknown outcome.");
            if (s.BootFile is { Length: > 256 })
                Error(At(i, ".session.bootFile"), "At most 256 characters.");
            if (s.HostName is { Length: > 255 })
                Error(At(i, ".session.hostName"), "At most 255 characters.");
            if (!InRange(s.StartedAt))
                TimeError(At(i, ".session.startedAt"));
            if (s.EndedAt is { } ended)
            {
                if (!InRange(ended))
                    TimeError(At(i, ".session.endedAt"));
                if (ended < s.StartedAt)
                    Error(At(i, ".session.endedAt"), "A session cannot end before it started.");
            }
            if (s.LastProgressAt is { } progress && (!InRange(progress) || progress < s.StartedAt))
                Error(At(i, ".session.lastProgressAt"), "Between the session's start and the server's clock.");
            var phases = s.Phases ?? [];
            var seen = 0;
            for (var j = 0; j < phases.Count; j++)
            {
                var t = phases[j];
                if (t is null)
                {
                    Error(PhaseAt(i, j), "A phase may not be null.");
                    continue;
                }
                if (!Enum.IsDefined(t.Phase))
                    PhaseError(PhaseAt(i, j, ".phase"));
                else if ((seen & (1 << (int)t.Phase)) != 0)
                    Error(PhaseAt(i, j, ".phase"), "Each phase appears at most once.");
                else
                    seen |= 1 << (int)t.Phase;
                if (!InRange(t.StartedAt))
                    TimeError(PhaseAt(i, j, ".startedAt"));
                if (t.StartedAt < s.StartedAt)
                    Error(PhaseAt(i, j, ".startedAt"), "A phase cannot start before its session.");
                if (t.EndedAt is { } end && (end < t.StartedAt || !InRange(end)))
                    Error(PhaseAt(i, j, ".endedAt"), "A phase cannot end before it started, nor ahead of the server's clock.");
                if (t.Retries is < 0 or > MaxRetries)
                    Error(PhaseAt(i, j, ".retries"), $"Retries are between 0 and {MaxRetries}.");
            }
        }

        void AddressError(string path) => Error(path, "Not an IP address.");
    }

    private static bool IsAddress(string? address) => address is null || (address.Length <= 45 && IPAddress.IsValid(address));

    private static string At(int i, string rest = "") => string.Create(CultureInfo.InvariantCulture, $"events[{i}]{rest}");

    private static string PhaseAt(int i, int j, string rest = "") =>
        string.Create(CultureInfo.InvariantCulture, $"events[{i}].session.phases[{j}]{rest}");
}

/// <summary>MAC addresses are stored as lower-case, colon-separated text.</summary>
public static class Macs
{
    public static bool TryNormalize(string? text, out string mac)
    {
        Span<char> buffer = stackalloc char[17];
        mac = TryFormat(text, buffer) ? (buffer.SequenceEqual(text) ? text! : new string(buffer)) : "";
        return mac.Length != 0;
    }

    public static bool IsValid(string? text) => TryFormat(text, stackalloc char[17]);

    public static string Normalize(string text) =>
        TryNormalize(text, out var mac) ? mac : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"Not a MAC address: {text}"));

    private static bool TryFormat(string? text, Span<char> buffer)
    {
        if (text is null || text.Length != 17)
            return false;
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
        return true;
    }
}
