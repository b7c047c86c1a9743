namespace PvsFleet.Collector.Simulation;

/// <summary>The storm runs on whole microseconds since the Unix epoch: pcapng's default resolution.</summary>
internal static class SimulationClock
{
    public const long MicrosPerMillisecond = 1_000;
    public const long MicrosPerSecond = 1_000_000;

    public static long ToMicros(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
        return (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
    }

    public static DateTime ToDateTime(long micros) => DateTime.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond);

    public static DateTime? ToDateTime(long? micros) => micros is { } value ? ToDateTime(value) : null;
}
