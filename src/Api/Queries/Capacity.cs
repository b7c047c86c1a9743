using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Queries;

/// <summary>
/// The boot-storm capacity view. One indexed range read of the sessions that started in the range (or up to
/// <see cref="CapacityOptions.MaxBootLength"/> before it) with their phases, then a sweep over their start and end times
/// per site and per PVS login server: the counts in each phase at every moment, the peak of each step, and for every boot
/// how many were booting when it started. The same code for both providers; the range is bounded, so the rows are too.
/// </summary>
public static class Capacity
{
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(7);
    public const int MaxPoints = 2_000;

    private const int Phases = 5;
    private const int BootingSeries = Phases;
    private const int StreamingSeries = Phases + 1;
    private const int SeriesCount = Phases + 2;

    private static readonly BootPhase[] AllPhases = Enum.GetValues<BootPhase>();
    private static readonly int[] AutoSteps = [60, 300, 900, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400];
    private static readonly int[] BucketWidths = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000];

    public static async Task<Results<Ok<CapacityView>, ValidationProblem>> GetAsync(
        FleetDbContext db, TimeProvider clock, IOptions<FleetOptions> options, string? site, DateTimeOffset? from, DateTimeOffset? to,
        int? step, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var end = (to ?? clock.GetUtcNow()).UtcDateTime;
        var start = from?.UtcDateTime ?? end.AddDays(-1);
        var errors = new Dictionary<string, string[]>();
        if (start >= end)
            errors["from"] = ["from is before to."];
        else if (end - start > MaxRange)
            errors["from"] = [$"The capacity view covers at most {MaxRange.TotalDays:0} days."];
        var range = end - start;
        var stepSeconds = step ?? AutoStep(range);
        if (step is < 10 or > 86_400)
            errors["step"] = ["Seconds per point, between 10 and 86400."];
        else if (range > TimeSpan.Zero && Math.Ceiling(range.TotalSeconds / stepSeconds) > MaxPoints)
            errors["step"] = [$"At most {MaxPoints} points: a step of at least {Math.Ceiling(range.TotalSeconds / MaxPoints):0} s for this range."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var limits = options.Value.Capacity;
        var view = new CapacityLimits(limits.MaxBootDevicesAllowed, limits.StreamPorts, limits.ThreadsPerPort);
        var sites = await db.Sites.AsNoTracking().ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        int? siteId = null;
        if (site is not null)
        {
            siteId = sites.FirstOrDefault(s => s.Value == site).Key;
            if (siteId == 0)
                return TypedResults.Ok(new CapacityView(site, start, end, stepSeconds, view, []));
        }

        var sessions = await ReadAsync(db, siteId, start.Add(-limits.MaxBootLength), end, now, limits.MaxBootLength, ct);
        var series = new List<CapacitySeries>();
        foreach (var bySite in sessions.GroupBy(s => s.SiteId).OrderBy(g => sites.GetValueOrDefault(g.Key), StringComparer.Ordinal))
        {
            var name = sites.GetValueOrDefault(bySite.Key) ?? bySite.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var servers = bySite.Where(s => s.PvsServer is not null).GroupBy(s => s.PvsServer!).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            var perServer = Math.Max(1, servers.Count);
            var siteLimits = limits.For(name);
            series.Add(Sweep(name, null, servers.Count, siteLimits.MaxBootDevicesAllowed * perServer, siteLimits.StreamThreads * perServer,
                [.. bySite], start, end, stepSeconds));
            foreach (var server in servers)
                series.Add(Sweep(name, server.Key, 1, siteLimits.MaxBootDevicesAllowed, siteLimits.StreamThreads, [.. server], start, end, stepSeconds));
        }
        return TypedResults.Ok(new CapacityView(site, start, end, stepSeconds, view, series));
    }

    private static int AutoStep(TimeSpan range)
    {
        var wanted = range.TotalSeconds / 240;
        foreach (var s in AutoSteps)
        {
            if (s >= wanted)
                return s;
        }
        return AutoSteps[^1];
    }

    /// <summary>A session as the sweep needs it: when each phase was entered and left (open ones closed, see <see cref="ReadAsync"/>).</summary>
    private sealed class Boot
    {
        public int SiteId;
        public string? PvsServer;
        public DateTime StartedAt;
        public double? DurationMs;
        public readonly DateTime?[] PhaseStart = new DateTime?[Phases];
        public readonly DateTime?[] PhaseEnd = new DateTime?[Phases];
    }

    /// <summary>
    /// The sessions started in [since, to) and their phases: one range of the (StartedAt, SiteId) index, the phases by their
    /// primary key. A phase still open ends when its session did, or now, and never later than the session's start plus
    /// <paramref name="maxBoot"/>: a session nobody closed does not count as booting for ever.
    /// </summary>
    private static async Task<List<Boot>> ReadAsync(
        FleetDbContext db, int? siteId, DateTime since, DateTime to, DateTime now, TimeSpan maxBoot, CancellationToken ct)
    {
        var q = db.Sessions.AsNoTracking().Where(s => s.StartedAt >= since && s.StartedAt < to);
        if (siteId is { } id)
            q = q.Where(s => s.SiteId == id);
        // The phases carry their session's start and site: bounded the same way, both tables are read by range.
        var phases = db.SessionPhases.AsNoTracking().Where(p => AllPhases.Contains(p.Phase) && p.SessionStartedAt >= since && p.SessionStartedAt < to);
        if (siteId is { } site)
            phases = phases.Where(p => p.SiteId == site);
        var rows = q.Join(phases, s => s.Id, p => p.SessionId, (s, p) => new
        {
            s.Id, s.SiteId, s.PvsServer, s.StartedAt, SessionEnd = s.EndedAt, s.DurationMs, p.Phase, PhaseStart = p.StartedAt, PhaseEnd = p.EndedAt,
        });
        var boots = new Dictionary<Guid, Boot>();
        await foreach (var r in rows.AsAsyncEnumerable().WithCancellation(ct))
        {
            if (!boots.TryGetValue(r.Id, out var boot))
                boots[r.Id] = boot = new Boot { SiteId = r.SiteId, PvsServer = r.PvsServer, StartedAt = r.StartedAt, DurationMs = r.DurationMs };
            var latest = r.StartedAt + maxBoot;
            var phaseEnd = r.PhaseEnd ?? r.SessionEnd ?? now;
            var i = (int)r.Phase;
            if (i is < 0 or >= Phases)
                continue;
            boot.PhaseStart[i] = r.PhaseStart;
            boot.PhaseEnd[i] = phaseEnd < latest ? phaseEnd : latest;
        }
        return [.. boots.Values];
    }

    private readonly record struct Change(long Ticks, int Series, int Delta, int Boot);

    /// <summary>
    /// The counts of one group at every moment of [from, to): each phase interval, the boot (first phase's start to the
    /// end of the last phase before BNIStack) and the streaming (SingleReadMode's start to BNIStack's end) add one while they
    /// last. At one instant ends go before starts, so a device handed from one phase to the next is never counted twice.
    /// </summary>
    private static CapacitySeries Sweep(string site, string? server, int servers, int bootingLimit, int streamingLimit,
        List<Boot> boots, DateTime from, DateTime to, int stepSeconds)
    {
        var changes = new List<Change>(boots.Count * 14);
        for (var b = 0; b < boots.Count; b++)
        {
            var boot = boots[b];
            DateTime? bootStart = null, bootEnd = null, streamStart = null, streamEnd = null;
            for (var p = 0; p < Phases; p++)
            {
                if (boot.PhaseStart[p] is not { } s || boot.PhaseEnd[p] is not { } e || e < s)
                    continue;
                Add(p, s, e, -1);
                if (p < (int)BootPhase.BniStack)
                    (bootStart, bootEnd) = (Min(bootStart, s), Max(bootEnd, e));
                if (p >= (int)BootPhase.SingleReadMode)
                    (streamStart, streamEnd) = (Min(streamStart, s), Max(streamEnd, e));
            }
            if (bootStart is { } bs)
                Add(BootingSeries, bs, bootEnd!.Value, b);
            if (streamStart is { } ss)
                Add(StreamingSeries, ss, streamEnd!.Value, -1);

            void Add(int series, DateTime s, DateTime e, int marker)
            {
                changes.Add(new Change(s.Ticks, series, +1, marker));
                changes.Add(new Change(e.Ticks, series, -1, -1));
            }
        }
        changes.Sort((a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : a.Delta.CompareTo(b.Delta));

        var stepTicks = TimeSpan.TicksPerSecond * stepSeconds;
        var points = (int)Math.Ceiling((double)(to - from).Ticks / stepTicks);
        var peaks = new int[points, SeriesCount];
        var counts = new int[SeriesCount];
        var filled = -1;
        var peakBooting = new Peak();
        var peakStreaming = new Peak();
        var startsAt = new List<(int Concurrency, double? DurationMs)>();

        foreach (var c in changes)
        {
            if (c.Ticks >= to.Ticks)
                break;
            var step = c.Ticks < from.Ticks ? -1 : (int)((c.Ticks - from.Ticks) / stepTicks);
            Carry(Math.Min(step, points - 1));
            counts[c.Series] += c.Delta;
            if (step < 0)
                continue;
            if (counts[c.Series] > peaks[step, c.Series])
                peaks[step, c.Series] = counts[c.Series];
            if (c.Series == BootingSeries)
            {
                peakBooting.Offer(counts[c.Series], new DateTime(c.Ticks, DateTimeKind.Utc));
                if (c.Boot >= 0)
                    startsAt.Add((counts[c.Series], boots[c.Boot].DurationMs));
            }
            else if (c.Series == StreamingSeries)
            {
                peakStreaming.Offer(counts[c.Series], new DateTime(c.Ticks, DateTimeKind.Utc));
            }
        }
        Carry(points - 1);

        var list = new List<CapacityPoint>(points);
        for (var i = 0; i < points; i++)
        {
            var phases = new int[Phases];
            for (var p = 0; p < Phases; p++)
                phases[p] = peaks[i, p];
            list.Add(new CapacityPoint(from.AddTicks(i * stepTicks), phases, peaks[i, BootingSeries], peaks[i, StreamingSeries]));
        }
        return new CapacitySeries(site, server, servers, bootingLimit, streamingLimit, peakBooting.View, peakStreaming.View, list, Buckets(startsAt));

        // The counts hold from a step's start until its first change: that is each step's floor (and perhaps the peak).
        void Carry(int upTo)
        {
            for (var i = filled + 1; i <= upTo; i++)
            {
                for (var s = 0; s < SeriesCount; s++)
                    peaks[i, s] = counts[s];
                var at = from.AddTicks(i * stepTicks);
                peakBooting.Offer(counts[BootingSeries], at);
                peakStreaming.Offer(counts[StreamingSeries], at);
            }
            filled = Math.Max(filled, upTo);
        }
    }

    private sealed class Peak
    {
        private int count;
        private DateTime? at;

        public void Offer(int count, DateTime at)
        {
            if (count > this.count)
                (this.count, this.at) = (count, at);
        }

        public CapacityPeak View => new(this.at, this.count);
    }

    /// <summary>Time-to-boot by how many were booting when each boot started: at most about ten buckets of one width.</summary>
    internal static List<ConcurrencyBucket> Buckets(List<(int Concurrency, double? DurationMs)> starts)
    {
        if (starts.Count == 0)
            return [];
        var highest = starts.Max(s => s.Concurrency);
        var width = Array.Find(BucketWidths, w => (highest + w - 1) / w <= 10);
        if (width == 0)
            width = BucketWidths[^1];
        return [.. starts.GroupBy(s => (s.Concurrency - 1) / width).OrderBy(g => g.Key).Select(g =>
        {
            var durations = g.Select(s => s.DurationMs).OfType<double>().Order().ToArray();
            return new ConcurrencyBucket((g.Key * width) + 1, (g.Key + 1) * width, g.Count(), durations.Length,
                durations.Length == 0 ? null : StatsApi.Percentile(durations, 0.5),
                durations.Length == 0 ? null : StatsApi.Percentile(durations, 0.9));
        })];
    }

    private static DateTime Min(DateTime? a, DateTime b) => a is { } x && x < b ? x : b;

    private static DateTime Max(DateTime? a, DateTime b) => a is { } x && x > b ? x : b;
}
