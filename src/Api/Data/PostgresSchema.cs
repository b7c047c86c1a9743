using Microsoft.EntityFrameworkCore.Migrations;

namespace PvsFleet.Api.Data;

/// <summary>
/// The part of the PostgreSQL schema EF Core cannot express: the history tables partitioned by month (and the
/// function that rolls up the duration histogram, <see cref="DurationRollup"/>). The Initial
/// migration lets EF create every table as it knows it, then calls <see cref="Up"/>, which turns the three history
/// tables into partitioned ones with the same columns, keys and indexes (read back from the catalog, so nothing here
/// repeats the model; not the foreign keys, see <see cref="PartitionByMonthFunction"/>) and gives each a default
/// partition. Squashing the migrations again is
/// mechanical: generate the new Initial and call <see cref="Up"/> at the end of its Up, <see cref="Down"/> first in its
/// Down (the coordinator's squash script does exactly that).
/// </summary>
/// <remarks>
/// Monthly partitions are made ahead by the API (<see cref="PostgresPartitions"/>). The default partition takes any
/// row no monthly partition covers — a collector with a wrong clock, a month not made yet — so nothing is refused or
/// lost; making a month moves its rows out of the default partition first. A partitioned table has no storage
/// parameters of its own: the default partition keeps the model's (fill factor), and every new month copies them.
/// </remarks>
public static class PostgresSchema
{
    /// <summary>The partitioned tables and the column each is partitioned by.</summary>
    public static readonly IReadOnlyList<(string Table, string Column)> PartitionedTables =
    [
        ("Sessions", "StartedAt"),
        // A phase carries its session's start, so it lives in its session's month and is dropped with it.
        ("SessionPhases", "SessionStartedAt"),
        // By the collector's time, not receipt: see the idempotency index (a re-sent event has a new receipt time).
        ("Events", "Timestamp"),
    ];

    public const string DefaultSuffix = "_default";

    /// <summary>
    /// <c>pvsfleet_partition_by_month(table, column)</c>: an empty, ordinary table becomes a table partitioned by range of
    /// the column, keeping its columns (defaults, identity), keys, checks and indexes under their names, with a default
    /// partition that keeps the table's storage parameters.
    /// </summary>
    /// <remarks>
    /// Foreign keys are not kept (the model's one here is Sessions → Devices). The ingest is the only writer of these
    /// rows: it writes a session's device before the session in the same transaction and takes the device's id from the
    /// row it joins, and devices are never deleted, so the key guards nothing; but PostgreSQL checks it with a query per
    /// inserted session (its after-triggers were ~6 % of the server's time under ingest). EF keeps the relationship for
    /// its queries (a session's device) and SQLite keeps the constraint.
    /// </remarks>
    public const string PartitionByMonthFunction = """
        CREATE OR REPLACE FUNCTION pvsfleet_partition_by_month(parent text, key text) RETURNS void LANGUAGE plpgsql AS $fn$
        DECLARE
            t regclass := format('%I', parent)::regclass;
            old text := parent || '_unpartitioned';
            statements text[];
            options text;
            s text;
        BEGIN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', t) INTO STRICT s;
            IF s::boolean THEN
                RAISE EXCEPTION 'pvsfleet_partition_by_month: % is not empty', parent;
            END IF;
            -- Constraints first (the primary key before the rest), then the indexes that back no constraint. Not the
            -- foreign keys: see PostgresSchema.PartitionByMonthFunction.
            SELECT coalesce(array_agg(format('ALTER TABLE %I ADD CONSTRAINT %I %s', parent, conname, pg_get_constraintdef(oid))
                                      ORDER BY contype <> 'p', conname), '{}')
              INTO statements FROM pg_constraint WHERE conrelid = t AND contype IN ('p', 'u', 'c', 'x');
            SELECT statements || coalesce(array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indexrelid), '{}')
              INTO statements FROM pg_index i
             WHERE i.indrelid = t AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = t);
            SELECT coalesce(' WITH (' || array_to_string(reloptions, ', ') || ')', '') INTO options FROM pg_class WHERE oid = t;
            EXECUTE format('ALTER TABLE %I RENAME TO %I', parent, old);
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE '
                           'INCLUDING COMPRESSION INCLUDING COMMENTS) PARTITION BY RANGE (%I)', parent, old, key);
            EXECUTE format('DROP TABLE %I', old);
            FOREACH s IN ARRAY statements LOOP
                EXECUTE s;
            END LOOP;
            EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT%s', parent || '_default', parent, options);
        END
        $fn$;
        """;

    /// <summary>
    /// <c>pvsfleet_ensure_month(table, instant)</c>: makes the partition of the UTC month holding the instant (named
    /// <c>Table_YYYY_MM</c>) unless it exists, moving the rows of that month the default partition holds into it; true
    /// when it made one. Serialised by an advisory lock held to the end of the caller's transaction, so API replicas
    /// starting together make each partition once.
    /// </summary>
    public const string EnsureMonthFunction = """
        CREATE OR REPLACE FUNCTION pvsfleet_ensure_month(parent text, instant timestamptz) RETURNS boolean LANGUAGE plpgsql AS $fn$
        DECLARE
            lo timestamptz := date_trunc('month', instant AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
            hi timestamptz := (date_trunc('month', instant AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
            part text := parent || '_' || to_char(instant AT TIME ZONE 'UTC', 'YYYY_MM');
            fallback text := parent || '_default';
            key text;
            options text;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('pvsfleet_partitions'));
            IF to_regclass(format('%I', part)) IS NOT NULL THEN
                RETURN false;
            END IF;
            SELECT a.attname INTO STRICT key FROM pg_partitioned_table p
              JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
             WHERE p.partrelid = format('%I', parent)::regclass;
            SELECT coalesce(' WITH (' || array_to_string(reloptions, ', ') || ')', '') INTO options
              FROM pg_class WHERE oid = format('%I', fallback)::regclass;
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)%s', part, parent, options);
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
                           fallback, key, key, part) USING lo, hi;
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, lo, hi);
            RETURN true;
        END
        $fn$;
        """;

    /// <summary>Called at the end of the Initial migration's Up, after EF has made the tables.</summary>
    public static void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql(PartitionByMonthFunction);
        migrationBuilder.Sql(EnsureMonthFunction);
        foreach (var (table, column) in PartitionedTables)
            migrationBuilder.Sql($"SELECT pvsfleet_partition_by_month('{table}', '{column}');");
        migrationBuilder.Sql(DurationRollup.RollUpFunction);
    }

    /// <summary>Called first in the Initial migration's Down; EF's table drops take the partitions with them.</summary>
    public static void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP FUNCTION IF EXISTS pvsfleet_roll_up_durations(timestamptz, int[]);");
        migrationBuilder.Sql("DROP FUNCTION IF EXISTS pvsfleet_ensure_month(text, timestamptz);");
        migrationBuilder.Sql("DROP FUNCTION IF EXISTS pvsfleet_partition_by_month(text, text);");
    }
}
