using System.Text;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Data;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Ingest;

/// <summary>
/// Who sent a batch: the collector (its key), the instance (its spool), and how many of the batch's events the API
/// refused (counted on the instance).
/// </summary>
public readonly record struct IngestSource(int CollectorId, Guid Instance, int Refused = 0);

/// <summary>What one applied batch changed, for the live hub and the meters.</summary>
public sealed record IngestApplied(
    int Accepted, int Duplicates, long AcknowledgedThrough, Data.Collector Collector, string Site,
    IReadOnlyList<StoredSession> ChangedSessions, bool HeartbeatReceived, IReadOnlyDictionary<string, int> AcceptedByType)
{
    public Guid Instance { get; init; }

    /// <summary>The sessions and phases this batch ended, and the retries it added (for the metrics).</summary>
    public BootMeasurements Measured { get; init; } = new();

    /// <summary>Two parts of one batch applied apart (see the one-by-one fallback of the ingest).</summary>
    public IngestApplied Combine(IngestApplied later)
    {
        ArgumentNullException.ThrowIfNull(later);
        var byType = new Dictionary<string, int>(AcceptedByType);
        foreach (var (type, count) in later.AcceptedByType)
            byType[type] = byType.GetValueOrDefault(type) + count;
        var sessions = ChangedSessions.ToDictionary(s => s.Id);
        foreach (var s in later.ChangedSessions)
            sessions[s.Id] = s;
        return new IngestApplied(Accepted + later.Accepted, Duplicates + later.Duplicates, Math.Max(AcknowledgedThrough, later.AcknowledgedThrough),
            later.Collector, later.Site, [.. sessions.Values], HeartbeatReceived || later.HeartbeatReceived, byType)
        {
            Instance = Instance, Measured = Measured.Combine(later.Measured),
        };
    }
}

/// <summary>
/// Applies a validated batch through EF Core: one round of reads (known sequences, the sessions and devices the
/// batch touches), the changes in memory, then one SaveChanges. The SQLite path: an embedded one-box database sees
/// a handful of collectors, and change tracking keeps it simple. PostgreSQL takes <see cref="PostgresIngestWriter"/>.
/// The caller owns the transaction.
/// </summary>
public static class IngestWriter
{
    public static async Task<IngestApplied> ApplyAsync(
        FleetDbContext db, IngestSource source, IReadOnlyList<ReceivedEvent> received, DateTime now, CancellationToken ct)
    {
        var (collectorId, instanceId, refused) = source;
        var collector = await db.Collectors.Include(c => c.Site).SingleAsync(c => c.Id == collectorId, ct);
        long min = long.MaxValue, max = long.MinValue;
        foreach (var (e, _, _) in received)
        {
            min = Math.Min(min, e.Sequence);
            max = Math.Max(max, e.Sequence);
        }

        // A range read instead of an IN list: re-sent batches are contiguous, and the unique index serves it.
        var known = received.Count == 0 ? [] : await db.Events
            .Where(e => e.CollectorId == collectorId && e.Instance == instanceId && e.Sequence >= min && e.Sequence <= max)
            .Select(e => e.Sequence)
            .ToListAsync(ct);
        var knownSet = known.ToHashSet();
        var fresh = received.Where(r => !knownSet.Contains(r.Event.Sequence)).OrderBy(r => r.Event.Sequence).ToList();

        var instance = await db.CollectorInstances.FindAsync([collectorId, instanceId], ct);
        if (instance is null)
        {
            instance = new CollectorInstance { CollectorId = collectorId, Instance = instanceId, FirstSeenAt = now };
            db.CollectorInstances.Add(instance);
        }
        instance.LastSeenAt = now;
        instance.RefusedEvents += refused;
        collector.LastSeenAt = now;
        var changed = new Dictionary<Guid, StoredSession>();
        var byType = new Dictionary<string, int>();
        var heartbeat = false;
        var copy = new List<IngestedEvent>();
        var measured = new BootMeasurements();

        if (fresh.Count > 0)
        {
            var snapshots = fresh.Select(r => r.Event).OfType<SessionEvent>().Select(e => e.Session).ToList();
            var sessionIds = snapshots.Select(s => s.SessionId).Distinct().ToList();
            var macs = snapshots.Select(s => Macs.Normalize(s.Mac)).Distinct().ToList();
            var sessions = sessionIds.Count == 0
                ? []
                : await db.Sessions.Where(s => sessionIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct);
            if (sessions.Count > 0)
            {
                foreach (var phase in await db.SessionPhases.Where(p => sessionIds.Contains(p.SessionId)).ToListAsync(ct))
                    sessions[phase.SessionId].Phases.Add(phase);
            }
            var devices = macs.Count == 0
                ? []
                : await db.Devices.Where(d => macs.Contains(d.Mac)).ToDictionaryAsync(d => d.Mac, StringComparer.Ordinal, ct);

            foreach (var (e, json, _) in fresh)
            {
                var type = TypeName(e);
                byType[type] = byType.GetValueOrDefault(type) + 1;
                copy.Add(new IngestedEvent
                {
                    CollectorId = collector.Id,
                    Instance = instanceId,
                    Sequence = e.Sequence,
                    Type = type,
                    Timestamp = e.Timestamp.UtcDateTime,
                    SessionId = (e as SessionEvent)?.Session.SessionId,
                    ReceivedAt = now,
                    Payload = Encoding.UTF8.GetString(json.Span),
                });

                switch (e)
                {
                    case CollectorHeartbeatEvent hb:
                        heartbeat = true;
                        ApplyHeartbeat(collector, instance, hb);
                        break;
                    case SessionEvent se:
                        if (ApplySnapshot(db, collector, instanceId, se, sessions, devices, now, measured) is { } session)
                            changed[session.Id] = session;
                        break;
                }
            }
            collector.LastSequence = Math.Max(collector.LastSequence, fresh[^1].Event.Sequence);
            instance.LastSequence = Math.Max(instance.LastSequence, fresh[^1].Event.Sequence);
        }

        db.Events.AddRange(copy);
        await db.SaveChangesAsync(ct);
        return new IngestApplied(fresh.Count, received.Count - fresh.Count, max, collector, collector.Site.Name,
            [.. changed.Values], heartbeat, byType) { Instance = instanceId, Measured = measured };
    }

    /// <summary>
    /// A heartbeat's figures go to its instance, and to the collector row too (the last instance to report), which the
    /// silent-collector rule and older dashboards read.
    /// </summary>
    internal static void ApplyHeartbeat(Data.Collector collector, CollectorInstance instance, CollectorHeartbeatEvent hb)
    {
        collector.Interface = hb.Interface ?? collector.Interface;
        collector.Version = hb.Version ?? collector.Version;
        collector.PacketsReceived = hb.PacketsReceived;
        collector.PacketsDropped = hb.PacketsDropped;
        collector.InterfaceDropped = hb.InterfaceDropped;
        collector.ActiveSessions = hb.ActiveSessions;
        collector.SpooledEvents = hb.SpooledEvents;
        instance.Host = hb.Host ?? instance.Host;
        instance.Interface = hb.Interface ?? instance.Interface;
        instance.Version = hb.Version ?? instance.Version;
        instance.PacketsReceived = hb.PacketsReceived;
        instance.PacketsDropped = hb.PacketsDropped;
        instance.InterfaceDropped = hb.InterfaceDropped;
        instance.ActiveSessions = hb.ActiveSessions;
        instance.SpooledEvents = hb.SpooledEvents;
        instance.RejectedEvents = hb.RejectedEvents;
        instance.CorruptSpoolLines = hb.CorruptSpoolLines;
    }

    /// <summary>
    /// Whether a snapshot may replace the stored session: only the instance that follows the session orders its
    /// snapshots (by its sequence numbers), and an older one arriving late never overwrites a newer one.
    /// </summary>
    internal static bool Supersedes(StoredSession stored, int collectorId, Guid instance, long sequence) =>
        stored.CollectorId == collectorId && stored.Instance == instance && sequence > stored.LastSequence;

    public static string TypeName(IngestEvent e) => e switch
    {
        SessionStartedEvent => "sessionStarted",
        PhaseEnteredEvent => "phaseEntered",
        RetriesEvent => "retries",
        IssueEvent => "issue",
        SessionEndedEvent => "sessionEnded",
        CollectorHeartbeatEvent => "heartbeat",
        _ => "unknown",
    };

    private static StoredSession? ApplySnapshot(
        FleetDbContext db, Data.Collector collector, Guid instance, SessionEvent e,
        Dictionary<Guid, StoredSession> sessions, Dictionary<string, Device> devices, DateTime now, BootMeasurements measured)
    {
        var snap = e.Session;
        var mac = Macs.Normalize(snap.Mac);
        var at = e.Timestamp.UtcDateTime;

        if (!devices.TryGetValue(mac, out var device))
        {
            device = new Device { Mac = mac, SiteId = collector.SiteId, FirstSeenAt = at, LastSeenAt = at };
            db.Devices.Add(device);
            devices[mac] = device;
        }

        if (!sessions.TryGetValue(snap.SessionId, out var session))
        {
            session = new StoredSession
            {
                Id = snap.SessionId, Mac = mac, Device = device, SiteId = collector.SiteId, CollectorId = collector.Id, Instance = instance,
            };
            db.Sessions.Add(session);
            sessions[snap.SessionId] = session;
        }
        else if (!Supersedes(session, collector.Id, instance, e.Sequence))
        {
            // Another collector's session id, or an older snapshot arriving late: the stored state is newer.
            return null;
        }

        Merge(session, device, collector.SiteId, snap, e.Sequence, at, now, measured);
        foreach (var phase in session.Phases)
        {
            if (db.Entry(phase).State == EntityState.Detached)
                db.SessionPhases.Add(phase);
        }
        return session;
    }

    /// <summary>
    /// Folds a snapshot that is newer than the stored state into the session, its phases and its device: the one place
    /// that decides how an event changes them. Both writers read the stored rows, call this, and persist the result as
    /// it is — SQLite through EF change tracking, PostgreSQL with set-based SQL that only writes values. What the
    /// snapshot ends (a phase, the session) and the retries it adds go to <paramref name="measured"/>, judged against
    /// the stored state, so each is measured once however often it is repeated.
    /// </summary>
    internal static void Merge(
        StoredSession session, Device device, int siteId, SessionSnapshot snap, long sequence, DateTime at, DateTime now, BootMeasurements measured)
    {
        var wasEnded = session.EndedAt is not null;
        var mac = Macs.Normalize(snap.Mac);
        session.Mac = mac;
        session.Ip = snap.Ip ?? session.Ip;
        session.Firmware = snap.Firmware;
        session.BootFile = snap.BootFile ?? session.BootFile;
        session.HostName = snap.HostName ?? session.HostName;
        session.Phase = snap.Phase;
        session.Outcome = snap.Outcome;
        session.StartedAt = snap.StartedAt.UtcDateTime;
        session.EndedAt = snap.EndedAt?.UtcDateTime;
        session.LastProgressAt = snap.LastProgressAt?.UtcDateTime ?? session.LastProgressAt;
        session.DhcpServer = snap.Servers?.Dhcp ?? session.DhcpServer;
        session.TftpServer = snap.Servers?.Tftp ?? session.TftpServer;
        session.PvsServer = snap.Servers?.Pvs ?? session.PvsServer;
        session.StreamServer = snap.Servers?.Stream ?? session.StreamServer;
        session.LastSequence = sequence;
        session.UpdatedAt = now;

        foreach (var timing in snap.Phases ?? [])
        {
            var phase = session.Phases.Find(p => p.Phase == timing.Phase);
            if (phase is null)
            {
                phase = new SessionPhase { SessionId = session.Id, Phase = timing.Phase };
                session.Phases.Add(phase);
            }
            var phaseWasEnded = phase.EndedAt is not null;
            var retriesBefore = phase.Retries;
            phase.SiteId = session.SiteId;
            phase.SessionStartedAt = session.StartedAt;
            phase.StartedAt = timing.StartedAt.UtcDateTime;
            phase.EndedAt = timing.EndedAt?.UtcDateTime;
            phase.DurationMs = phase.EndedAt is { } end ? (end - phase.StartedAt).TotalMilliseconds : null;
            phase.Retries = timing.Retries;
            if (!phaseWasEnded && phase.DurationMs is { } ms)
                measured.PhaseEnded(phase.Phase, ms / 1000);
            if (phase.Retries > retriesBefore)
                measured.RetriesCounted(phase.Phase, phase.Retries - retriesBefore);
        }
        // Summed as long: the validator bounds each phase, and the total is capped rather than overflowing either way.
        session.TotalRetries = (int)Math.Min(int.MaxValue, session.Phases.Sum(p => (long)p.Retries));
        session.PhaseStartedAt = session.Phases.Find(p => p.Phase == session.Phase)?.StartedAt ?? session.StartedAt;
        var bni = session.Phases.Find(p => p.Phase == BootPhase.BniStack);
        session.DurationMs = bni is null ? null : (bni.StartedAt - session.StartedAt).TotalMilliseconds;
        if (!wasEnded && session.EndedAt is { } ended && session.Outcome != BootOutcome.InProgress)
        {
            var toBoot = session.Outcome == BootOutcome.Booted && session.DurationMs is { } boot ? boot : (ended - session.StartedAt).TotalMilliseconds;
            measured.SessionEnded(session.Outcome, Math.Max(0, toBoot) / 1000);
        }

        device.SiteId = siteId;
        if (at > device.LastSeenAt)
            device.LastSeenAt = at;
        device.LastIp = snap.Ip ?? device.LastIp;
        device.HostName = snap.HostName ?? device.HostName;
        if (snap.Firmware != Firmware.Unknown)
            device.Firmware = snap.Firmware;
        // The device shows its latest session, and always the current state of the session it shows: a later snapshot
        // of that session whose start moved (even by a microsecond) still updates the device (see FollowsSession).
        if (FollowsSession(device.LastSessionId, device.LastSessionStartedAt, session.Id, session.StartedAt))
        {
            device.LastSessionId = session.Id;
            device.LastSessionStartedAt = session.StartedAt;
            device.CurrentPhase = session.Phase;
            device.CurrentOutcome = session.Outcome;
        }
    }

    /// <summary>
    /// The device follows a session when it is the session it already shows, or one that started at or after it.
    /// </summary>
    internal static bool FollowsSession(Guid? shownId, DateTime? shownStartedAt, Guid sessionId, DateTime sessionStartedAt) =>
        shownStartedAt is null || shownId == sessionId || sessionStartedAt >= shownStartedAt;
}
