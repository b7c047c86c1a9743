using PvsFleet.Contracts;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Web.Services;

/// <summary>One device of the fleet grid: where its latest session stands, kept current by live changes.</summary>
public sealed class DeviceRow
{
    public required string Mac { get; init; }
    public required string Site { get; set; }
    public string? Ip { get; set; }
    public string? HostName { get; set; }
    public Guid? SessionId { get; set; }
    public BootPhase? Phase { get; set; }
    public BootOutcome? Outcome { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public int Retries { get; set; }
    public DateTime LastSeenAt { get; set; }

    /// <summary>When a live change last touched the row, to flash it.</summary>
    public DateTime? ChangedAt { get; set; }

    /// <summary>First DHCPDISCOVER to the end, or to now while the session lasts.</summary>
    /// <remarks>Never negative: a collector's clock a little ahead of the browser's must not show "-1 s".</remarks>
    public TimeSpan? Duration(DateTime now)
    {
        if (StartedAt is not { } s)
            return null;
        var d = (EndedAt ?? (Outcome == BootOutcome.InProgress ? now : LastSeenAt)) - s;
        return d > TimeSpan.Zero ? d : TimeSpan.Zero;
    }

    public static DeviceRow From(DeviceView d) => new()
    {
        Mac = d.Mac, Site = d.Site, Ip = d.LastIp, HostName = d.HostName, SessionId = d.LastSessionId, Phase = d.Phase,
        Outcome = d.Outcome, StartedAt = d.SessionStartedAt, EndedAt = d.SessionEndedAt, Retries = d.SessionRetries, LastSeenAt = d.LastSeenAt,
    };

    /// <summary>Applies a live change; a change of an older session than the one shown is ignored.</summary>
    public bool Apply(SessionChange c, DateTime now)
    {
        var started = c.StartedAt.UtcDateTime;
        if (StartedAt is { } current && started < current && SessionId != c.SessionId)
            return false;
        Site = c.Site;
        Ip = c.Ip ?? Ip;
        HostName = c.HostName ?? HostName;
        SessionId = c.SessionId;
        Phase = c.Phase;
        Outcome = c.Outcome;
        StartedAt = started;
        EndedAt = c.EndedAt?.UtcDateTime;
        Retries = c.TotalRetries;
        LastSeenAt = now;
        ChangedAt = now;
        return true;
    }

    public static DeviceRow From(SessionChange c, DateTime now)
    {
        var row = new DeviceRow { Mac = c.Mac, Site = c.Site, LastSeenAt = now };
        row.Apply(c, now);
        return row;
    }
}

public enum FleetSort
{
    Mac,
    Duration,
    Retries,
    Phase,
    Seen,
}

/// <summary>The grid's filters and sort, as they stand in the address bar.</summary>
public sealed record FleetFilter(string? Site, BootPhase? Phase, BootOutcome? Outcome, string? Text, FleetSort Sort, bool Descending)
{
    public bool Matches(DeviceRow d)
    {
        if (Site is not null && !string.Equals(d.Site, Site, StringComparison.OrdinalIgnoreCase))
            return false;
        if (Phase is { } p && d.Phase != p)
            return false;
        if (Outcome is { } o && d.Outcome != o)
            return false;
        if (string.IsNullOrWhiteSpace(Text))
            return true;
        var t = Text.Trim();
        // Admins paste MACs in every notation: 52-54-00-…, 5254.00…, upper case.
        var mac = NormalizeMac(t);
        return (mac.Length > 0 && NormalizeMac(d.Mac).Contains(mac, StringComparison.Ordinal))
            || (d.Ip?.Contains(t, StringComparison.Ordinal) ?? false)
            || (d.HostName?.Contains(t, StringComparison.OrdinalIgnoreCase) ?? false);
    }

    public List<DeviceRow> Apply(IEnumerable<DeviceRow> rows, DateTime now)
    {
        var list = rows.Where(Matches).ToList();
        Comparison<DeviceRow> by = Sort switch
        {
            FleetSort.Duration => (a, b) => Nullable.Compare(a.Duration(now), b.Duration(now)),
            FleetSort.Retries => (a, b) => a.Retries.CompareTo(b.Retries),
            FleetSort.Phase => (a, b) => Nullable.Compare(a.Phase, b.Phase),
            FleetSort.Seen => (a, b) => a.LastSeenAt.CompareTo(b.LastSeenAt),
            _ => (a, b) => 0,
        };
        // MAC breaks ties, so rows do not jump around between redraws.
        list.Sort((a, b) =>
        {
            var c = by(a, b);
            if (Descending)
                c = -c;
            return c != 0 ? c : string.CompareOrdinal(a.Mac, b.Mac) * (Sort == FleetSort.Mac && Descending ? -1 : 1);
        });
        return list;
    }

    private static string NormalizeMac(string s)
    {
        Span<char> buffer = stackalloc char[Math.Min(s.Length, 64)];
        var n = 0;
        foreach (var c in s.AsSpan(0, buffer.Length))
        {
            if (char.IsAsciiHexDigit(c))
                buffer[n++] = char.ToLowerInvariant(c);
            else if (c is not (':' or '-' or '.'))
                return "";
        }
        return new string(buffer[..n]);
    }
}

/// <summary>A site card's figures, counted from the devices in memory so they move with every live change.</summary>
public sealed record SiteCard(string Name, int Devices, IReadOnlyDictionary<BootPhase, int> InPhase, int Stuck, double BootsPerMinute,
    int OpenAlerts, int Collectors, int SilentCollectors)
{
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(5);

    // One pass over the devices, no LINQ: this runs on every live change in the browser's interpreter.
    public static List<SiteCard> Build(IReadOnlyList<SiteView> sites, IEnumerable<DeviceRow> rows, DateTime now)
    {
        var tallies = new Dictionary<string, Tally>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in sites)
            tallies[s.Name] = new Tally(s.Name);
        foreach (var d in rows)
        {
            if (!tallies.TryGetValue(d.Site, out var t))
                tallies[d.Site] = t = new Tally(d.Site);
            t.Devices++;
            if (d.Outcome is BootOutcome.InProgress or BootOutcome.Stuck && d.Phase is { } p && (int)p is >= 0 and < 5)
                t.InPhase[(int)p]++;
            if (d.Outcome == BootOutcome.Stuck)
                t.Stuck++;
            if (d.StartedAt is { } started && now - started <= RateWindow)
                t.Recent++;
        }
        var cards = new List<SiteCard>(tallies.Count);
        foreach (var t in tallies.Values.OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase))
        {
            SiteView? view = null;
            foreach (var s in sites)
            {
                if (string.Equals(s.Name, t.Name, StringComparison.OrdinalIgnoreCase))
                    view = s;
            }
            var inPhase = new Dictionary<BootPhase, int>(5);
            for (var i = 0; i < 5; i++)
                inPhase[(BootPhase)i] = t.InPhase[i];
            cards.Add(new SiteCard(t.Name, t.Devices, inPhase, t.Stuck, t.Recent / RateWindow.TotalMinutes,
                view?.OpenAlerts ?? 0, view?.Collectors ?? 0, view?.SilentCollectors ?? 0));
        }
        return cards;
    }

    private sealed class Tally(string name)
    {
        public string Name { get; } = name;
        public int Devices;
        public int Stuck;
        public int Recent;
        public readonly int[] InPhase = new int[5];
    }
}
