using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;

namespace PvsFleet.Api.Operations;

/// <summary>Deletes raw events past <see cref="FleetOptions.EventRetentionDays"/> and packet clips past their retention, hourly; sessions stay.</summary>
public sealed class EventRetention(IServiceScopeFactory scopes, TimeProvider clock, IOptionsMonitor<FleetOptions> options,
    ILogger<EventRetention> log) : BackgroundService
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
                var cutoff = clock.GetUtcNow().UtcDateTime.AddDays(-options.CurrentValue.EventRetentionDays);
                var deleted = await db.Events.Where(e => e.ReceivedAt < cutoff).ExecuteDeleteAsync(stoppingToken);
                if (deleted > 0 && log.IsEnabled(LogLevel.Information))
                    log.LogInformation("Deleted {Count} raw events received before {Cutoff:u}", deleted, cutoff);
                var clips = await Evidence.EvidenceApi.ApplyRetentionAsync(db, options.CurrentValue.Evidence, clock.GetUtcNow().UtcDateTime, stoppingToken);
                if (clips > 0 && log.IsEnabled(LogLevel.Information))
                    log.LogInformation("Deleted {Count} packet clips past their retention (days or total bytes)", clips);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "Event retention pass failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
