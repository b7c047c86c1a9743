using PvsFleet.Contracts;
using PvsFleet.CollectorAgent.Tests.Support;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>`run` on a real interface: a veth pair whose far end, in a namespace of the test's own, plays a PXE boot.</summary>
public sealed class LiveCaptureTests : IAsyncLifetime
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
    public async Task Live_capture_on_a_veth_pair_sees_a_boot_exchange_and_ships_it()
    {
        database.SkipUnlessAvailable();
        using var network = NetworkNamespace.TryCreate(out var whyNot);
        if (network is null)
        {
            // Root is there on this machine kind and in CI: there, a missing namespace is a failure, not a skip.
            Assert.False(Ci.IsOn, $"cannot create the test's network namespace under CI: {whyNot}");
            Skip.If(true, $"cannot create a network namespace here: {whyNot}");
        }

        var key = await api.AddCollectorAsync("lab", "live");
        using var collector = CollectorProgram.Run(api, key, Path.Combine(work, "spool"), network!.CaptureEnd);
        await WaitForAsync(() => Task.FromResult(collector.Output.Contains("Collecting from", StringComparison.Ordinal) || collector.HasExited), "the capture to start");
        Assert.False(collector.HasExited, collector.Output);

        network.SendCapture(CollectorProgram.Sample("real-bios-1.pcap"));

        await WaitForAsync(async () => (await StoredBoots.ReadAsync(database)).Any(s => s.Phase == BootPhase.PvsLogon), "the boot to reach the API");
        var session = Assert.Single(await StoredBoots.ReadAsync(database));
        Assert.Equal("52:54:00:00:00:01", session.Mac);
        Assert.Equal([BootPhase.IpAcquisition, BootPhase.BootstrapDownload, BootPhase.PvsLogon], session.Phases.Select(p => p.Name));
        Assert.Equal(1, session.Phases[0].Retries);
    }

    private async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }
}
