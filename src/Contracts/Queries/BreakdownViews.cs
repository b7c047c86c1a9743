namespace PvsFleet.Contracts.Queries;

/// <summary>What sessions can be grouped by in a breakdown: the servers a boot talked to, its bootstrap and its firmware.</summary>
public enum BreakdownBy
{
    PvsServer,
    StreamServer,
    TftpServer,
    DhcpServer,
    BootFile,
    Firmware,
}

/// <summary>
/// The sessions started in [from, to), grouped by <see cref="By"/>: outcomes, retries and duration percentiles per group,
/// so one server or bootstrap that makes boots slow stands out. A group with fewer than <see cref="MinBoots"/> boots, or
/// without a key, is not <see cref="BreakdownGroup.Comparable"/>: its percentiles are shown but not compared.
/// </summary>
public sealed record ServerBreakdown(BreakdownBy By, string? Site, DateTimeOffset From, DateTimeOffset To, int MinBoots, double SlowFactor,
    IReadOnlyList<BreakdownGroup> Groups);

/// <summary>
/// One group: its key (null when the sessions did not say, e.g. boots that failed before a PVS server answered), the
/// sessions and their outcomes, the retries summed over their phases, the boot durations (first DHCPDISCOVER to
/// BNIStack) and each phase's. <see cref="SlowerThanBest"/> is the group's median over the fastest comparable group's.
/// </summary>
public sealed record BreakdownGroup(string? Key, long Boots, long Booted, long Failed, long Stuck, long InProgress, long Retries,
    DurationStats Boot, double? SlowerThanBest, bool Comparable, IReadOnlyList<PhaseBreakdown> Phases);

/// <summary>One phase of a group: durations of the phase where it ended, its retries, and its median over the fastest comparable group's.</summary>
public sealed record PhaseBreakdown(BootPhase Phase, DurationStats Stats, long Retries, double? SlowerThanBest);
