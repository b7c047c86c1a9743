using Microsoft.EntityFrameworkCore;
using Npgsql;
using PvsFleet.Contracts;
using static PvsFleet.Api.Data.PostgresCommands;

namespace PvsFleet.Api.Data;

/// <summary>
/// Two rollups of the duration histogram (<see cref="DurationHistogramBin"/>) on PostgreSQL: per site and UTC day
/// (<see cref="DurationDayRollupBin"/>) and per UTC hour for all sites (<see cref="DurationHourRollupBin"/>). At
/// estate scale a collector-hour holds ~110 durations over ~80 bins, so the per-collector histogram hardly
/// compresses (30 days of all sites are 2.4M rows); summed over collectors and hours it is 20 to 80 times smaller.
/// </summary>
/// <remarks>
/// <para>The invariant: for every hour before the cut-off (<see cref="DurationRollupCutoff"/>, a whole UTC hour), each
/// rollup row is the sum (count) and maximum of the histogram rows it covers, in every committed state. The day row
/// of the cut-off's own day covers that day's hours before the cut-off only.</para>
/// <para>The maintenance pass (<see cref="RollUpAsync"/>) moves the cut-off forward over closed hours, at most a day per
/// transaction, holding the cut-off row <c>FOR UPDATE</c> while it sums the histogram. The ingest applies every
/// change it makes to the histogram before the cut-off to the rollups as well (<see cref="IngestCommands"/>), in the
/// same transaction, after taking the cut-off row <c>FOR SHARE</c>: a batch either commits before the pass sums the
/// histogram (the pass sees its rows), or reads the pass's new cut-off and applies its changes to the rows the pass
/// made. So a late correction to a closed hour (a spool replayed, a session's duration corrected) stays exact.</para>
/// <para>Queries read the rollups before the cut-off and the histogram after it (the open tail), in one snapshot.</para>
/// </remarks>
public static class DurationRollup
{
    public const int CutoffId = 1;

    /// <summary>The cut-off of a new database: before any data, with the rollups and the histogram both empty.</summary>
    public static readonly DateTime Beginning = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// How long after its end a UTC hour is rolled up. Any margin is exact (ingest keeps closed hours up to date); this
    /// one spares the ingest that extra work for the boots still running at the hour's end and a collector's short
    /// outage, and leaves the queries an open tail of at most three hours to read from the histogram.
    /// </summary>
    public static readonly TimeSpan Margin = TimeSpan.FromHours(2);

    /// <summary>The histogram's series: the whole boot and each phase.</summary>
    public static int[] Series => [DurationBins.WholeBoot, .. Enum.GetValues<BootPhase>().Select(p => (int)p)];

    public static DateTime DayOf(DateTime t) => new(t.Year, t.Month, t.Day, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// Where a daily read over the rollup may end, for a range ending at <paramref name="endHour"/>: at the cut-off if
    /// the range reaches it (the cut-off's own day row then covers its hours before the cut-off), else at the last
    /// midnight of the range (no day row covers an hour past it). Day rows before it, histogram hours from it.
    /// </summary>
    public static DateTime DailyEnd(DateTime cutoff, DateTime endHour) => cutoff <= endHour ? cutoff : DayOf(endHour);

    /// <summary>
    /// <c>pvsfleet_roll_up_durations(until, series)</c>: sums the histogram's rows of the given series from the cut-off
    /// to <c>until</c> (a whole UTC hour, rounded down) into both rollups and moves the cut-off there; returns the
    /// cut-off. Written in key order, so a day's rows lie together on disk and a month's read touches few pages. The
    /// series are passed so the histogram is read by its key (series first), not scanned whole. Run it in a READ
    /// COMMITTED transaction: the sums must be read after the lock is granted, not at the transaction's start.
    /// </summary>
    public const string RollUpFunction = """
        CREATE OR REPLACE FUNCTION pvsfleet_roll_up_durations(until timestamptz, series int[]) RETURNS timestamptz
        LANGUAGE plpgsql AS $fn$
        DECLARE
            rolled timestamptz;
            upto timestamptz := date_trunc('hour', until AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        BEGIN
            -- Waits for the ingest batches holding it FOR SHARE: their histogram rows are committed before the sums below.
            SELECT "RolledUpTo" INTO STRICT rolled FROM "DurationRollupCutoff" WHERE "Id" = 1 FOR UPDATE;
            IF upto <= rolled THEN
                RETURN rolled;
            END IF;
            INSERT INTO "DurationRollupDay" ("Series", "Day", "SiteId", "Bin", "Count", "MaxMs")
            SELECT "Series", date_trunc('day', "Hour" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "SiteId", "Bin", sum("Count"), max("MaxMs")
            FROM "DurationHistogram"
            WHERE "Series" = ANY(series) AND "Hour" >= rolled AND "Hour" < upto AND "Count" > 0
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            -- The cut-off's day may hold the hours of an earlier pass already.
            ON CONFLICT ("Series", "Day", "SiteId", "Bin") DO UPDATE SET
                "Count" = "DurationRollupDay"."Count" + excluded."Count",
                "MaxMs" = GREATEST("DurationRollupDay"."MaxMs", excluded."MaxMs");
            INSERT INTO "DurationRollupHour" ("Series", "Hour", "Bin", "Count", "MaxMs")
            SELECT "Series", "Hour", "Bin", sum("Count"), max("MaxMs")
            FROM "DurationHistogram"
            WHERE "Series" = ANY(series) AND "Hour" >= rolled AND "Hour" < upto AND "Count" > 0
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
            UPDATE "DurationRollupCutoff" SET "RolledUpTo" = upto WHERE "Id" = 1;
            RETURN upto;
        END
        $fn$;
        """;

    /// <summary>Empties both rollups and puts the cut-off back at the beginning: the next pass rolls up again.</summary>
    public static readonly string ResetSql = $"""
        UPDATE "DurationRollupCutoff" SET "RolledUpTo" = '{Beginning:yyyy-MM-dd}T00:00:00Z' WHERE "Id" = {CutoffId};
        DELETE FROM "DurationRollupDay";
        DELETE FROM "DurationRollupHour";
        """;

    public static Task<DateTime> CutoffAsync(FleetDbContext db, CancellationToken ct = default) =>
        db.Set<DurationRollupCutoff>().Where(c => c.Id == CutoffId).Select(c => c.RolledUpTo).SingleAsync(ct);

    /// <summary>
    /// Rolls up every closed hour (ended <see cref="Margin"/> before <paramref name="now"/>): one transaction per day
    /// holding data, so ingest waits for one day's sums at most (2–5 s at estate scale on a busy 2-core machine; the
    /// hourly pass sums one hour); the empty days before the first are skipped in one. Returns how many steps held data.
    /// </summary>
    public static async Task<int> RollUpAsync(FleetDbContext db, DateTime now, CancellationToken ct = default)
    {
        var target = DurationBins.Hour(now - Margin);
        var series = Series;
        var rolled = await CutoffAsync(db, ct);
        var steps = 0;
        while (rolled < target)
        {
            // The first hour with data from the cut-off on, by the key (series first): empty days are not stepped through.
            var first = await db.Database.SqlQuery<DateTime?>($"""
                SELECT min(m) AS "Value" FROM unnest({series}) s,
                    LATERAL (SELECT min("Hour") AS m FROM "DurationHistogram" WHERE "Series" = s AND "Hour" >= {rolled} AND "Hour" < {target}) x
                """).SingleAsync(ct);
            var until = first is { } f ? DayOf(f).AddDays(1) : target;
            until = until > target ? target : until;
            rolled = await db.Database.SqlQuery<DateTime>($"""SELECT pvsfleet_roll_up_durations({until}, {series}) AS "Value" """).SingleAsync(ct);
            steps += first is null ? 0 : 1;
        }
        return steps;
    }

    /// <summary>
    /// Retention: the rollups' rows before <paramref name="keptFrom"/> go with the histogram's (same transaction). No
    /// cut-off lock: a late batch writing an hour this old leaves a row in both, and the next pass takes both.
    /// </summary>
    public static async Task DeleteBeforeAsync(FleetDbContext db, DateTime keptFrom, CancellationToken ct = default)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Set<DurationHistogramBin>().Where(h => h.Hour < keptFrom).ExecuteDeleteAsync(ct);
        await db.Set<DurationDayRollupBin>().Where(h => h.Day < keptFrom).ExecuteDeleteAsync(ct);
        await db.Set<DurationHourRollupBin>().Where(h => h.Hour < keptFrom).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>One change of the ingest to a histogram row (its collector left out: the rollups sum collectors).</summary>
    public readonly record struct Change(int Series, DateTime Hour, int SiteId, int Bin, long Count, double? MaxMs);

    /// <summary>A histogram row a value left (its maximum may have gone with it).</summary>
    public readonly record struct Retraction(int Series, DateTime Hour, int SiteId, int Bin);

    /// <summary>
    /// The statements that bring the ingest's histogram changes before the cut-off into the rollups, to run in the
    /// batch's transaction after its histogram writes (they read the histogram for the maxima a retraction may lower).
    /// Rows are written in key order, like the histogram's, so two batches cannot deadlock on them.
    /// </summary>
    public static IEnumerable<NpgsqlBatchCommand> IngestCommands(IReadOnlyList<Change> changes, IReadOnlyList<Retraction> retracted)
    {
        if (changes.Count == 0)
            yield break;
        // Held to the commit: the maintenance pass cannot move the cut-off past this batch's hours meanwhile.
        yield return Command($"""SELECT 1 FROM "DurationRollupCutoff" WHERE "Id" = {CutoffId} FOR SHARE""");
        NpgsqlParameter[] Changes() =>
        [
            P(changes.Select(c => c.Series).ToArray()), P(changes.Select(c => c.Hour).ToArray()), P(changes.Select(c => c.SiteId).ToArray()),
            P(changes.Select(c => c.Bin).ToArray()), P(changes.Select(c => c.Count).ToArray()), P(changes.Select(c => c.MaxMs).ToArray()),
        ];
        yield return Command($"""
            INSERT INTO "DurationRollupDay" AS r ("Series", "Day", "SiteId", "Bin", "Count", "MaxMs")
            SELECT x.series, date_trunc('day', x.hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', x.site, x.bin, sum(x.count), max(x.max)
            FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[], $5::bigint[], $6::float8[]) AS x(series, hour, site, bin, count, max)
            WHERE x.hour < {CutoffSubquery}
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT ("Series", "Day", "SiteId", "Bin") DO UPDATE SET
                "Count" = r."Count" + excluded."Count", "MaxMs" = GREATEST(r."MaxMs", excluded."MaxMs")
            """, Changes());
        yield return Command($"""
            INSERT INTO "DurationRollupHour" AS r ("Series", "Hour", "Bin", "Count", "MaxMs")
            SELECT x.series, x.hour, x.bin, sum(x.count), max(x.max)
            FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[], $5::bigint[], $6::float8[]) AS x(series, hour, site, bin, count, max)
            WHERE x.hour < {CutoffSubquery}
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT ("Series", "Hour", "Bin") DO UPDATE SET
                "Count" = r."Count" + excluded."Count", "MaxMs" = GREATEST(r."MaxMs", excluded."MaxMs")
            """, Changes());
        if (retracted.Count == 0)
            yield break;

        // The maximum of a row a value left, again from the histogram (already corrected by the batch); empty rows go.
        NpgsqlParameter[] Keys() =>
        [
            P(retracted.Select(k => k.Series).ToArray()), P(retracted.Select(k => k.Hour).ToArray()),
            P(retracted.Select(k => k.SiteId).ToArray()), P(retracted.Select(k => k.Bin).ToArray()),
        ];
        const string DayKeys = $"""
            (SELECT DISTINCT series, date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, site, bin
             FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[]) AS x(series, hour, site, bin) WHERE hour < {CutoffSubquery}) k
            """;
        const string HourKeys = $"""
            (SELECT DISTINCT series, hour, bin
             FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[]) AS x(series, hour, site, bin) WHERE hour < {CutoffSubquery}) k
            """;
        yield return Command($"""
            UPDATE "DurationRollupDay" r SET "MaxMs" =
                (SELECT max(h."MaxMs") FROM "DurationHistogram" h
                 WHERE h."Series" = k.series AND h."Hour" >= k.day AND h."Hour" < k.day + interval '24 hours'
                   AND h."SiteId" = k.site AND h."Bin" = k.bin AND h."Count" > 0)
            FROM {DayKeys}
            WHERE r."Series" = k.series AND r."Day" = k.day AND r."SiteId" = k.site AND r."Bin" = k.bin
            """, Keys());
        yield return Command($"""
            UPDATE "DurationRollupHour" r SET "MaxMs" =
                (SELECT max(h."MaxMs") FROM "DurationHistogram" h
                 WHERE h."Series" = k.series AND h."Hour" = k.hour AND h."Bin" = k.bin AND h."Count" > 0)
            FROM {HourKeys}
            WHERE r."Series" = k.series AND r."Hour" = k.hour AND r."Bin" = k.bin
            """, Keys());
        yield return Command($"""
            DELETE FROM "DurationRollupDay" r USING {DayKeys}
            WHERE r."Count" <= 0 AND r."Series" = k.series AND r."Day" = k.day AND r."SiteId" = k.site AND r."Bin" = k.bin
            """, Keys());
        yield return Command($"""
            DELETE FROM "DurationRollupHour" r USING {HourKeys}
            WHERE r."Count" <= 0 AND r."Series" = k.series AND r."Hour" = k.hour AND r."Bin" = k.bin
            """, Keys());
    }

    private const string CutoffSubquery = """(SELECT "RolledUpTo" FROM "DurationRollupCutoff" WHERE "Id" = 1)""";
}
