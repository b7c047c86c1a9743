using PvsFleet.Contracts;
using PvsFleet.CollectorAgent.Tests.Support;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>`run` on a real interface: a veth pair whose far end, in a namespace of the test's own, plays a PXE boot.</summary>
public sealed class LiveCaptureTests : ApiTestBase
{

    [SkippableFact]
    public async Task Live_capture_on_a_veth_pair_sees_a_boot_exchange_and_ships_it()
    {
        Database.SkipUnlessAvailable();
        using var network = NetworkNamespace.TryCreate(out var whyNot);
        if (network is null)
        {
            // Root is there on this machine kind and in CI: there, a missing namespace is a failure, not a skip.
            Assert.False(Ci.IsOn, $"cannot create the test's network namespace under CI: {whyNot}");
            Skip.If(true, $"cannot create a network namespace here: {whyNot}");
        }

        var key = await Api.AddCollectorAsync("lab", "live");
        using var collector = CollectorProgram.Run(Api, key, Path.Combine(Work, "spool"), network!.CaptureEnd);
        await WaitForAsync(() => Task.FromResult(collector.Output.Contains("Collecting from", StringComparison.Ordinal) || collector.HasExited), TimeSpan.FromMinutes(1), "the capture to start");
        Assert.False(collector.HasExited, collector.Output);

        network.SendCapture(CollectorProgram.Sample("real-bios-1.pcap"));

        await WaitForAsync(async () => (await StoredBoots.ReadAsync(Database)).Any(s => s.Phase == BootPhase.PvsLogon), TimeSpan.FromMinutes(1), "the boot to reach the API");
        var session = Assert.Single(await StoredBoots.ReadAsync(Database));
        Assert.Equal("52:54:00:00:00:01", session.Mac);
        Assert.Equal([BootPhase.IpAcquisition, BootPhase.BootstrapDownload, BootPhase.PvsLogon], session.Phases.Select(p => p.Name));
        Assert.Equal(1, session.Phases[0].Retries);
    }
}
