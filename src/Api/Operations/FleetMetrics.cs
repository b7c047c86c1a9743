using System.Diagnostics.Metrics;
using PvsFleet.Contracts;

namespace PvsFleet.Api.Operations;

/// <summary>The API's own meters, exported with the rest through OpenTelemetry.</summary>
public sealed class FleetMetrics
{
    public const string MeterName = "PvsFleet.Api";

    private readonly Counter<long> _eventsIngested;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _sessionsEnded;
    private long _openAlerts;

    public FleetMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _eventsIngested = meter.CreateCounter<long>("pvsfleet.events.ingested", "{event}", "Events stored, by type.");
        _duplicates = meter.CreateCounter<long>("pvsfleet.events.duplicates", "{event}", "Re-sent events acknowledged without storing.");
        _rejected = meter.CreateCounter<long>("pvsfleet.events.rejected", "{event}", "Events refused on their own (invalid, or refused by the database).");
        _sessionsEnded = meter.CreateCounter<long>("pvsfleet.sessions", "{session}", "Sessions seen reaching an outcome, by outcome.");
        meter.CreateObservableGauge("pvsfleet.alerts.open", () => Interlocked.Read(ref _openAlerts), "{alert}", "Alerts open or acknowledged.");
    }

    public void EventsIngested(string type, int count) =>
        _eventsIngested.Add(count, new KeyValuePair<string, object?>("type", type));

    public void Duplicates(int count) => _duplicates.Add(count);

    public void EventsRejected(int count) => _rejected.Add(count);

    public void SessionOutcome(BootOutcome outcome) =>
        _sessionsEnded.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    public void OpenAlerts(long count) => Interlocked.Exchange(ref _openAlerts, count);
}
