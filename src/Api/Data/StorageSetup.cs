using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace PvsFleet.Api.Data;

internal static class StorageSetup
{
    /// <summary>PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, else a SQLite file in the data directory.</summary>
    public static IServiceCollection AddFleetStorage(this IServiceCollection services, IConfiguration configuration)
    {
        // The choice is made when the first context is resolved, from the final configuration (hosts and test
        // factories may add settings after the services are registered).
        services.AddDbContext<PostgresFleetDbContext>((sp, o) =>
            o.UseNpgsql(sp.GetRequiredService<IConfiguration>().GetConnectionString("Postgres")));
        // Two warnings of the SQLite model nobody can act on, silenced so the start-up log shows what matters: the
        // PostgreSQL-only histogram entity is left out of it on purpose, and EF's own SQLite table rebuilds switch
        // PRAGMA foreign_keys outside the migration's transaction.
        services.AddDbContext<SqliteFleetDbContext>((sp, o) => o.UseSqlite(SqliteConnectionString(sp.GetRequiredService<IConfiguration>()))
            .ConfigureWarnings(w => w.Ignore(
                Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.MappedEntityTypeIgnoredWarning,
                Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.NonTransactionalMigrationOperationWarning)));
        services.AddScoped<FleetDbContext>(sp => UsesPostgres(sp.GetRequiredService<IConfiguration>())
            ? sp.GetRequiredService<PostgresFleetDbContext>()
            : sp.GetRequiredService<SqliteFleetDbContext>());
        return services;
    }

    public static bool UsesPostgres(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres"));

    private static string SqliteConnectionString(IConfiguration configuration)
    {
        var dataDirectory = Path.GetFullPath(configuration["PvsFleet:DataDirectory"] ?? "data");
        Directory.CreateDirectory(dataDirectory);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "pvsfleet.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        await db.Database.MigrateAsync(ct);
        // Before the first batch: this month's partitions and the next ones (HistoryMaintenance keeps them ahead).
        if (db.IsPostgres)
        {
            var clock = scope.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
            await PostgresPartitions.EnsureAheadAsync(db, clock.GetUtcNow().UtcDateTime, ct);
        }
        else
        {
            // WAL lets dashboards read while a batch is being written; it is a property of the file, set once.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }
}
