namespace PvsFleet.Api.Data;

/// <summary>
/// Log-linear duration bins taken straight from the bits of an IEEE double (as HdrHistogram does): the exponent and the
/// top <see cref="SubBucketBits"/> mantissa bits. Every power of two is cut into 64 equal bins, so a bin is at most
/// 1/64 of its lower bound wide and its midpoint is within 1/128 (0.79 %) of any value in it. Bits, not logarithms:
/// PostgreSQL computes the very same bin (<see cref="Sql"/>), so a backfill in SQL and the ingest in .NET agree exactly.
/// </summary>
public static class DurationBins
{
    /// <summary>The series of whole boots (first DHCPDISCOVER to BNIStack) beside the phase numbers 0–4.</summary>
    public const int WholeBoot = -1;
    public const int SubBucketBits = 6;
    private const int Shift = 52 - SubBucketBits;

    /// <summary>Largest relative distance between a value and the estimate of its bin.</summary>
    public const double RelativeError = 1.0 / (1 << (SubBucketBits + 1));

    /// <summary>The bin of a duration in ms; zero, negative or non-finite durations share bin 0.</summary>
    public static int Of(double ms) => ms > 0 && double.IsFinite(ms) ? (int)(BitConverter.DoubleToInt64Bits(ms) >> Shift) : 0;

    public static double Lower(int bin) => bin <= 0 ? 0 : BitConverter.Int64BitsToDouble((long)bin << Shift);

    public static double Upper(int bin) => BitConverter.Int64BitsToDouble((long)(bin + 1) << Shift);

    /// <summary>The midpoint of the bin, never above the largest value seen in it.</summary>
    public static double Estimate(int bin, double max) => bin <= 0 ? Math.Min(0, max) : Math.Min((Lower(bin) + Upper(bin)) / 2, max);

    /// <summary>The same bin as <see cref="Of"/>, in PostgreSQL, of a double precision expression.</summary>
    public static string Sql(string column) =>
        $"(CASE WHEN {column} > 0 THEN (('x' || encode(float8send({column}), 'hex'))::bit(64)::bigint >> {Shift})::int ELSE 0 END)";

    public static DateTime Hour(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerHour), DateTimeKind.Utc);

    /// <summary>
    /// Rebuilds the whole histogram from the stored durations: the reference the tests compare the ingest-maintained
    /// rows with, and the bench's fill after loading. Its rollups start again from nothing (the next maintenance pass
    /// rolls up the closed hours anew), so they keep equal to the rebuilt histogram.
    /// </summary>
    public static readonly string RebuildSql = $"""
        {DurationRollup.ResetSql}
        DELETE FROM "DurationHistogram";
        INSERT INTO "DurationHistogram" ("Series", "Hour", "SiteId", "CollectorId", "Bin", "Count", "MaxMs")
        SELECT {WholeBoot}, date_trunc('hour', "StartedAt" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "SiteId", "CollectorId",
               {Sql("\"DurationMs\"")}, count(*), max("DurationMs")
        FROM "Sessions" WHERE "DurationMs" IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5;
        INSERT INTO "DurationHistogram" ("Series", "Hour", "SiteId", "CollectorId", "Bin", "Count", "MaxMs")
        SELECT p."Phase", date_trunc('hour', p."SessionStartedAt" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', p."SiteId", s."CollectorId",
               {Sql("p.\"DurationMs\"")}, count(*), max(p."DurationMs")
        FROM "SessionPhases" p JOIN "Sessions" s ON s."Id" = p."SessionId" AND s."StartedAt" = p."SessionStartedAt" WHERE p."DurationMs" IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5;
        """;
}
