using PvsFleet.Collector.Analysis;

namespace PvsFleet.Collector.Simulation;

/// <summary>What <see cref="BootStormSimulator.Run"/> wrote, and the truth a tracker must reproduce from it.</summary>
public sealed record SimulationResult(
    string CapturePath,
    string TruthPath,
    long Packets,
    long CaptureBytes,
    TimeSpan Elapsed,
    AnalysisReport Truth,
    IReadOnlyList<InjectedDevice> Injected);

/// <summary>One device and the failure planted on it (<see cref="InjectedFailure.None"/> for healthy ones).</summary>
public sealed record InjectedDevice(string Mac, InjectedFailure Failure);
