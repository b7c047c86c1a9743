using Npgsql;
using PvsFleet.Api.Data;

namespace PvsFleet.Api.ScaleOut;

/// <summary>
/// Decides whether this replica may evaluate alerts now. With PostgreSQL, replicas share one database and would
/// each open the same alert: the evaluator holds a session-level advisory lock on a connection of its own, kept
/// open for as long as it leads. When the leader dies its session ends, PostgreSQL releases the lock, and the next
/// replica to try takes over on its following tick. SQLite is one box only: it always leads.
/// </summary>
public sealed class AlertLeadership(IConfiguration configuration, ILogger<AlertLeadership> log) : IAsyncDisposable
{
    /// <summary>The advisory lock's key: any constant the database's other users do not take ("PVSALERT").</summary>
    public const long LockKey = 0x5056_5341_4C45_5254;

    private NpgsqlConnection? connection;
    private bool leading;

    public bool IsLeader => this.leading;

    /// <summary>True when this replica holds (or has just taken) the evaluator lock.</summary>
    public async Task<bool> TryLeadAsync(CancellationToken ct)
    {
        if (!StorageSetup.UsesPostgres(configuration))
            return true;
        try
        {
            if (this.connection is null)
            {
                // Its own connection, out of the pool: the lock lives exactly as long as this session.
                var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"))
                {
                    Pooling = false,
                    ApplicationName = "pvsfleet-alert-leader",
                    KeepAlive = 10,
                };
                this.connection = new NpgsqlConnection(builder.ConnectionString);
                await this.connection.OpenAsync(ct);
            }
            if (this.leading)
            {
                // Still leading only if the session that holds the lock is still alive.
                await using var ping = new NpgsqlCommand("SELECT 1", this.connection);
                await ping.ExecuteScalarAsync(ct);
                return true;
            }
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", this.connection);
            command.Parameters.AddWithValue("key", LockKey);
            this.leading = (bool)(await command.ExecuteScalarAsync(ct))!;
            if (this.leading && log.IsEnabled(LogLevel.Information))
                log.LogInformation("This replica now evaluates alerts (advisory lock {Key} taken)", LockKey);
            return this.leading;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            if (this.leading)
                log.LogWarning(ex, "Lost the alert evaluator lock's connection; another replica may take over");
            await DropAsync();
            return false;
        }
    }

    private async Task DropAsync()
    {
        this.leading = false;
        if (this.connection is not null)
        {
            await this.connection.DisposeAsync();
            this.connection = null;
        }
    }

    public async ValueTask DisposeAsync() => await DropAsync();
}
