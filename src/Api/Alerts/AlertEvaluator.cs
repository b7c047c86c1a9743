using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;
using PvsFleet.Api.Live;
using PvsFleet.Api.Operations;
using PvsFleet.Api.ScaleOut;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Alerts;

/// <summary>
/// Opens and resolves alerts on a timer of the injected <see cref="TimeProvider"/>: one per session stuck before
/// BNIStack, one per failed boot, one per silent collector. Sessions of a silent collector do not count as stuck:
/// their devices may be fine and only the collector dead.
/// </summary>
public sealed class AlertEvaluator(
    IServiceScopeFactory scopes, TimeProvider clock, IOptionsMonitor<FleetOptions> options,
    IHubContext<FleetHub, IFleetClient> hub, WebhookOutbox webhooks, FleetMetrics metrics, AlertLeadership leadership,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, ILogger<AlertEvaluator> log)
    : BackgroundService
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly HygieneRules hygiene = new(json.Value.SerializerOptions);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CurrentValue.Alerts.Enabled)
            return;
        using var timer = new PeriodicTimer(options.CurrentValue.Alerts.EvaluationInterval, clock);
        do
        {
            try
            {
                // Several replicas share one database: only the holder of the lock evaluates, so no alert opens twice.
                if (await leadership.TryLeadAsync(stoppingToken))
                    await EvaluateAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "Alert evaluation failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        gate.Dispose();
        base.Dispose();
    }

    /// <summary>One evaluation pass; returns the alerts it opened or resolved.</summary>
    public async Task<IReadOnlyList<AlertMessage>> EvaluateAsync(CancellationToken ct = default)
    {
        await gate.WaitAsync(ct);
        try
        {
            return await EvaluateCoreAsync(ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<IReadOnlyList<AlertMessage>> EvaluateCoreAsync(CancellationToken ct)
    {
        var o = options.CurrentValue.Alerts;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();

        var sites = await db.Sites.AsNoTracking().ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        var collectors = await db.Collectors.AsNoTracking().Where(c => c.RevokedAt == null).ToListAsync(ct);
        var silent = collectors.Where(c => c.LastSeenAt is { } seen && now - seen > o.CollectorSilentAfter).Select(c => c.Id).ToHashSet();
        var active = await db.Alerts.Where(a => a.State != AlertState.Resolved).ToListAsync(ct);
        var opened = new List<Alert>();
        var resolved = new List<Alert>();

        // Stuck: unfinished sessions before BNIStack that are still their device's latest.
        var unfinished = await db.Sessions.AsNoTracking()
            .Where(s => (s.Outcome == BootOutcome.InProgress || s.Outcome == BootOutcome.Stuck) && s.Phase != BootPhase.BniStack)
            .Where(s => s.Device.LastSessionId == s.Id)
            .Select(s => new { s.Id, s.SiteId, s.CollectorId, s.Mac, s.Phase, s.PhaseStartedAt, s.LastProgressAt, s.Outcome })
            .ToListAsync(ct);
        // Stuck means no progress for longer than the phase's threshold, however long the phase has lasted: a healthy
        // SingleReadMode of several minutes keeps reporting progress. Collectors that do not report progress are judged
        // by the phase's start, as before.
        DateTime LastProgress(DateTime phaseStartedAt, DateTime? lastProgressAt) =>
            lastProgressAt is { } p && p > phaseStartedAt ? p : phaseStartedAt;
        var stuck = unfinished
            .Where(s => s.Outcome == BootOutcome.Stuck
                || now - LastProgress(s.PhaseStartedAt, s.LastProgressAt) > o.StuckThreshold(sites.GetValueOrDefault(s.SiteId, ""), s.Phase))
            .ToDictionary(s => s.Id);
        var silentSessions = unfinished.Where(s => silent.Contains(s.CollectorId)).Select(s => s.Id).ToHashSet();
        var stuckOpen = active.Where(a => a.Kind == AlertKind.StuckSession).ToDictionary(a => a.SessionId!.Value);
        foreach (var s in stuck.Values)
        {
            if (stuckOpen.ContainsKey(s.Id) || silent.Contains(s.CollectorId))
                continue;
            // A collector whose clock runs ahead (or a replay shifted to now) can report a phase that started "later"
            // than this server's now: then the collector's own Stuck verdict is the evidence, not a negative duration.
            var silence = now - LastProgress(s.PhaseStartedAt, s.LastProgressAt);
            var seconds = (int)silence.TotalSeconds;
            var inPhase = (int)(now - s.PhaseStartedAt).TotalSeconds;
            var evidence = seconds >= 0
                ? string.Create(CultureInfo.InvariantCulture, $"no progress for {seconds} s, {inPhase} s in the phase")
                : "its collector reports no progress";
            opened.Add(new Alert
            {
                Kind = AlertKind.StuckSession, State = AlertState.Open, SiteId = s.SiteId, SessionId = s.Id, Mac = s.Mac,
                Phase = s.Phase, OpenedAt = now,
                Message = string.Create(CultureInfo.InvariantCulture, $"{s.Mac} is stuck in {s.Phase} ({evidence})."),
            });
        }
        foreach (var (sessionId, alert) in stuckOpen)
        {
            // While the collector is silent we cannot know whether the device moved on: keep the alert.
            if (!stuck.ContainsKey(sessionId) && !silentSessions.Contains(sessionId))
                resolved.Add(alert);
        }

        // Slow phases (optional): healthy sessions, longer in their phase than the site allows. One alert per session and
        // phase; it resolves when the session moves on, ends, or turns out stuck (then the stuck alert speaks).
        var slow = unfinished
            .Where(s => !stuck.ContainsKey(s.Id)
                && o.SlowPhaseLimit(sites.GetValueOrDefault(s.SiteId, ""), s.Phase) is { } limit && now - s.PhaseStartedAt > limit)
            .ToDictionary(s => s.Id);
        var slowOpen = active.Where(a => a.Kind == AlertKind.SlowPhase).ToDictionary(a => a.SessionId!.Value);
        foreach (var s in slow.Values)
        {
            if (slowOpen.TryGetValue(s.Id, out var open) && open.Phase == s.Phase || silent.Contains(s.CollectorId))
                continue;
            var limit = o.SlowPhaseLimit(sites.GetValueOrDefault(s.SiteId, ""), s.Phase)!.Value;
            opened.Add(new Alert
            {
                Kind = AlertKind.SlowPhase, State = AlertState.Open, SiteId = s.SiteId, SessionId = s.Id, Mac = s.Mac,
                Phase = s.Phase, OpenedAt = now,
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"{s.Mac} has been in {s.Phase} for {(int)(now - s.PhaseStartedAt).TotalSeconds} s (the site allows {(int)limit.TotalSeconds} s), still making progress."),
            });
        }
        foreach (var (sessionId, alert) in slowOpen)
        {
            if (!slow.TryGetValue(sessionId, out var s) || s.Phase != alert.Phase)
                resolved.Add(alert);
        }

        // Failed boots without an alert yet; an alert resolves once the device has started a newer session.
        var failed = await db.Sessions.AsNoTracking()
            .Where(s => s.Outcome == BootOutcome.Failed && s.Device.LastSessionId == s.Id)
            .Where(s => !db.Alerts.Any(a => a.Kind == AlertKind.FailedBoot && a.SessionId == s.Id))
            .Select(s => new { s.Id, s.SiteId, s.Mac, s.Phase })
            .ToListAsync(ct);
        foreach (var s in failed)
        {
            opened.Add(new Alert
            {
                Kind = AlertKind.FailedBoot, State = AlertState.Open, SiteId = s.SiteId, SessionId = s.Id, Mac = s.Mac,
                Phase = s.Phase, OpenedAt = now, Message = $"{s.Mac} failed to boot in {s.Phase}.",
            });
        }
        var failedOpen = active.Where(a => a.Kind == AlertKind.FailedBoot).ToList();
        if (failedOpen.Count > 0)
        {
            var ids = failedOpen.Select(a => a.SessionId!.Value).ToList();
            var stillLatest = (await db.Devices.AsNoTracking()
                .Where(d => d.LastSessionId != null && ids.Contains(d.LastSessionId.Value))
                .Select(d => d.LastSessionId!.Value).ToListAsync(ct)).ToHashSet();
            resolved.AddRange(failedOpen.Where(a => !stillLatest.Contains(a.SessionId!.Value)));
        }

        // Silent collectors.
        var silentOpen = active.Where(a => a.Kind == AlertKind.CollectorSilent).ToDictionary(a => a.CollectorId!.Value);
        foreach (var c in collectors)
        {
            var isSilent = silent.Contains(c.Id);
            if (isSilent && !silentOpen.ContainsKey(c.Id))
            {
                opened.Add(new Alert
                {
                    Kind = AlertKind.CollectorSilent, State = AlertState.Open, SiteId = c.SiteId, CollectorId = c.Id, OpenedAt = now,
                    Message = string.Create(CultureInfo.InvariantCulture, $"Collector '{c.Name}' has sent nothing since {c.LastSeenAt:u}."),
                });
            }
            else if (!isSilent && silentOpen.TryGetValue(c.Id, out var alert))
            {
                resolved.Add(alert);
            }
        }
        // A revoked collector's silence is expected.
        resolved.AddRange(silentOpen.Values.Where(a => collectors.All(c => c.Id != a.CollectorId)));

        // Network hygiene: one alert per site, finding and server, counting the devices that show it.
        var recounted = await this.hygiene.EvaluateAsync(db, o.Hygiene, now, active, opened, resolved, ct);

        foreach (var a in resolved)
        {
            a.State = AlertState.Resolved;
            a.ResolvedAt = now;
        }
        db.Alerts.AddRange(opened.Where(a => a.Kind != AlertKind.NetworkHygiene));
        await db.SaveChangesAsync(ct);
        metrics.OpenAlerts(active.Count - resolved.Count + opened.Count);

        var names = collectors.ToDictionary(c => c.Id, c => c.Name);
        var messages = new List<AlertMessage>();
        foreach (var a in opened)
        {
            var m = AlertsApi.ToMessage(a, sites.GetValueOrDefault(a.SiteId, ""), a.CollectorId is { } id ? names.GetValueOrDefault(id) : null);
            messages.Add(m);
            await hub.Clients.Group(FleetHub.GroupFor(m.Site)).AlertOpened(m);
            if (a.Kind == AlertKind.CollectorSilent)
            {
                await hub.Clients.Group(FleetHub.GroupFor(m.Site)).CollectorStatus(
                    new CollectorStatusMessage(m.Site, m.Collector ?? "", true, null, 0, 0));
            }
        }
        foreach (var a in resolved)
        {
            var m = AlertsApi.ToMessage(a, sites.GetValueOrDefault(a.SiteId, ""), a.CollectorId is { } id ? names.GetValueOrDefault(id) : null);
            messages.Add(m);
            await hub.Clients.Group(FleetHub.GroupFor(m.Site)).AlertChanged(m);
        }
        foreach (var m in messages)
            webhooks.Enqueue(m);
        // A recount is news for the dashboard, not for the webhook: a storm would otherwise page once per pass.
        foreach (var a in recounted)
            await hub.Clients.Group(FleetHub.GroupFor(sites.GetValueOrDefault(a.SiteId, ""))).AlertChanged(AlertsApi.ToMessage(a, sites.GetValueOrDefault(a.SiteId, ""), null));
        if (messages.Count > 0 && log.IsEnabled(LogLevel.Information))
            log.LogInformation("Alerts: {Opened} opened, {Resolved} resolved", opened.Count, resolved.Count);
        return messages;
    }
}
