using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Api.Alerts;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Simulation;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Live;
using Xunit.Abstractions;

namespace PvsFleet.Api.Tests;

/// <summary>
/// Stuck means no progress: a device streaming its bootstrap for ten minutes in SingleReadMode is healthy (at most
/// "slow", where the site sets a limit), one that goes quiet is stuck. The collector's own pipeline turns a simulated
/// capture into events; they reach the API in the order and at the moments (of the test clock) the collector would send
/// them, with an evaluation every interval — ten minutes of a storm in a few seconds.
/// </summary>
/// <summary>PostgreSQL with a slow-phase limit of 5 minutes in SingleReadMode for the site "long-reads".</summary>
public sealed class SlowPhasePostgresApi : PostgresApi
{
    public SlowPhasePostgresApi() => Settings["PvsFleet:Alerts:Sites:long-reads:SlowPhaseSeconds:SingleReadMode"] = "300";
}

public sealed class StuckProgressTests(SlowPhasePostgresApi api, ITestOutputHelper output)
    : ApiTestBase<SlowPhasePostgresApi>(api), IClassFixture<SlowPhasePostgresApi>
{
    private static readonly TimeSpan Interval = new FleetOptions().Alerts.EvaluationInterval;
    private static readonly TimeSpan Threshold = new FleetOptions().Alerts.StuckThreshold("", BootPhase.SingleReadMode);

    [SkippableFact]
    public async Task Healthy_ten_minute_SingleReadMode_is_never_stuck_only_slow_and_a_device_gone_quiet_is_stuck_within_an_interval()
    {
        SkipIfUnavailable();
        var work = Path.Combine(Path.GetTempPath(), "pvsfleet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            // 2,400 single reads 100–400 ms apart: about ten minutes in SingleReadMode per device.
            var storm = BootStormSimulator.Run(new SimulationOptions
            {
                Devices = 3, SingleReadIos = 2400, BniStackIos = 4, FailureShare = 0, StaggerSeconds = 5, Seed = 7,
                Start = Api.Clock.GetUtcNow().UtcDateTime.AddSeconds(5), OutputPath = Path.Combine(work, "long-reads.pcapng"),
            });
            List<IngestEvent> events;
            Guid instance;
            using (var spool = new EventSpool(Path.Combine(work, "spool")))
            {
                var pipeline = new CollectorPipeline(new TrackerOptions(), spool);
                await new ReplaySource([storm.CapturePath], null, false, false, TimeProvider.System).RunAsync(pipeline, default);
                events = [.. spool.Peek(int.MaxValue, long.MaxValue)];
                instance = spool.Instance;
            }

            // The last device goes quiet two minutes into SingleReadMode: nothing more about it reaches the API.
            var sessions = events.OfType<SessionEvent>().Select(e => e.Session).ToList();
            var quietMac = sessions.Select(s => s.Mac).Distinct().Order(StringComparer.Ordinal).Last();
            var readsFrom = sessions.Where(s => s.Mac == quietMac && s.Phase == BootPhase.SingleReadMode).Min(s => s.Phases.Single(p => p.Phase == BootPhase.SingleReadMode).StartedAt);
            var quietFrom = readsFrom.AddMinutes(2);
            events = [.. events.Where(e => e is not SessionEvent se || se.Session.Mac != quietMac || e.Timestamp <= quietFrom)];
            var quietLastProgress = events.OfType<SessionEvent>().Where(e => e.Session.Mac == quietMac).Max(e => e.Session.LastProgressAt!.Value);

            var key = await Api.AddCollectorAsync("long-reads", "pipeline");
            var client = Api.CollectorClient(key);
            var evaluator = Api.Services.GetRequiredService<AlertEvaluator>();
            var alerts = new List<(DateTimeOffset At, AlertMessage Alert)>();
            var next = 0;
            var beats = 0;
            var end = events[^1].Timestamp + TimeSpan.FromMinutes(1);
            while (Api.Clock.GetUtcNow() < end)
            {
                Api.Clock.Advance(Interval);
                var batch = new List<IngestEvent>();
                while (next < events.Count && events[next].Timestamp <= Api.Clock.GetUtcNow())
                    batch.Add(events[next++]);
                // The collector's heartbeat, numbered above anything the spool handed out.
                batch.Add(new CollectorHeartbeatEvent { Sequence = 1_000_000 + ++beats, Timestamp = Api.Clock.GetUtcNow() });
                var response = await ApiFactory.PostJsonAsync(client, "/api/v1/ingest", new IngestBatch { Events = batch, Instance = instance });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                foreach (var alert in await evaluator.EvaluateAsync())
                    alerts.Add((Api.Clock.GetUtcNow(), alert));
            }

            // The healthy ones pass the site's slow-phase limit: one "slow phase" alert each, opened within an interval of it.
            var slowAlerts = alerts.Where(a => a.Alert.Kind == "SlowPhase" && a.Alert.State == "open").ToList();
            Assert.Equal(2, slowAlerts.Count);
            Assert.DoesNotContain(slowAlerts, a => a.Alert.Mac == quietMac);
            foreach (var (at, alert) in slowAlerts)
            {
                var entered = sessions.Where(s => s.Mac == alert.Mac && s.Phase == BootPhase.SingleReadMode)
                    .Min(s => s.Phases.Single(p => p.Phase == BootPhase.SingleReadMode).StartedAt);
                Assert.InRange(at - entered, TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(300) + Interval);
            }
            Assert.Equal(2, alerts.Count(a => a.Alert.Kind == "SlowPhase" && a.Alert.State == "resolved"));

            var stuck = alerts.Where(a => a.Alert.Kind == "StuckSession" && a.Alert.State == "open").ToList();
            var opened = Assert.Single(stuck);
            Assert.Equal(quietMac, opened.Alert.Mac);
            var silence = opened.At - quietLastProgress;
            Assert.True(silence > Threshold && silence <= Threshold + Interval, $"opened {silence.TotalSeconds} s after the last progress");
            Assert.Contains($"no progress for {(int)silence.TotalSeconds} s", opened.Alert.Message, StringComparison.Ordinal);

            // The others streamed far longer than the threshold, healthily, and booted.
            var healthy = await Api.WithDbAsync(db => db.SessionPhases.Where(p => p.Phase == BootPhase.SingleReadMode && p.DurationMs != null)
                .Select(p => p.DurationMs!.Value).ToListAsync());
            Assert.Equal(2, healthy.Count);
            Assert.All(healthy, ms => Assert.True(ms > TimeSpan.FromMinutes(9).TotalMilliseconds, $"SingleReadMode lasted {ms} ms"));
            output.WriteLine($"SingleReadMode of {string.Join(", ", healthy.Select(ms => $"{ms / 1000:0} s"))}: no stuck alert, 2 slow-phase alerts at the 300 s limit; quiet device: stuck alert {silence.TotalSeconds:0} s after its last progress ({events.Count} events, {alerts.Count} alert changes)");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
