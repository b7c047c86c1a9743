using PvsFleet.Collector.Simulation;
using PvsFleet.CollectorAgent.Tests.Support;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>Nothing is lost and nothing is stored twice when the API or the collector goes away mid-stream.</summary>
public sealed class OutageTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string work = CollectorProgram.TemporaryDirectory();
    private ApiServer api = null!;

    public async Task InitializeAsync()
    {
        api = new ApiServer(database);
        if (database.ConnectionString is not null)
        {
            await api.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        await database.DisposeAsync();
        Directory.Delete(work, recursive: true);
    }

    private SimulationResult Storm(int devices) => BootStormSimulator.Run(new SimulationOptions
    {
        Devices = devices, OutputPath = Path.Combine(work, $"storm-{devices}.pcapng"), Seed = 5, SingleReadIos = 4, BniStackIos = 6, StaggerSeconds = 120,
    });

    private Task<long> StoredEventsAsync() => database.CountAsync("""SELECT count(*) FROM "Events" """);

    private async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }

    /// <summary>Every sequence from 1 to the last is stored exactly once.</summary>
    private async Task AssertContiguousOnceAsync(long last)
    {
        var sequences = await database.QueryAsync("""SELECT "Sequence" FROM "Events" ORDER BY "Sequence" """, r => r.GetInt64(0));
        Assert.Equal(last, sequences.Count);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), sequences);
    }

    [SkippableFact]
    public async Task Api_stopped_for_a_minute_mid_replay_loses_nothing_and_stores_nothing_twice()
    {
        database.SkipUnlessAvailable();
        var key = await api.AddCollectorAsync("lab", "outage");
        var storm = Storm(300);
        var spool = Path.Combine(work, "spool");

        // At 4x the storm's 3-4 minutes of boots take about a minute to play: the outage falls in the middle.
        using var replay = CollectorProgram.Replay(api, key, spool, "4", storm.CapturePath);
        await WaitForAsync(async () => await StoredEventsAsync() > 100, TimeSpan.FromMinutes(1), "the first events to arrive");
        api.Stop();
        var storedBeforeOutage = await StoredEventsAsync();
        await Task.Delay(TimeSpan.FromMinutes(1));
        Assert.False(replay.HasExited && replay.ExitCode != 0, replay.Output);
        Assert.Equal(storedBeforeOutage, await StoredEventsAsync());
        Assert.True(CollectorProgram.SpooledSequences(spool).Count > 0, "the collector spooled nothing during the outage");
        await api.StartAsync();

        Assert.True(await replay.WaitAsync(TimeSpan.FromMinutes(5)) == 0, replay.Output);
        var last = CollectorProgram.SpooledSequences(spool).Max();
        await AssertContiguousOnceAsync(last);
        StoredBoots.AssertSame(StoredBoots.From(CollectorProgram.Analyze(storm.CapturePath)), await StoredBoots.ReadAsync(database));
    }

    [SkippableFact]
    public async Task Collector_killed_mid_run_resumes_from_its_spool_without_loss_or_duplicate()
    {
        database.SkipUnlessAvailable();
        var key = await api.AddCollectorAsync("lab", "killed");
        var storm = Storm(200);
        var spool = Path.Combine(work, "spool");

        using (var first = CollectorProgram.Replay(api, key, spool, "10", storm.CapturePath))
        {
            await WaitForAsync(async () => await StoredEventsAsync() > 50, TimeSpan.FromMinutes(1), "the first events to arrive");

            // With the API away, events pile up in the spool: the kill must leave undelivered events behind.
            api.Stop();
            await WaitForAsync(() => Task.FromResult(CollectorProgram.SpooledSequences(spool).Count > 200), TimeSpan.FromMinutes(1), "a backlog in the spool");
            first.Kill();
        }

        var spooledAtKill = CollectorProgram.SpooledSequences(spool);
        var storedAtKill = await StoredEventsAsync();
        Assert.True(spooledAtKill.Max() > storedAtKill, "the kill left nothing undelivered");
        await api.StartAsync();

        // The restarted collector has new work of its own; the backlog must go first and keep its numbers.
        using var second = CollectorProgram.Replay(api, key, spool, "max", CollectorProgram.Sample("real-bios-1.pcap"));
        Assert.True(await second.WaitAsync(TimeSpan.FromMinutes(3)) == 0, second.Output);

        var last = CollectorProgram.SpooledSequences(spool).Max();
        Assert.True(last > spooledAtKill.Max(), "the restarted collector reused sequence numbers");
        await AssertContiguousOnceAsync(last);
        var stored = (await database.QueryAsync("""SELECT "Sequence" FROM "Events" """, r => r.GetInt64(0))).ToHashSet();
        Assert.All(spooledAtKill, sequence => Assert.Contains(sequence, stored));
    }
}
