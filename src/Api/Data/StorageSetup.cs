using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace PvsFleet.Api.Data;

internal static class StorageSetup
{
    /// <summary>PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, else a SQLite file in the data directory.</summary>
    public static IServiceCollection AddFleetStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var postgres = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            services.AddDbContext<FleetDbContext, PostgresFleetDbContext>(o => o.UseNpgsql(postgres));
            return services;
        }

        var dataDirectory = Path.GetFullPath(configuration["PvsFleet:DataDirectory"] ?? "data");
        Directory.CreateDirectory(dataDirectory);
        var sqlite = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "pvsfleet.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        services.AddDbContext<FleetDbContext, SqliteFleetDbContext>(o => o.UseSqlite(sqlite));
        return services;
    }

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        await db.Database.MigrateAsync(ct);
        if (!db.IsPostgres)
        {
            // WAL lets dashboards read while a batch is being written; it is a property of the file, set once.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
    }
}
