namespace PvsFleet.EndToEnd.Tests.Support;

/// <summary>
/// Feeds the API the way production does: the collector's own <c>replay</c> command plays a capture through its
/// pipeline (decode, track, spool, ship) to the API with a collector key.
/// </summary>
public static class Collector
{
    private static string Dll => Repo.Dll("Collector", "PvsFleet.Collector.dll");

    /// <summary>Plays the captures as fast as they read, moved to the present, and waits until all is shipped.</summary>
    public static async Task ReplayAsync(FleetServer api, string key, params string[] captures)
    {
        var spool = Repo.TemporaryDirectory();
        using var replay = ChildProcess.Start(Dll, new Dictionary<string, string>(),
            ["replay", .. captures, "--api", api.Url.ToString(), "--key", key, "--speed", "max", "--shift-to-now", "--spool", spool]);
        var code = await replay.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"replay exited with {code}:\n{replay.Output}");
    }

    /// <summary>A storm capture of the collector's simulator: devices that boot all the way to BNIStack.</summary>
    public static async Task<string> SimulateAsync(int devices, double failureShare = 0)
    {
        var output = Path.Combine(Repo.TemporaryDirectory(), "storm.pcapng");
        using var simulate = ChildProcess.Start(Dll, new Dictionary<string, string>(),
            "simulate", "--devices", devices.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output,
            "--failure-share", failureShare.ToString(System.Globalization.CultureInfo.InvariantCulture), "--stagger", "1");
        var code = await simulate.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"simulate exited with {code}:\n{simulate.Output}");
        return output;
    }
}
