using PvsFleet.Collector.Simulation;
using PvsFleet.CollectorAgent.Tests.Support;
using Xunit.Abstractions;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>
/// Collectors are told apart by their spool, not their key: several collectors on one key (a DaemonSet) and a
/// collector whose spool was wiped neither lose nor duplicate an event.
/// </summary>
public sealed class IdentityTests(ITestOutputHelper output) : ApiTestBase
{
    private SimulationResult Storm(string name, int devices, int seed, DateTime start) => BootStormSimulator.Run(new SimulationOptions
    {
        Devices = devices, OutputPath = Path.Combine(Work, name + ".pcapng"), Seed = seed, SingleReadIos = 4, BniStackIos = 6,
        StaggerSeconds = 60, Start = start,
    });

    private Task<List<(Guid Instance, long Sequence)>> StoredEventsAsync() =>
        Database.QueryAsync("""SELECT "Instance", "Sequence" FROM "Events" """, r => (r.GetGuid(0), r.GetInt64(1)));

    [SkippableFact]
    public async Task Two_collectors_sharing_a_key_replay_different_storms_at_once_and_the_union_is_stored()
    {
        Database.SkipUnlessAvailable();
        var key = await Api.AddCollectorAsync("dc", "daemonset");
        // The same simulated MACs in both storms, an hour apart: the sessions differ, the devices are shared.
        var first = Storm("first", 300, 31, new DateTime(2026, 1, 5, 7, 0, 0, DateTimeKind.Utc));
        var second = Storm("second", 300, 32, new DateTime(2026, 1, 5, 8, 0, 0, DateTimeKind.Utc));
        var spoolA = Path.Combine(Work, "node-a");
        var spoolB = Path.Combine(Work, "node-b");

        using var a = CollectorProgram.Replay(Api, key, spoolA, "max", first.CapturePath);
        using var b = CollectorProgram.Replay(Api, key, spoolB, "max", second.CapturePath);
        Assert.True(await a.WaitAsync(TimeSpan.FromMinutes(4)) == 0, a.Output);
        Assert.True(await b.WaitAsync(TimeSpan.FromMinutes(4)) == 0, b.Output);

        var expected = StoredBoots.From(CollectorProgram.Analyze(first.CapturePath))
            .Concat(StoredBoots.From(CollectorProgram.Analyze(second.CapturePath)))
            .OrderBy(s => s.Mac, StringComparer.Ordinal).ThenBy(s => s.Start).ToList();
        StoredBoots.AssertSame(expected, await StoredBoots.ReadAsync(Database));

        // Each collector's events all stored, once: sent = stored, none lost, none duplicated.
        var stored = await StoredEventsAsync();
        var sentA = CollectorProgram.SpooledSequences(spoolA).Max();
        var sentB = CollectorProgram.SpooledSequences(spoolB).Max();
        Assert.Equal(2, stored.Select(e => e.Instance).Distinct().Count());
        Assert.Equal(sentA + sentB, stored.Count);
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Equal(2L, await Database.CountAsync("""SELECT count(*) FROM "CollectorInstances" """));

        // The Collectors page's source: one collector, two instances, each with its own last sequence.
        using var http = new HttpClient();
        var collectors = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<List<PvsFleet.Contracts.Queries.CollectorView>>(
            http, new Uri(Api.Url, "api/v1/collectors"), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        var shared = Assert.Single(collectors!, c => c.Name == "daemonset");
        Assert.Equal(new[] { sentA, sentB }.Order(), shared.Instances.Select(i => i.LastSequence).Order());
        output.WriteLine($"shared key: sent {sentA} + {sentB} events, stored {stored.Count}, sessions {expected.Count}");
    }

    [SkippableFact]
    public async Task A_spool_wiped_between_runs_loses_nothing_and_its_new_events_are_not_taken_for_duplicates()
    {
        Database.SkipUnlessAvailable();
        var key = await Api.AddCollectorAsync("lab", "wiped");
        var before = Storm("before", 150, 41, new DateTime(2026, 1, 5, 7, 0, 0, DateTimeKind.Utc));
        var after = Storm("after", 150, 42, new DateTime(2026, 1, 5, 9, 0, 0, DateTimeKind.Utc));
        var spool = Path.Combine(Work, "spool");

        using (var first = CollectorProgram.Replay(Api, key, spool, "max", before.CapturePath))
        {
            Assert.True(await first.WaitAsync(TimeSpan.FromMinutes(3)) == 0, first.Output);
        }

        var sentBefore = CollectorProgram.SpooledSequences(spool).Max();
        var storedBefore = await StoredEventsAsync();
        Assert.Equal(sentBefore, storedBefore.Count);
        Directory.Delete(spool, recursive: true); // a node replaced, an emptyDir lost: the new spool restarts at 1

        using (var second = CollectorProgram.Replay(Api, key, spool, "max", after.CapturePath))
        {
            Assert.True(await second.WaitAsync(TimeSpan.FromMinutes(3)) == 0, second.Output);
        }

        var sentAfter = CollectorProgram.SpooledSequences(spool).Max();
        var stored = await StoredEventsAsync();
        Assert.Equal(sentBefore + sentAfter, stored.Count);
        Assert.Equal(stored.Count, stored.Distinct().Count());
        var expected = StoredBoots.From(CollectorProgram.Analyze(before.CapturePath))
            .Concat(StoredBoots.From(CollectorProgram.Analyze(after.CapturePath)))
            .OrderBy(s => s.Mac, StringComparer.Ordinal).ThenBy(s => s.Start).ToList();
        StoredBoots.AssertSame(expected, await StoredBoots.ReadAsync(Database));
        output.WriteLine($"wiped spool: sent {sentBefore} + {sentAfter} events, stored {stored.Count}, sessions {expected.Count}");
    }
}
