namespace PvsFleet.Contracts.Queries;

/// <summary>
/// The farm's limits a storm is measured against: PVS's <c>MaxBootDevicesAllowed</c> (devices one server boots at once
/// before it pauses logons), and the stream ports times the threads per port (I/O threads, so devices one server
/// streams to at once).
/// </summary>
public sealed record CapacityLimits(int MaxBootDevicesAllowed, int StreamPorts, int ThreadsPerPort)
{
    public int StreamingDevices => StreamPorts * ThreadsPerPort;
}

/// <summary>
/// Boot storms in [from, to): per site, and per PVS login server within it, how many sessions were in each phase at
/// once (the peak of each step), against the limits; the storm's peak; and time-to-boot by concurrency.
/// </summary>
public sealed record CapacityView(string? Site, DateTimeOffset From, DateTimeOffset To, int StepSeconds, CapacityLimits Limits,
    IReadOnlyList<CapacitySeries> Series);

/// <summary>
/// One site (<see cref="PvsServer"/> null) or one PVS server of a site. Booting counts sessions between
/// their first DHCPDISCOVER and BNIStack, streaming those in SingleReadMode or BNIStack. The site's limits
/// are the per-server limits times the PVS servers seen there in the range (<see cref="Servers"/>).
/// </summary>
public sealed record CapacitySeries(string Site, string? PvsServer, int Servers, int BootingLimit, int StreamingLimit,
    CapacityPeak PeakBooting, CapacityPeak PeakStreaming, IReadOnlyList<CapacityPoint> Points, IReadOnlyList<ConcurrencyBucket> TimeToBoot);

/// <summary>The highest count and when it was first reached; <see cref="At"/> is null when nothing was booting.</summary>
public sealed record CapacityPeak(DateTimeOffset? At, int Count);

/// <summary>The highest counts within one step starting at <see cref="Start"/>: per phase (indexed by phase number), booting, streaming.</summary>
public sealed record CapacityPoint(DateTimeOffset Start, IReadOnlyList<int> Phases, int Booting, int Streaming);

/// <summary>
/// The boots that started while <see cref="From"/>..<see cref="To"/> sessions were booting (themselves included): how many,
/// how many reached BNIStack, and their time-to-boot percentiles.
/// </summary>
public sealed record ConcurrencyBucket(int From, int To, int Boots, int Booted, double? P50Ms, double? P90Ms);
