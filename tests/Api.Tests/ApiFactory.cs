using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using PvsFleet.Api.Cli;
using PvsFleet.Api.Data;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The API on a test server over a database of its own, created for the test class and dropped after it.
/// The clock is a <see cref="FakeTimeProvider"/>; the alert loop is off so tests drive evaluations themselves.
/// </summary>
public abstract class ApiFactory : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));

    /// <summary>Why this database cannot be used here, or null when it can.</summary>
    public virtual string? Unavailable => null;

    protected Dictionary<string, string?> Settings { get; } = new()
    {
        ["PvsFleet:Alerts:Enabled"] = "false",
        ["PvsFleet:Alerts:Sites:slow:StuckThresholds:SingleReadMode"] = "120",
        ["PvsFleet:Capacity:Sites:small-farm:MaxBootDevicesAllowed"] = "40",
        ["PvsFleet:Capacity:Sites:small-farm:StreamPorts"] = "4",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
        });
    }

    public async Task<string> AddCollectorAsync(string site, string name)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var (_, key) = await Commands.CreateCollectorAsync(db, site, name, Clock.GetUtcNow().UtcDateTime);
        return key;
    }

    public HttpClient CollectorClient(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<T> WithDbAsync<T>(Func<FleetDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<FleetDbContext>());
    }

    public static Task<HttpResponseMessage> PostJsonAsync<T>(HttpClient client, string url, T body) =>
        client.PostAsJsonAsync(url, body, Json);
}

public class SqliteApi : ApiFactory
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "pvsfleet-tests", Guid.NewGuid().ToString("N"));

    public SqliteApi()
    {
        Settings["PvsFleet:DataDirectory"] = this.directory;
        Settings["ConnectionStrings:Postgres"] = "";
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(this.directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a finishing background task: the temp directory is cleaned by the OS.
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A fresh PostgreSQL database per test class, made on the server named by PVSFLEET_TEST_POSTGRES.
/// Without that variable the tests are skipped, unless CI=true: then they fail, so CI can never pass without them.
/// </summary>
public class PostgresApi : ApiFactory
{
    public const string Variable = "PVSFLEET_TEST_POSTGRES";
    private readonly string? server;
    private readonly string database = "pvsfleet_t_" + Guid.NewGuid().ToString("N")[..16];

    public PostgresApi()
    {
        this.server = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(this.server))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{Variable} is not set, and CI=true: the PostgreSQL tests must run in CI.");
            return;
        }
        using (var connection = new NpgsqlConnection(this.server))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{this.database}\"", connection);
            create.ExecuteNonQuery();
        }
        Settings["ConnectionStrings:Postgres"] = new NpgsqlConnectionStringBuilder(this.server) { Database = this.database }.ToString();
    }

    /// <summary>The test database, for tests that read PostgreSQL's own views.</summary>
    public string ConnectionString => Settings["ConnectionStrings:Postgres"]!;

    public override string? Unavailable => string.IsNullOrWhiteSpace(this.server)
        ? $"{Variable} is not set (e.g. Host=127.0.0.1;Username=pvsfleet;Password=pvsfleet;Database=pvsfleet_test); PostgreSQL tests skipped outside CI."
        : null;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (!string.IsNullOrWhiteSpace(this.server))
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(this.server);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{this.database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>SQLite with the static admin key configured: reading needs it.</summary>
public sealed class SecuredSqliteApi : SqliteApi
{
    public const string AdminKey = "test-admin-key-0123456789";

    public SecuredSqliteApi() => Settings["PvsFleet:Auth:AdminKey"] = AdminKey;
}

/// <summary>PostgreSQL with the exact-statistics threshold at zero: every range is answered from the duration histogram.</summary>
public sealed class HistogramStatsPostgresApi : PostgresApi
{
    public HistogramStatsPostgresApi() => Settings["PvsFleet:Stats:ExactUpTo"] = "0";
}
