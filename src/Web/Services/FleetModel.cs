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
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public int Retries { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>When a live change last touched the row, to flash it.</summary>
    public DateTimeOffset? ChangedAt { get; set; }

    /// <summary>First DHCPDISCOVER to the end, or to now while the session lasts (or waits, stuck); null when unknown.</summary>
    /// <remarks>Never negative: a collector's clock a little ahead of the browser's must not show "-1 s".</remarks>
    public TimeSpan? Duration(DateTimeOffset now) =>
        StartedAt is { } s && Format.SessionMs(null, s, EndedAt, Outcome, now) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    public static DeviceRow From(DeviceView d) => new()
    {
        Mac = d.Mac, Site = d.Site, Ip = d.LastIp, HostName = d.HostName, SessionId = d.LastSessionId, Phase = d.Phase,
        Outcome = d.Outcome, StartedAt = d.SessionStartedAt, EndedAt = d.SessionEndedAt, Retries = d.SessionRetries, LastSeenAt = d.LastSeenAt,
    };

    /// <summary>Applies a live change; a change of an older session than the one shown is ignored.</summary>
    public bool Apply(SessionChange c, DateTimeOffset now)
    {
        var started = c.StartedAt;
        if (StartedAt is { } current && started < current && SessionId != c.SessionId)
            return false;
        // A change read before the page's load finished may be older than what the load returned: phases only move
        // forward within one session, so one that goes back is stale.
        if (SessionId == c.SessionId && Phase is { } shown && c.Phase < shown)
            return false;
        Site = c.Site;
        Ip = c.Ip ?? Ip;
        HostName = c.HostName ?? HostName;
        SessionId = c.SessionId;
        Phase = c.Phase;
        Outcome = c.Outcome;
        StartedAt = started;
        EndedAt = c.EndedAt;
        Retries = c.TotalRetries;
        LastSeenAt = now;
        ChangedAt = now;
        return true;
    }

    public static DeviceRow From(SessionChange c, DateTimeOffset now)
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

/// <summary>The grid's filters and sort, as they stand in the address bar; the server applies them.</summary>
public sealed record FleetFilter(string? Site, BootPhase? Phase, BootOutcome? Outcome, string? Text, FleetSort Sort, bool Descending);

/// <summary>A site card's figures, as the server counted them.</summary>
public sealed record SiteCard(string Name, int Devices, IReadOnlyDictionary<BootPhase, int> InPhase, int Stuck, double BootsPerMinute,
    int OpenAlerts, int Collectors, int SilentCollectors)
{
    public static List<SiteCard> Build(IEnumerable<SiteView> sites) =>
    [
        .. sites.OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).Select(s => new SiteCard(s.Name, s.Devices,
            Enum.GetValues<BootPhase>().ToDictionary(p => p, p => s.InProgressByPhase.GetValueOrDefault(p)), s.Stuck, s.BootsPerMinute,
            s.OpenAlerts, s.Collectors, s.SilentCollectors)),
    ];
}

/// <summary>The fleet page as the server rendered it: sites, the visible page, and the filter and page it is for.</summary>
public sealed record FleetSnapshot(string Key, List<SiteView> Sites, Paged<DeviceView> Devices);

/// <summary>The History page as the server rendered it, for the filter in <see cref="Key"/>.</summary>
public sealed record HistorySnapshot(string Key, List<string> Sites, BootDurationStats Overall, Dictionary<BootPhase, DurationStats> Phases,
    List<SlowDevice> Slowest);

/// <summary>The needs-attention list as the server rendered it, for the site in <see cref="Key"/>.</summary>
public sealed record AttentionSnapshot(string Key, List<AttentionItem> Items);
