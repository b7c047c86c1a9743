using PvsFleet.Collector.Simulation;
using PvsFleet.CollectorAgent.Tests.Support;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>A replay ships to the API exactly the boots <c>analyze</c> reads from the same capture.</summary>
public sealed class ReplayDeliveryTests : IAsyncLifetime
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

    [SkippableFact]
    public async Task Replay_of_the_real_captures_stores_what_analyze_reports()
    {
        database.SkipUnlessAvailable();
        var key = await api.AddCollectorAsync("lab", "lab-1");
        var files = new[] { CollectorProgram.Sample("real-bios-1.pcap"), CollectorProgram.Sample("real-uefi-1.pcap") };

        using var replay = CollectorProgram.Replay(api, key, Path.Combine(work, "spool"), "max", files);
        Assert.True(await replay.WaitAsync(TimeSpan.FromMinutes(2)) == 0, replay.Output);

        var expected = StoredBoots.From(CollectorProgram.Analyze(files));
        Assert.Equal(3, expected.Count);
        StoredBoots.AssertSame(expected, await StoredBoots.ReadAsync(database));
    }

    [SkippableFact]
    public async Task Replay_of_a_1000_device_storm_stores_what_analyze_reports()
    {
        database.SkipUnlessAvailable();
        var key = await api.AddCollectorAsync("storm", "storm-1");
        var storm = BootStormSimulator.Run(new SimulationOptions
        {
            Devices = 1000, OutputPath = Path.Combine(work, "storm.pcapng"), Seed = 11, SingleReadIos = 4, BniStackIos = 6, StaggerSeconds = 60,
        });

        using var replay = CollectorProgram.Replay(api, key, Path.Combine(work, "spool"), "max", storm.CapturePath);
        Assert.True(await replay.WaitAsync(TimeSpan.FromMinutes(5)) == 0, replay.Output);

        var expected = StoredBoots.From(CollectorProgram.Analyze(storm.CapturePath));
        Assert.True(expected.Count >= 1000);
        StoredBoots.AssertSame(expected, await StoredBoots.ReadAsync(database));
    }
}
