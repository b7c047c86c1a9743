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

    public static List<SiteCard> Build(IReadOnlyList<SiteView> sites, IEnumerable<DeviceRow> rows, DateTime now)
    {
        var bySite = rows.GroupBy(r => r.Site, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.OrdinalIgnoreCase);
        var names = sites.Select(s => s.Name).Concat(bySite.Keys).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase);
        var cards = new List<SiteCard>();
        foreach (var name in names)
        {
            var view = sites.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            var devices = bySite.GetValueOrDefault(name) ?? [];
            var live = devices.Where(d => d.Outcome is BootOutcome.InProgress or BootOutcome.Stuck).ToList();
            var recent = devices.Count(d => d.StartedAt is { } s && now - s <= RateWindow);
            cards.Add(new SiteCard(name, devices.Count,
                Enum.GetValues<BootPhase>().ToDictionary(p => p, p => live.Count(d => d.Phase == p)),
                devices.Count(d => d.Outcome == BootOutcome.Stuck),
                recent / RateWindow.TotalMinutes,
                view?.OpenAlerts ?? 0, view?.Collectors ?? 0, view?.SilentCollectors ?? 0));
        }
        return cards;
    }
}
