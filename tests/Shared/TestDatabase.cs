// Shared by the test projects that run the real API and collector as processes (linked, not copied).
using Npgsql;

namespace PvsFleet.Tests.Processes;

/// <summary>
/// A fresh PostgreSQL database on the server named by PVSFLEET_TEST_POSTGRES, dropped afterwards. Without the
/// variable the tests are skipped with the reason — unless CI=true: then they fail, so CI cannot pass without them.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string Variable = "PVSFLEET_TEST_POSTGRES";
    private readonly string? server = Environment.GetEnvironmentVariable(Variable);
    private readonly string name = "pvsfleet_process_" + Guid.NewGuid().ToString("N")[..12];

    public TestDatabase()
    {
        if (string.IsNullOrWhiteSpace(server))
        {
            if (Ci.IsOn)
            {
                throw new InvalidOperationException($"{Variable} is not set, and CI=true: the tests that run the API as a process must run in CI.");
            }

            return;
        }

        using var connection = new NpgsqlConnection(server);
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        create.ExecuteNonQuery();
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }

    public string? ConnectionString { get; }

    public void SkipUnlessAvailable() =>
        Skip.If(ConnectionString is null, $"{Variable} is not set (e.g. Host=127.0.0.1;Username=pvsfleet;Password=pvsfleet;Database=pvsfleet_test)");

    public async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public async Task<long> CountAsync(string sql) => (await QueryAsync(sql, r => r.GetInt64(0))).Single();

    public async ValueTask DisposeAsync()
    {
        if (ConnectionString is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

public static class Ci
{
    public static bool IsOn => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
