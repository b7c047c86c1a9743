using Npgsql;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The PostgreSQL writer's plans on a new database. Its statements are prepared with generic plans, made at their
/// first run on a pooled connection and kept until an ANALYZE replaces them: made while the tables were empty, they
/// scanned the devices and the month's sessions whole in every later batch, comparing each row with the batch's keys
/// (in a storm-order bench run on a new database, PostgreSQL needed five times the CPU per event until autovacuum
/// came by). The writer looks rows up by key however small the tables were when it planned.
/// </summary>
public sealed class PostgresIngestPlanTests(PostgresApi api) : ApiTestBase<PostgresApi>(api), IClassFixture<PostgresApi>
{
    [SkippableFact]
    public async Task Batches_after_the_first_find_devices_and_sessions_by_key_however_small_the_tables_were()
    {
        SkipIfUnavailable();
        var (client, _) = await NewCollectorAsync();
        var start = Api.Clock.GetUtcNow().AddMinutes(-30);
        // The first batch plans the statements, on empty tables.
        await IngestOkAsync(client, [new Boot(NewMac(), start).Started(1)]);
        var before = await SequentialReadsAsync();

        // Then batches of new boots, the devices and sessions growing by 400 each: a whole-table scan per batch would read
        // every row stored so far.
        long seq = 2;
        for (var batch = 0; batch < 6; batch++)
        {
            var events = new List<IngestEvent>();
            for (var i = 0; i < 400; i++)
                events.Add(new Boot(NewMac(), start.AddSeconds(batch)).Started(seq++));
            await IngestOkAsync(client, events);
        }
        var after = await SequentialReadsAsync();

        Assert.Equal(before, after);
    }

    // Rows read by sequential scans of Devices and of every Sessions and SessionPhases partition. A backend reports its
    // counters before it leaves pg_stat_activity when it exits, so the API's pooled connections are closed and waited for.
    private async Task<(long Devices, long Sessions, long Phases)> SequentialReadsAsync()
    {
        NpgsqlConnection.ClearAllPools();
        var builder = new NpgsqlConnectionStringBuilder(Api.ConnectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using (var others = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection))
        {
            for (var attempt = 0; attempt < 100 && (long)(await others.ExecuteScalarAsync())! > 0; attempt++)
                await Task.Delay(50);
        }
        await using var read = new NpgsqlCommand("""
            SELECT coalesce(sum(seq_tup_read) FILTER (WHERE relname = 'Devices'), 0)::bigint,
                   coalesce(sum(seq_tup_read) FILTER (WHERE relname LIKE 'Sessions\_%'), 0)::bigint,
                   coalesce(sum(seq_tup_read) FILTER (WHERE relname LIKE 'SessionPhases\_%'), 0)::bigint
            FROM pg_stat_user_tables
            """, connection);
        await using var r = await read.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
    }
}
