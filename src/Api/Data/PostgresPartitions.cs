using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace PvsFleet.Api.Data;

/// <summary>
/// The monthly partitions of the history tables (<see cref="PostgresSchema"/>): made ahead, and dropped whole by
/// retention instead of deleting rows one by one.
/// </summary>
public static class PostgresPartitions
{
    /// <summary>Months made ahead of the current one, so a month never starts without its partition.</summary>
    public const int MonthsAhead = 2;

    /// <summary>
    /// Makes the partitions of the months from <paramref name="from"/> to <paramref name="to"/> (UTC months, both
    /// included) of every partitioned table; returns how many it made. Idempotent and safe with several API replicas
    /// (<see cref="PostgresSchema.EnsureMonthFunction"/>).
    /// </summary>
    /// <remarks>
    /// Each table and month is a statement, and so a transaction, of its own, holding one table's locks only: attaching
    /// a month locks that table's default partition, and a transaction that went on to the next table while holding it
    /// deadlocked with a query joining the two (Sessions ⋈ SessionPhases takes them in the other order; seen once in
    /// the hygiene alert tests).
    /// </remarks>
    public static async Task<int> EnsureAsync(FleetDbContext db, DateTime from, DateTime to, CancellationToken ct = default)
    {
        var made = 0;
        for (var month = MonthOf(from); month <= MonthOf(to); month = month.AddMonths(1))
        {
            foreach (var (table, _) in PostgresSchema.PartitionedTables)
            {
                var created = await db.Database.SqlQuery<bool>($"SELECT pvsfleet_ensure_month({table}, {month}) AS \"Value\"").SingleAsync(ct);
                made += created ? 1 : 0;
            }
        }
        return made;
    }

    /// <summary>
    /// The month before (a spool replayed late, the demo's history and the first days of a month still land in a
    /// partition of their own), the current month and <see cref="MonthsAhead"/> more.
    /// </summary>
    public static Task<int> EnsureAheadAsync(FleetDbContext db, DateTime now, CancellationToken ct = default) =>
        EnsureAsync(db, MonthOf(now).AddMonths(-1), MonthOf(now).AddMonths(MonthsAhead), ct);

    /// <summary>
    /// Retention of whole months: drops the monthly partitions of <paramref name="tables"/> that end at or before the
    /// start of the month holding <paramref name="cutoff"/>, and deletes the default partition's rows before that
    /// start (the default holds only strays, so that delete is small; raw events there go by receipt time instead). Rows of the month the cutoff falls in stay until
    /// that whole month is past the cutoff: a table keeps between its retention window and a month more, and never
    /// half a month, so statistics over what is kept stay whole. Returns the start of the month kept from.
    /// </summary>
    public static async Task<(DateTime KeptFrom, List<string> Dropped)> DropBeforeAsync(
        FleetDbContext db, IReadOnlyCollection<string> tables, DateTime cutoff, CancellationToken ct = default)
    {
        var keptFrom = MonthOf(cutoff);
        var dropped = new List<string>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var (table, column) in PostgresSchema.PartitionedTables.Where(t => tables.Contains(t.Table)))
        {
            var partitions = await db.Database.SqlQuery<string>($"""
                SELECT c.relname AS "Value" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass(format('%I', {table}))
                """).ToListAsync(ct);
            foreach (var name in partitions)
            {
                if (MonthOfPartition(table, name) is { } month && month.AddMonths(1) <= keptFrom)
                {
                    // The name comes from the catalog and is checked against Table_YYYY_MM above.
#pragma warning disable EF1002
                    await db.Database.ExecuteSqlRawAsync($"DROP TABLE \"{name}\"", ct);
#pragma warning restore EF1002
                    dropped.Add(name);
                }
            }
            // A raw event in the default partition has an event time outside every month made: a capture replayed
            // from long ago, or a collector's clock far off. It has no month to go with, so it goes by when it was
            // received, as raw events did before partitioning; by event time, a replayed capture's events would be
            // deleted by the very next pass (the collector outage tests caught that).
            var (strayColumn, strayCutoff) = table == "Events" ? ("ReceivedAt", cutoff) : (column, keptFrom);
#pragma warning disable EF1002 // table and columns are the constants of PostgresSchema
            await db.Database.ExecuteSqlRawAsync(
                $"DELETE FROM \"{table}{PostgresSchema.DefaultSuffix}\" WHERE \"{strayColumn}\" < {{0}}", [strayCutoff], ct);
#pragma warning restore EF1002
        }
        await tx.CommitAsync(ct);
        return (keptFrom, dropped);
    }

    /// <summary>The month a partition of <paramref name="table"/> named <c>Table_YYYY_MM</c> holds; null for any other.</summary>
    public static DateTime? MonthOfPartition(string table, string name) =>
        name.Length == table.Length + 8 && name.StartsWith(table + "_", StringComparison.Ordinal)
        && DateTime.TryParseExact(name.AsSpan(table.Length + 1), "yyyy_MM", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var month)
            ? DateTime.SpecifyKind(month, DateTimeKind.Utc)
            : null;

    public static DateTime MonthOf(DateTime t) => new(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc);
}
