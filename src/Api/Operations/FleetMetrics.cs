using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;
using PvsFleet.Api.Ingest;
using PvsFleet.Contracts;

namespace PvsFleet.Api.Operations;

/// <summary>The API's own meters, exported with the rest through OpenTelemetry.</summary>
public sealed class FleetMetrics
{
    public const string MeterName = "PvsFleet.Api";

    /// <summary>
    /// 1 s to 30 min: a DHCP exchange takes a second, a bootstrap a few, a logon paused by a busy server 10 s or more, a
    /// whole boot one to several minutes, one in a storm up to half an hour. The Prometheus exporter of this
    /// OpenTelemetry version writes classic buckets only (it has no native/exponential histograms), so they are explicit.
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1200, 1800];

    private readonly Counter<long> eventsIngested;
    private readonly Counter<long> duplicates;
    private readonly Counter<long> rejected;
    private readonly Counter<long> sessionsEnded;
    private readonly Histogram<double> bootDuration;
    private readonly Histogram<double> phaseDuration;
    private readonly Counter<long> retries;
    private readonly IServiceScopeFactory scopes;
    private readonly IOptionsMonitor<FleetOptions> options;
    private readonly ILogger<FleetMetrics> log;
    private long openAlerts;

    public FleetMetrics(IMeterFactory meters, IServiceScopeFactory scopes, IOptionsMonitor<FleetOptions> options, ILogger<FleetMetrics> log)
    {
        this.scopes = scopes;
        this.options = options;
        this.log = log;
        var meter = meters.Create(MeterName);
        var buckets = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        eventsIngested = meter.CreateCounter<long>("pvsfleet.events.ingested", "{event}", "Events stored, by type.");
        duplicates = meter.CreateCounter<long>("pvsfleet.events.duplicates", "{event}", "Re-sent events acknowledged without storing.");
        rejected = meter.CreateCounter<long>("pvsfleet.events.rejected", "{event}", "Events refused on their own (invalid, or refused by the database).");
        sessionsEnded = meter.CreateCounter<long>("pvsfleet.sessions", "{session}", "Sessions that reached an outcome, by site and outcome; each once.");
        bootDuration = meter.CreateHistogram("pvsfleet.boot.duration", "s",
            "Seconds from the first DHCPDISCOVER to BNIStack (booted), or to the end (failed, stuck), by site and outcome.", null, buckets);
        phaseDuration = meter.CreateHistogram("pvsfleet.phase.duration", "s", "Seconds each ended phase lasted, by site and phase.", null, buckets);
        retries = meter.CreateCounter<long>("pvsfleet.retries", "{retry}", "Retries and retransmits counted in boots, by site and phase.");
        meter.CreateObservableGauge("pvsfleet.alerts.open", () => Interlocked.Read(ref openAlerts), "{alert}", "Alerts open or acknowledged.");
        meter.CreateObservableGauge("pvsfleet.devices.booting", DevicesBooting, "{device}",
            "Devices whose latest boot is in progress or stuck, by site, PVS server, phase and outcome (the database's figure: every replica reports the same).");
        meter.CreateObservableGauge("pvsfleet.capacity.limit", CapacityLimits, "{device}",
            "The farm limit per PVS server the devices booting are measured against, by site and limit (boot_devices, stream_threads).");
    }

    public void EventsIngested(string type, int count) =>
        eventsIngested.Add(count, new KeyValuePair<string, object?>("type", type));

    public void Duplicates(int count) => duplicates.Add(count);

    public void EventsRejected(int count) => rejected.Add(count);

    /// <summary>What one stored batch ended and added (see <see cref="BootMeasurements"/>: never twice for one boot).</summary>
    public void Measured(string site, BootMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var siteTag = new KeyValuePair<string, object?>("site", site);
        foreach (var s in measured.Sessions)
        {
            var outcome = new KeyValuePair<string, object?>("outcome", s.Outcome.ToString());
            sessionsEnded.Add(1, siteTag, outcome);
            bootDuration.Record(s.Seconds, siteTag, outcome);
        }
        foreach (var p in measured.Phases)
            phaseDuration.Record(p.Seconds, siteTag, new KeyValuePair<string, object?>("phase", p.Phase.ToString()));
        foreach (var r in measured.Retries)
            retries.Add(r.Added, siteTag, new KeyValuePair<string, object?>("phase", r.Phase.ToString()));
    }

    public void OpenAlerts(long count) => Interlocked.Exchange(ref openAlerts, count);

    /// <summary>
    /// Read at each scrape (Prometheus asks every 15 s): one grouped count over the devices' current state, with the PVS
    /// server of their latest boot ("" before the boot reached one). A database that does not answer leaves the gauge
    /// empty for that scrape rather than failing the whole endpoint.
    /// </summary>
    private IEnumerable<Measurement<long>> DevicesBooting()
    {
        try
        {
            using var scope = this.scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
            var sites = SiteNames(db);
            var rows = (
                from d in db.Devices.AsNoTracking()
                where (d.CurrentOutcome == BootOutcome.InProgress || d.CurrentOutcome == BootOutcome.Stuck) && d.CurrentPhase != null
                join s in db.Sessions.AsNoTracking() on d.LastSessionId equals (Guid?)s.Id into latest
                from s in latest.DefaultIfEmpty()
                group d by new { d.SiteId, d.CurrentPhase, d.CurrentOutcome, Server = s == null ? null : s.PvsServer } into g
                select new { g.Key.SiteId, g.Key.CurrentPhase, g.Key.CurrentOutcome, g.Key.Server, Count = g.LongCount() })
                .ToList();
            return [.. rows.Select(r => new Measurement<long>(r.Count,
                new KeyValuePair<string, object?>("site", sites.GetValueOrDefault(r.SiteId, r.SiteId.ToString(CultureInfo.InvariantCulture))),
                new KeyValuePair<string, object?>("pvs_server", r.Server ?? ""),
                new KeyValuePair<string, object?>("phase", r.CurrentPhase!.Value.ToString()),
                new KeyValuePair<string, object?>("outcome", r.CurrentOutcome!.Value.ToString())))];
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            this.log.LogWarning(ex, "The devices-booting gauge could not read the database");
            return [];
        }
    }

    /// <summary>Each known site's limits, so a dashboard can draw them beside the site's devices booting.</summary>
    private IEnumerable<Measurement<long>> CapacityLimits()
    {
        try
        {
            using var scope = this.scopes.CreateScope();
            var capacity = this.options.CurrentValue.Capacity;
            var measurements = new List<Measurement<long>>();
            foreach (var site in SiteNames(scope.ServiceProvider.GetRequiredService<FleetDbContext>()).Values)
            {
                var limits = capacity.For(site);
                var siteTag = new KeyValuePair<string, object?>("site", site);
                measurements.Add(new(limits.MaxBootDevicesAllowed, siteTag, new KeyValuePair<string, object?>("limit", "boot_devices")));
                measurements.Add(new(limits.StreamThreads, siteTag, new KeyValuePair<string, object?>("limit", "stream_threads")));
            }
            return measurements;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            this.log.LogWarning(ex, "The capacity-limit gauge could not read the sites");
            return [];
        }
    }

    private static Dictionary<int, string> SiteNames(FleetDbContext db) => db.Sites.AsNoTracking().ToDictionary(s => s.Id, s => s.Name);
}
