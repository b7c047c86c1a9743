namespace PvsFleet.Contracts.Queries;

/// <summary>Count and percentiles (PostgreSQL's <c>percentile_cont</c>: linear interpolation) of durations in ms.</summary>
public sealed record DurationStats(long Count, double? P50Ms, double? P90Ms, double? P99Ms, double? MaxMs)
{
    public static readonly DurationStats Empty = new(0, null, null, null, null);
}

public sealed record BucketStats(DateTimeOffset Start, DurationStats Stats);

/// <summary>
/// Boot durations (first DHCPDISCOVER to BNIStack) of the sessions started in [from, to), or with <c>phase</c> the
/// durations of that phase; overall and per hour or day bucket (UTC).
/// </summary>
public sealed record BootDurationStats(string? Site, DateTimeOffset From, DateTimeOffset To, string Bucket, BootPhase? Phase,
    DurationStats Overall, IReadOnlyList<BucketStats> Buckets);

public sealed record SlowDevice(string Mac, string? HostName, int Sessions, double AverageMs, double MaxMs);
