using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;

namespace PvsFleet.Api.Operations;

/// <summary>
/// Hourly: makes the history's partitions ahead (PostgreSQL), then applies retention — raw events past
/// <see cref="FleetOptions.EventRetentionDays"/> and, when <see cref="FleetOptions.SessionRetentionDays"/> is set,
/// sessions with their phases and duration histogram; on PostgreSQL it then rolls up the histogram of the hours closed
/// since (<see cref="DurationRollup"/>). On PostgreSQL retention drops whole monthly partitions
/// (<see cref="PostgresPartitions.DropBeforeAsync"/>: a month goes once all of it is past the window); SQLite deletes rows.
/// Packet clips past <see cref="EvidenceStorageOptions.RetentionDays"/> or beyond <see cref="EvidenceStorageOptions.MaxTotalBytes"/> go too.
/// </summary>
public sealed class HistoryMaintenance(IServiceScopeFactory scopes, TimeProvider clock, IOptionsMonitor<FleetOptions> options,
    ILogger<HistoryMaintenance> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
                await PassAsync(db, options.CurrentValue, clock.GetUtcNow().UtcDateTime, log, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "History maintenance pass failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass, as the service runs it every hour.</summary>
    public static async Task PassAsync(FleetDbContext db, FleetOptions options, DateTime now, ILogger log, CancellationToken ct)
    {
        var eventCutoff = now.AddDays(-options.EventRetentionDays);
        DateTime? sessionCutoff = options.SessionRetentionDays > 0 ? now.AddDays(-options.SessionRetentionDays) : null;
        var clips = await Evidence.EvidenceApi.ApplyRetentionAsync(db, options.Evidence, now, ct);
        if (clips > 0 && log.IsEnabled(LogLevel.Information))
            log.LogInformation("Deleted {Count} packet clips past their retention (days or total bytes)", clips);
        if (db.IsPostgres)
        {
            var made = await PostgresPartitions.EnsureAheadAsync(db, now, ct);
            if (made > 0 && log.IsEnabled(LogLevel.Information))
                log.LogInformation("Made {Count} monthly history partitions", made);
            var (eventsFrom, events) = await PostgresPartitions.DropBeforeAsync(db, ["Events"], eventCutoff, ct);
            Report(log, events, eventsFrom);
            if (sessionCutoff is { } cutoff)
            {
                var (sessionsFrom, sessions) = await PostgresPartitions.DropBeforeAsync(db, ["Sessions", "SessionPhases"], cutoff, ct);
                // The histogram and its rollups go with the sessions they count: their hours are the sessions' start hours.
                await DurationRollup.DeleteBeforeAsync(db, sessionsFrom, ct);
                Report(log, sessions, sessionsFrom);
            }
            var rolled = await DurationRollup.RollUpAsync(db, now, ct);
            if (rolled > 0 && log.IsEnabled(LogLevel.Information))
                log.LogInformation("Rolled up the duration histogram in {Steps} steps (a day at most each)", rolled);
            return;
        }

        var deleted = await db.Events.Where(e => e.ReceivedAt < eventCutoff).ExecuteDeleteAsync(ct);
        if (deleted > 0 && log.IsEnabled(LogLevel.Information))
            log.LogInformation("Deleted {Count} raw events received before {Cutoff:u}", deleted, eventCutoff);
        if (sessionCutoff is { } before)
        {
            await db.SessionPhases.Where(p => p.SessionStartedAt < before).ExecuteDeleteAsync(ct);
            var sessions = await db.Sessions.Where(s => s.StartedAt < before).ExecuteDeleteAsync(ct);
            if (sessions > 0 && log.IsEnabled(LogLevel.Information))
                log.LogInformation("Deleted {Count} sessions started before {Cutoff:u}", sessions, before);
        }
    }

    private static void Report(ILogger log, List<string> dropped, DateTime keptFrom)
    {
        if (dropped.Count > 0 && log.IsEnabled(LogLevel.Information))
            log.LogInformation("Dropped history partitions {Partitions}; kept from {KeptFrom:u}", string.Join(", ", dropped), keptFrom);
    }
}
