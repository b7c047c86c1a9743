using PvsFleet.Collector.Simulation;

namespace PvsFleet.Collector.Tests.Simulation;

/// <summary>Temporary output folder for simulated storms, removed after the tests.</summary>
public sealed class SimulationOutput : IDisposable
{
    public SimulationOutput() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"pvsfleet-sim-{Guid.NewGuid():N}");

    /// <summary>A small storm: enough devices that every failure kind appears, few I/Os so it runs in moments.</summary>
    public SimulationOptions SmallStorm(string name, int devices = 70, int seed = 7) => new()
    {
        Devices = devices,
        OutputPath = Path.Combine(Folder, name + ".pcapng"),
        Seed = seed,
        SingleReadIos = 6,
        BniStackIos = 10,
        StaggerSeconds = 20,
    };

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
