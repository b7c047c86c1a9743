using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using PvsFleet.Api.Data;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using static PvsFleet.Api.Data.PostgresCommands;

namespace PvsFleet.Api.Ingest;

/// <summary>
/// Applies a validated batch to PostgreSQL without change tracking, in three or four round trips inside the caller's
/// transaction: one batch of reads that also takes the locks, a second read for the sessions the first did not find
/// (new ones, mostly), a binary COPY of the raw events, one batch of set-based writes (each table written by a statement
/// over arrays; stored rows updated, new ones inserted). A profile of the EF path showed the CPU going to change
/// tracking, command generation and per-statement instrumentation, i.e. work per row in .NET; here it is per batch.
/// </summary>
/// <remarks>
/// Concurrency: the collector's row is locked first (<c>FOR UPDATE</c>), so two batches of one collector (a re-send
/// racing the original) run one after the other, and the second finds its events known. Sessions and their phases
/// belong to one collector, so that lock also guards them: they are read without locks of their own (a row lock is a
/// write to the row's page, once per session and batch). Devices may cross collectors (a device moving between sites)
/// and are written in MAC order so that two transactions cannot deadlock on them. The duration histogram is keyed by
/// collector too. Anything that fails rolls the whole batch back with the caller's transaction.
/// </remarks>
public static class PostgresIngestWriter
{
    private const string SessionColumns = """
        "Id", "DeviceId", "SiteId", "CollectorId", "Mac", "Ip", "Firmware", "BootFile", "HostName", "Phase", "Outcome",
        "StartedAt", "EndedAt", "PhaseStartedAt", "DurationMs", "TotalRetries", "DhcpServer", "TftpServer", "PvsServer",
        "LastSequence", "UpdatedAt", "Instance", "LastProgressAt", "StreamServer"
        """;

    public static async Task<IngestApplied> ApplyAsync(
        FleetDbContext db, IngestSource source, IReadOnlyList<ReceivedEvent> events, DateTime now, CancellationToken ct)
    {
        var (collectorId, instanceId, refused) = source;
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        long min = long.MaxValue, max = long.MinValue;
        DateTime earliest = DateTime.MaxValue, latest = DateTime.MinValue;
        DateTime firstStart = DateTime.MaxValue, lastStart = DateTime.MinValue;
        var sessionIds = new HashSet<Guid>();
        var macs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (e, _, _) in events)
        {
            min = Math.Min(min, e.Sequence);
            max = Math.Max(max, e.Sequence);
            var at = e.Timestamp.UtcDateTime;
            earliest = at < earliest ? at : earliest;
            latest = at > latest ? at : latest;
            if (e is SessionEvent se)
            {
                sessionIds.Add(se.Session.SessionId);
                macs.Add(Macs.Normalize(se.Session.Mac));
                var start = se.Session.StartedAt.UtcDateTime;
                firstStart = start < firstStart ? start : firstStart;
                lastStart = start > lastStart ? start : lastStart;
            }
        }
        if (sessionIds.Count == 0)
            firstStart = lastStart = earliest; // no session to look for; any UTC time will do

        // 1. Reads, and the collector's lock (see the remarks).
        var collector = new Data.Collector { Name = "", KeyHash = "", KeyPrefix = "" };
        var instance = new CollectorInstance { CollectorId = collectorId, Instance = instanceId, FirstSeenAt = now };
        string site;
        var known = new HashSet<long>();
        var sessions = new Dictionary<Guid, StoredSession>();
        var ids = sessionIds.Order().ToArray();
        // The stored devices, with their row versions (xmin): merged here by IngestWriter.Merge like the EF path's, and
        // written back only if nobody changed them meanwhile (a device may cross collectors, whose locks differ).
        var storedDevices = new Dictionary<string, (Device Device, uint Version)>(StringComparer.Ordinal);
        await using (var read = new NpgsqlBatch(connection))
        {
            // Generic plans for the whole transaction: the bounded reads and the writes touch only the partitions of the
            // batch's months, which a generic plan prunes as it runs (when it starts, or per row for the updates' joins).
            // PostgreSQL's default chooser costs a generic plan over every partition, so it kept planning the bounded
            // session read afresh, over every partition, in most batches (703 of 1,200 in a storm-order bench run).
            read.BatchCommands.Add(Command("SET LOCAL plan_cache_mode = force_generic_plan"));
            // And index access only: every statement here finds its rows by key, but a generic plan is made once per
            // pooled connection and kept until an ANALYZE replaces it, and one made while a table or a month's partition
            // was still small scans it whole in every later batch, comparing each row with the batch's keys. On a new
            // database that took PostgreSQL from ~40 to ~200 µs per event in 3 of 5 storm-order bench runs.
            read.BatchCommands.Add(Command("SET LOCAL enable_seqscan = off"));
            read.BatchCommands.Add(Command("""
                SELECT c."SiteId", c."Name", s."Name", c."Interface", c."Version", c."PacketsReceived", c."PacketsDropped",
                       c."InterfaceDropped", c."ActiveSessions", c."SpooledEvents", c."LastSequence"
                FROM "Collectors" c JOIN "Sites" s ON s."Id" = c."SiteId" WHERE c."Id" = $1 FOR UPDATE OF c
                """, P(collectorId)));
            // A range read instead of an IN list: re-sent batches are contiguous, and the unique index serves it. A re-sent
            // event carries its first copy's time, so the batch's time range finds it and leaves out the other months.
            read.BatchCommands.Add(Command("""
                SELECT "Sequence" FROM "Events" WHERE "CollectorId" = $1 AND "Instance" = $4 AND "Sequence" BETWEEN $2 AND $3
                    AND "Timestamp" BETWEEN $5 AND $6
                """, P(collectorId), P(min), P(max), P(instanceId), P(earliest), P(latest)));
            // The stored sessions are looked for in the months of the batch's snapshot starts only: a session is stored
            // under its start, which a later snapshot rarely changes. Without that bound each id was looked up in every
            // month's index (a year of months at estate scale). What this does not find, a second read looks for anywhere.
            read.BatchCommands.Add(Command($"""
                SELECT {SessionColumns} FROM "Sessions" WHERE "Id" = ANY($1) AND "StartedAt" BETWEEN $2 AND $3
                """, P(ids), P(firstStart), P(lastStart)));
            read.BatchCommands.Add(Command($"""
                SELECT {PhaseColumns} FROM "SessionPhases" WHERE "SessionId" = ANY($1) AND "SessionStartedAt" BETWEEN $2 AND $3
                """, P(ids), P(firstStart), P(lastStart)));
            read.BatchCommands.Add(Command("""
                SELECT "FirstSeenAt", "LastSequence", "Host", "Interface", "Version", "PacketsReceived", "PacketsDropped",
                       "InterfaceDropped", "ActiveSessions", "SpooledEvents", "RefusedEvents", "RejectedEvents", "CorruptSpoolLines"
                FROM "CollectorInstances" WHERE "CollectorId" = $1 AND "Instance" = $2
                """, P(collectorId), P(instanceId)));
            read.BatchCommands.Add(Command("""
                SELECT "Id", "Mac", "SiteId", "LastIp", "HostName", "Firmware", "FirstSeenAt", "LastSeenAt", "LastSessionId",
                       "LastSessionStartedAt", "CurrentPhase", "CurrentOutcome", xmin
                FROM "Devices" WHERE "Mac" = ANY($1)
                """, P(macs.ToArray())));
            // Prepared: the statements are the same every batch, and Npgsql keeps them prepared on the pooled connection,
            // so PostgreSQL parses and plans them once instead of once per batch.
            await read.PrepareAsync(ct);
            await using var r = await read.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
                throw new InvalidOperationException($"Collector {collectorId} is gone.");
            collector.Id = collectorId;
            collector.SiteId = r.GetInt32(0);
            collector.Name = r.GetString(1);
            site = r.GetString(2);
            collector.Interface = r.IsDBNull(3) ? null : r.GetString(3);
            collector.Version = r.IsDBNull(4) ? null : r.GetString(4);
            collector.PacketsReceived = r.GetInt64(5);
            collector.PacketsDropped = r.GetInt64(6);
            collector.InterfaceDropped = r.GetInt64(7);
            collector.ActiveSessions = r.GetInt32(8);
            collector.SpooledEvents = r.GetInt64(9);
            collector.LastSequence = r.GetInt64(10);

            await r.NextResultAsync(ct);
            while (await r.ReadAsync(ct))
                known.Add(r.GetInt64(0));

            await r.NextResultAsync(ct);
            await ReadSessionsAsync(r, sessions, ct);

            await r.NextResultAsync(ct);
            if (await r.ReadAsync(ct))
            {
                instance.FirstSeenAt = r.GetDateTime(0);
                instance.LastSequence = r.GetInt64(1);
                instance.Host = r.IsDBNull(2) ? null : r.GetString(2);
                instance.Interface = r.IsDBNull(3) ? null : r.GetString(3);
                instance.Version = r.IsDBNull(4) ? null : r.GetString(4);
                instance.PacketsReceived = r.GetInt64(5);
                instance.PacketsDropped = r.GetInt64(6);
                instance.InterfaceDropped = r.GetInt64(7);
                instance.ActiveSessions = r.GetInt32(8);
                instance.SpooledEvents = r.GetInt64(9);
                instance.RefusedEvents = r.GetInt64(10);
                instance.RejectedEvents = r.GetInt64(11);
                instance.CorruptSpoolLines = r.GetInt64(12);
            }

            await r.NextResultAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var device = new Device
                {
                    Id = r.GetInt64(0), Mac = r.GetString(1), SiteId = r.GetInt32(2), LastIp = r.IsDBNull(3) ? null : r.GetString(3),
                    HostName = r.IsDBNull(4) ? null : r.GetString(4), Firmware = (Firmware)r.GetInt32(5), FirstSeenAt = r.GetDateTime(6),
                    LastSeenAt = r.GetDateTime(7), LastSessionId = r.IsDBNull(8) ? null : r.GetGuid(8),
                    LastSessionStartedAt = r.IsDBNull(9) ? null : r.GetDateTime(9),
                    CurrentPhase = r.IsDBNull(10) ? null : (BootPhase)r.GetInt32(10), CurrentOutcome = r.IsDBNull(11) ? null : (BootOutcome)r.GetInt32(11),
                };
                storedDevices[device.Mac] = (device, r.GetFieldValue<uint>(12));
            }
        }
        instance.LastSeenAt = now;
        instance.RefusedEvents += refused;

        // New sessions, and the rare one whose stored start lies outside the batch's starts (a snapshot moved it):
        // looked for in every month, so that a moved session is found wherever it is stored.
        var unseen = ids.Where(id => !sessions.ContainsKey(id)).ToArray();
        if (unseen.Length > 0)
        {
            await using var anywhere = new NpgsqlBatch(connection);
            anywhere.BatchCommands.Add(Command($"""SELECT {SessionColumns} FROM "Sessions" WHERE "Id" = ANY($1)""", P(unseen)));
            anywhere.BatchCommands.Add(Command($"""SELECT {PhaseColumns} FROM "SessionPhases" WHERE "SessionId" = ANY($1)""", P(unseen)));
            await anywhere.PrepareAsync(ct);
            await using var r = await anywhere.ExecuteReaderAsync(ct);
            await ReadSessionsAsync(r, sessions, ct);
        }

        // The partition key of each stored session (its start), to move a session whose start a snapshot changes.
        var storedStarts = sessions.ToDictionary(kv => kv.Key, kv => kv.Value.StartedAt);
        // What the stored sessions contribute to the duration histogram now, to take out what a newer snapshot changes.
        var before = sessions.ToDictionary(kv => kv.Key, kv => Contributions(kv.Value));
        // And the stored phase rows: in a boot storm each snapshot repeats every phase so far, and rewriting the
        // unchanged ones was most of the database's work (each event re-wrote ~2.5 phase rows instead of ~1.5).
        var storedPhases = sessions.Values.SelectMany(s => s.Phases).ToDictionary(p => (p.SessionId, p.Phase), PhaseRow.Of);

        // 2. The batch in memory, in sequence order, with the same merge as the EF path.
        var fresh = events.Where(r => !known.Contains(r.Event.Sequence)).OrderBy(r => r.Event.Sequence).ToList();
        collector.LastSeenAt = now;
        var changed = new Dictionary<Guid, StoredSession>();
        var devices = new Dictionary<string, Device>(StringComparer.Ordinal);
        var byType = new Dictionary<string, int>();
        var heartbeat = false;
        var measured = new BootMeasurements();
        foreach (var (e, _, _) in fresh)
        {
            var type = IngestWriter.TypeName(e);
            byType[type] = byType.GetValueOrDefault(type) + 1;
            switch (e)
            {
                case CollectorHeartbeatEvent hb:
                    heartbeat = true;
                    IngestWriter.ApplyHeartbeat(collector, instance, hb);
                    break;
                case SessionEvent se:
                    var snap = se.Session;
                    var mac = Macs.Normalize(snap.Mac);
                    var at = e.Timestamp.UtcDateTime;
                    if (!sessions.TryGetValue(snap.SessionId, out var session))
                    {
                        session = new StoredSession { Id = snap.SessionId, Mac = mac, SiteId = collector.SiteId, CollectorId = collectorId, Instance = instanceId };
                        sessions[session.Id] = session;
                    }
                    else if (!IngestWriter.Supersedes(session, collectorId, instanceId, e.Sequence))
                    {
                        // Another collector's session id, or an older snapshot arriving late: the stored state is newer.
                        break;
                    }
                    // The stored device, or a new one: IngestWriter.Merge decides, for both providers.
                    if (!devices.TryGetValue(mac, out var device))
                    {
                        devices[mac] = device = storedDevices.TryGetValue(mac, out var stored)
                            ? stored.Device
                            : new Device { Mac = mac, SiteId = collector.SiteId, FirstSeenAt = at, LastSeenAt = at };
                    }
                    IngestWriter.Merge(session, device, collector.SiteId, snap, e.Sequence, at, now, measured);
                    changed[session.Id] = session;
                    break;
            }
        }
        if (fresh.Count > 0)
        {
            collector.LastSequence = Math.Max(collector.LastSequence, fresh[^1].Event.Sequence);
            instance.LastSequence = Math.Max(instance.LastSequence, fresh[^1].Event.Sequence);
        }

        // 3. Raw events by binary COPY: they are most of the rows.
        await CopyEventsAsync(connection, collectorId, instanceId, fresh, now, ct);

        // 4. Everything else in one round trip.
        await using (var write = new NpgsqlBatch(connection))
        {
            var touched = devices.Values.OrderBy(d => d.Mac, StringComparer.Ordinal).ToList();
            var updates = touched.Where(d => storedDevices.ContainsKey(d.Mac)).ToList();
            var inserts = touched.Where(d => !storedDevices.ContainsKey(d.Mac)).ToList();
            NpgsqlBatchCommand? updateDevices = null, insertDevices = null;
            if (updates.Count > 0)
                write.BatchCommands.Add(updateDevices = UpdateDevices(updates, [.. updates.Select(d => storedDevices[d.Mac].Version)]));
            if (inserts.Count > 0)
                write.BatchCommands.Add(insertDevices = InsertDevices(inserts));
            if (changed.Count > 0)
            {
                var applied = changed.Values.OrderBy(s => s.Id).ToList();
                // The start is part of the key (the month partition): a session whose start moved is taken out with its
                // phases and written anew below (its stored phases differ in their session start, so all are written).
                var moved = applied.Where(s => storedStarts.TryGetValue(s.Id, out var start) && start != Micros(s.StartedAt))
                    .Select(s => (s.Id, storedStarts[s.Id])).ToList();
                if (moved.Count > 0)
                {
                    write.BatchCommands.Add(DeleteMoved("SessionPhases", "SessionId", "SessionStartedAt", moved));
                    write.BatchCommands.Add(DeleteMoved("Sessions", "Id", "StartedAt", moved));
                }
                // Stored rows are updated and new ones inserted, each by what the read found, instead of one
                // INSERT … ON CONFLICT DO UPDATE: that probes the key before inserting, and locks each conflicting row
                // (a WAL record per row) before updating it. Most writes in a boot storm are updates of stored rows.
                var movedIds = moved.Select(m => m.Id).ToHashSet();
                var updated = applied.Where(s => storedStarts.ContainsKey(s.Id) && !movedIds.Contains(s.Id)).ToList();
                var created = applied.Where(s => !storedStarts.ContainsKey(s.Id) || movedIds.Contains(s.Id)).ToList();
                if (updated.Count > 0)
                    write.BatchCommands.Add(UpdateSessions(updated, [.. updated.Select(s => storedStarts[s.Id])]));
                if (created.Count > 0)
                    write.BatchCommands.Add(InsertSessions(created));
                var phases = applied.SelectMany(s => s.Phases)
                    .Where(p => !storedPhases.TryGetValue((p.SessionId, p.Phase), out var stored) || stored != PhaseRow.Of(p)).ToList();
                // A moved session's phases were deleted with it above: all of them go in again.
                var phaseUpdates = phases.Where(p => storedPhases.ContainsKey((p.SessionId, p.Phase)) && !movedIds.Contains(p.SessionId)).ToList();
                var phaseInserts = phases.Where(p => !storedPhases.ContainsKey((p.SessionId, p.Phase)) || movedIds.Contains(p.SessionId)).ToList();
                if (phaseUpdates.Count > 0)
                    write.BatchCommands.Add(UpdatePhases(phaseUpdates, [.. phaseUpdates.Select(p => storedStarts[p.SessionId])]));
                if (phaseInserts.Count > 0)
                    write.BatchCommands.Add(InsertPhases(phaseInserts));
                var histogram = HistogramDelta(applied, before, out var retracted);
                if (histogram.Count > 0)
                    write.BatchCommands.Add(UpsertHistogram(histogram));
                if (retracted.Count > 0)
                {
                    write.BatchCommands.Add(RecomputeRetracted(retracted));
                    write.BatchCommands.Add(DeleteEmpty(retracted));
                }
                // The same changes to the rollups, for the hours before their cut-off (closed hours corrected late).
                foreach (var rollup in DurationRollup.IngestCommands(
                    [.. histogram.Select(kv => new DurationRollup.Change(kv.Key.Series, kv.Key.Hour, kv.Key.SiteId, kv.Key.Bin, kv.Value.Count, kv.Value.Max))],
                    [.. retracted.Select(k => new DurationRollup.Retraction(k.Series, k.Hour, k.SiteId, k.Bin))]))
                {
                    write.BatchCommands.Add(rollup);
                }
            }
            write.BatchCommands.Add(Command("""
                UPDATE "Collectors" SET "LastSeenAt" = $2, "LastSequence" = $3, "Interface" = $4, "Version" = $5,
                    "PacketsReceived" = $6, "PacketsDropped" = $7, "InterfaceDropped" = $8, "ActiveSessions" = $9, "SpooledEvents" = $10
                WHERE "Id" = $1
                """, P(collectorId), P(now), P(collector.LastSequence), P(collector.Interface), P(collector.Version),
                P(collector.PacketsReceived), P(collector.PacketsDropped), P(collector.InterfaceDropped), P(collector.ActiveSessions),
                P(collector.SpooledEvents)));
            write.BatchCommands.Add(UpsertInstance(instance));
            await write.PrepareAsync(ct);
            await write.ExecuteNonQueryAsync(ct);
            // Another batch changed or created one of the devices since the read: roll back and apply again (the ingest
            // retries a conflict), so no device is written from a stale read.
            if (updateDevices?.RecordsAffected < updates.Count || insertDevices?.RecordsAffected < inserts.Count)
                throw new DbUpdateConcurrencyException("A device of the batch was changed by another batch meanwhile.");
        }

        return new IngestApplied(fresh.Count, events.Count - fresh.Count, max, collector, site, [.. changed.Values], heartbeat, byType)
        {
            Instance = instanceId, Measured = measured,
        };
    }

    // A phase row as PostgreSQL stores it (see Micros).
    private readonly record struct PhaseRow(int SiteId, DateTime SessionStartedAt, DateTime StartedAt, DateTime? EndedAt, double? DurationMs, int Retries)
    {
        public static PhaseRow Of(SessionPhase p) =>
            new(p.SiteId, Micros(p.SessionStartedAt), Micros(p.StartedAt), p.EndedAt is { } end ? Micros(end) : null, p.DurationMs, p.Retries);
    }

    // A time as PostgreSQL stores it: timestamptz keeps microseconds, .NET ticks are a tenth of that.
    private static DateTime Micros(DateTime t) => new(t.Ticks - t.Ticks % 10, t.Kind);

    private static NpgsqlBatchCommand DeleteMoved(string table, string id, string start, List<(Guid Id, DateTime Start)> rows) => Command($"""
        DELETE FROM "{table}" t USING unnest($1::uuid[], $2::timestamptz[]) AS x(id, start)
        WHERE t."{id}" = x.id AND t."{start}" = x.start
        """, P(rows.Select(r => r.Id).ToArray()), P(rows.Select(r => r.Start).ToArray()));

    private const string PhaseColumns = """
        "SessionId", "Phase", "SiteId", "SessionStartedAt", "StartedAt", "EndedAt", "DurationMs", "Retries"
        """;

    // Two result sets: sessions (SessionColumns), then their phases (PhaseColumns).
    private static async Task ReadSessionsAsync(NpgsqlDataReader r, Dictionary<Guid, StoredSession> sessions, CancellationToken ct)
    {
        while (await r.ReadAsync(ct))
        {
            var s = ReadSession(r);
            sessions[s.Id] = s;
        }
        await r.NextResultAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var id = r.GetGuid(0);
            sessions[id].Phases.Add(new SessionPhase
            {
                SessionId = id, Phase = (BootPhase)r.GetInt32(1), SiteId = r.GetInt32(2), SessionStartedAt = r.GetDateTime(3),
                StartedAt = r.GetDateTime(4), EndedAt = r.IsDBNull(5) ? null : r.GetDateTime(5),
                DurationMs = r.IsDBNull(6) ? null : r.GetDouble(6), Retries = r.GetInt32(7),
            });
        }
    }

    private static StoredSession ReadSession(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0), DeviceId = r.GetInt64(1), SiteId = r.GetInt32(2), CollectorId = r.GetInt32(3), Mac = r.GetString(4),
        Ip = r.IsDBNull(5) ? null : r.GetString(5), Firmware = (Firmware)r.GetInt32(6), BootFile = r.IsDBNull(7) ? null : r.GetString(7),
        HostName = r.IsDBNull(8) ? null : r.GetString(8), Phase = (BootPhase)r.GetInt32(9), Outcome = (BootOutcome)r.GetInt32(10),
        StartedAt = r.GetDateTime(11), EndedAt = r.IsDBNull(12) ? null : r.GetDateTime(12), PhaseStartedAt = r.GetDateTime(13),
        DurationMs = r.IsDBNull(14) ? null : r.GetDouble(14), TotalRetries = r.GetInt32(15),
        DhcpServer = r.IsDBNull(16) ? null : r.GetString(16), TftpServer = r.IsDBNull(17) ? null : r.GetString(17),
        PvsServer = r.IsDBNull(18) ? null : r.GetString(18), LastSequence = r.GetInt64(19), UpdatedAt = r.GetDateTime(20),
        Instance = r.GetGuid(21), LastProgressAt = r.IsDBNull(22) ? null : r.GetDateTime(22),
        StreamServer = r.IsDBNull(23) ? null : r.GetString(23),
    };

    private static NpgsqlBatchCommand UpsertInstance(CollectorInstance i) => Command("""
        INSERT INTO "CollectorInstances" ("CollectorId", "Instance", "FirstSeenAt", "LastSeenAt", "LastSequence", "Host", "Interface",
            "Version", "PacketsReceived", "PacketsDropped", "InterfaceDropped", "ActiveSessions", "SpooledEvents", "RefusedEvents",
            "RejectedEvents", "CorruptSpoolLines")
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        ON CONFLICT ("CollectorId", "Instance") DO UPDATE SET
            "LastSeenAt" = excluded."LastSeenAt", "LastSequence" = excluded."LastSequence", "Host" = excluded."Host",
            "Interface" = excluded."Interface", "Version" = excluded."Version", "PacketsReceived" = excluded."PacketsReceived",
            "PacketsDropped" = excluded."PacketsDropped", "InterfaceDropped" = excluded."InterfaceDropped",
            "ActiveSessions" = excluded."ActiveSessions", "SpooledEvents" = excluded."SpooledEvents",
            "RefusedEvents" = excluded."RefusedEvents", "RejectedEvents" = excluded."RejectedEvents",
            "CorruptSpoolLines" = excluded."CorruptSpoolLines"
        """, P(i.CollectorId), P(i.Instance), P(i.FirstSeenAt), P(i.LastSeenAt), P(i.LastSequence), P(i.Host), P(i.Interface),
        P(i.Version), P(i.PacketsReceived), P(i.PacketsDropped), P(i.InterfaceDropped), P(i.ActiveSessions), P(i.SpooledEvents),
        P(i.RefusedEvents), P(i.RejectedEvents), P(i.CorruptSpoolLines));

    // The payload is the event's JSON as the collector sent it, written as UTF-8 without passing through a string.
    private static async Task CopyEventsAsync(
        NpgsqlConnection connection, int collectorId, Guid instance, List<ReceivedEvent> rows, DateTime now, CancellationToken ct)
    {
        if (rows.Count == 0)
            return;
        await using var writer = await connection.BeginBinaryImportAsync(
            """COPY "Events" ("CollectorId", "Instance", "Sequence", "Type", "Timestamp", "SessionId", "ReceivedAt", "Payload") FROM STDIN (FORMAT BINARY)""", ct);
        foreach (var (e, json, _) in rows)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(collectorId, NpgsqlDbType.Integer, ct);
            await writer.WriteAsync(instance, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(e.Sequence, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(IngestWriter.TypeName(e), NpgsqlDbType.Varchar, ct);
            await writer.WriteAsync(e.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
            if (e is SessionEvent se)
                await writer.WriteAsync(se.Session.SessionId, NpgsqlDbType.Uuid, ct);
            else
                await writer.WriteNullAsync(ct);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
            await writer.WriteAsync(json, NpgsqlDbType.Text, ct);
        }
        await writer.CompleteAsync(ct);
    }

    // The devices as IngestWriter.Merge left them, written as they are: the rules live in Merge alone. Only a row still at
    // the version that was read is updated (see the check after the write). Found by the id the read returned, not
    // the MAC: an integer key compares cheaper than text.
    private static NpgsqlBatchCommand UpdateDevices(List<Device> d, uint[] versions) => Command("""
        UPDATE "Devices" AS d SET "SiteId" = x.site, "LastIp" = x.ip, "HostName" = x.host, "Firmware" = x.firmware,
            "LastSeenAt" = x.seen, "LastSessionId" = x.session, "LastSessionStartedAt" = x.session_started,
            "CurrentPhase" = x.phase, "CurrentOutcome" = x.outcome
        FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::uuid[], $8::timestamptz[],
                    $9::int[], $10::int[], $11)
             AS x(id, site, ip, host, firmware, seen, session, session_started, phase, outcome, version)
        WHERE d."Id" = x.id AND d.xmin = x.version
        """,
        P(d.Select(x => x.Id).ToArray()), P(d.Select(x => x.SiteId).ToArray()), P(d.Select(x => x.LastIp).ToArray()),
        P(d.Select(x => x.HostName).ToArray()), P(d.Select(x => (int)x.Firmware).ToArray()), P(d.Select(x => x.LastSeenAt).ToArray()),
        P(d.Select(x => x.LastSessionId).ToArray()), P(d.Select(x => x.LastSessionStartedAt).ToArray()),
        P(d.Select(x => (int?)x.CurrentPhase).ToArray()), P(d.Select(x => (int?)x.CurrentOutcome).ToArray()),
        new NpgsqlParameter<uint[]> { TypedValue = versions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Xid });

    // New devices; one created by another batch since the read is not overwritten (and the check after the write sees it).
    private static NpgsqlBatchCommand InsertDevices(List<Device> d) => Command("""
        INSERT INTO "Devices" ("Mac", "SiteId", "LastIp", "HostName", "Firmware", "FirstSeenAt", "LastSeenAt",
                               "LastSessionId", "LastSessionStartedAt", "CurrentPhase", "CurrentOutcome")
        SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[],
                             $8::uuid[], $9::timestamptz[], $10::int[], $11::int[])
        ON CONFLICT ("Mac") DO NOTHING
        """,
        P(d.Select(x => x.Mac).ToArray()), P(d.Select(x => x.SiteId).ToArray()), P(d.Select(x => x.LastIp).ToArray()),
        P(d.Select(x => x.HostName).ToArray()), P(d.Select(x => (int)x.Firmware).ToArray()), P(d.Select(x => x.FirstSeenAt).ToArray()),
        P(d.Select(x => x.LastSeenAt).ToArray()), P(d.Select(x => x.LastSessionId).ToArray()), P(d.Select(x => x.LastSessionStartedAt).ToArray()),
        P(d.Select(x => (int?)x.CurrentPhase).ToArray()), P(d.Select(x => (int?)x.CurrentOutcome).ToArray()));

    // The sessions the read found, in the partition it found them in (the stored start; a moved session is deleted
    // and inserted instead). The rows hold the merged state (the stored one was read under the collector's lock); the
    // WHERE is the snapshot rule once more, so that no path can let an older snapshot overwrite a newer one or one
    // collector overwrite another's session.
    private static NpgsqlBatchCommand UpdateSessions(List<StoredSession> s, DateTime[] storedStarts) => Command("""
        UPDATE "Sessions" AS s SET
            "Mac" = x.mac, "Ip" = x.ip, "Firmware" = x.firmware, "BootFile" = x.boot_file, "HostName" = x.host_name,
            "Phase" = x.phase, "Outcome" = x.outcome, "EndedAt" = x.ended_at, "PhaseStartedAt" = x.phase_started_at,
            "DurationMs" = x.duration_ms, "TotalRetries" = x.total_retries, "DhcpServer" = x.dhcp, "TftpServer" = x.tftp,
            "PvsServer" = x.pvs, "LastSequence" = x.seq, "UpdatedAt" = x.updated_at, "LastProgressAt" = x.progress,
            "StreamServer" = x.stream
        FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::uuid[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[],
                    $10::int[], $11::int[], $12::timestamptz[], $13::timestamptz[], $14::float8[], $15::int[], $16::text[], $17::text[],
                    $18::text[], $19::bigint[], $20::timestamptz[], $21::timestamptz[], $22::text[])
             AS x(id, stored_start, collector, instance, mac, ip, firmware, boot_file, host_name, phase, outcome, ended_at,
                  phase_started_at, duration_ms, total_retries, dhcp, tftp, pvs, seq, updated_at, progress, stream)
        WHERE s."Id" = x.id AND s."StartedAt" = x.stored_start
          AND s."CollectorId" = x.collector AND s."Instance" = x.instance AND s."LastSequence" < x.seq
        """,
        P(s.Select(x => x.Id).ToArray()), P(storedStarts), P(s.Select(x => x.CollectorId).ToArray()), P(s.Select(x => x.Instance).ToArray()),
        P(s.Select(x => x.Mac).ToArray()), P(s.Select(x => x.Ip).ToArray()), P(s.Select(x => (int)x.Firmware).ToArray()),
        P(s.Select(x => x.BootFile).ToArray()), P(s.Select(x => x.HostName).ToArray()), P(s.Select(x => (int)x.Phase).ToArray()),
        P(s.Select(x => (int)x.Outcome).ToArray()), P(s.Select(x => x.EndedAt).ToArray()), P(s.Select(x => x.PhaseStartedAt).ToArray()),
        P(s.Select(x => x.DurationMs).ToArray()), P(s.Select(x => x.TotalRetries).ToArray()), P(s.Select(x => x.DhcpServer).ToArray()),
        P(s.Select(x => x.TftpServer).ToArray()), P(s.Select(x => x.PvsServer).ToArray()), P(s.Select(x => x.LastSequence).ToArray()),
        P(s.Select(x => x.UpdatedAt).ToArray()), P(s.Select(x => x.LastProgressAt).ToArray()), P(s.Select(x => x.StreamServer).ToArray()));

    // Sessions the read did not find (and moved ones, deleted above). One stored since the read can only be another
    // collector's (this collector's batches run one after the other): the key refuses it, the batch rolls back, and the
    // ingest's retry reads it and leaves it alone (IngestApi retries a unique violation).
    private static NpgsqlBatchCommand InsertSessions(List<StoredSession> s) => Command($"""
        INSERT INTO "Sessions" ({SessionColumns})
        SELECT x.id, d."Id", x.site, x.collector, x.mac, x.ip, x.firmware, x.boot_file, x.host_name, x.phase, x.outcome,
               x.started_at, x.ended_at, x.phase_started_at, x.duration_ms, x.total_retries, x.dhcp, x.tftp, x.pvs, x.seq, x.updated_at,
               x.instance, x.progress, x.stream
        FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::int[], $10::int[],
                    $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::float8[], $15::int[], $16::text[], $17::text[],
                    $18::text[], $19::bigint[], $20::timestamptz[], $21::uuid[], $22::timestamptz[], $23::text[])
             AS x(id, site, collector, mac, ip, firmware, boot_file, host_name, phase, outcome, started_at, ended_at, phase_started_at,
                  duration_ms, total_retries, dhcp, tftp, pvs, seq, updated_at, instance, progress, stream)
        JOIN "Devices" d ON d."Mac" = x.mac
        """,
        P(s.Select(x => x.Id).ToArray()), P(s.Select(x => x.SiteId).ToArray()), P(s.Select(x => x.CollectorId).ToArray()),
        P(s.Select(x => x.Mac).ToArray()), P(s.Select(x => x.Ip).ToArray()), P(s.Select(x => (int)x.Firmware).ToArray()),
        P(s.Select(x => x.BootFile).ToArray()), P(s.Select(x => x.HostName).ToArray()), P(s.Select(x => (int)x.Phase).ToArray()),
        P(s.Select(x => (int)x.Outcome).ToArray()), P(s.Select(x => x.StartedAt).ToArray()), P(s.Select(x => x.EndedAt).ToArray()),
        P(s.Select(x => x.PhaseStartedAt).ToArray()), P(s.Select(x => x.DurationMs).ToArray()), P(s.Select(x => x.TotalRetries).ToArray()),
        P(s.Select(x => x.DhcpServer).ToArray()), P(s.Select(x => x.TftpServer).ToArray()), P(s.Select(x => x.PvsServer).ToArray()),
        P(s.Select(x => x.LastSequence).ToArray()), P(s.Select(x => x.UpdatedAt).ToArray()), P(s.Select(x => x.Instance).ToArray()),
        P(s.Select(x => x.LastProgressAt).ToArray()), P(s.Select(x => x.StreamServer).ToArray()));

    // Stored phase rows, found by their session's stored start (the partition key).
    private static NpgsqlBatchCommand UpdatePhases(List<SessionPhase> p, DateTime[] sessionStarts) => Command("""
        UPDATE "SessionPhases" AS p SET "SiteId" = x.site, "StartedAt" = x.started, "EndedAt" = x.ended,
            "DurationMs" = x.duration, "Retries" = x.retries
        FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::int[])
             AS x(session, session_start, phase, site, started, ended, duration, retries)
        WHERE p."SessionId" = x.session AND p."SessionStartedAt" = x.session_start AND p."Phase" = x.phase
        """,
        P(p.Select(x => x.SessionId).ToArray()), P(sessionStarts), P(p.Select(x => (int)x.Phase).ToArray()),
        P(p.Select(x => x.SiteId).ToArray()), P(p.Select(x => x.StartedAt).ToArray()), P(p.Select(x => x.EndedAt).ToArray()),
        P(p.Select(x => x.DurationMs).ToArray()), P(p.Select(x => x.Retries).ToArray()));

    private static NpgsqlBatchCommand InsertPhases(List<SessionPhase> p) => Command("""
        INSERT INTO "SessionPhases" ("SessionId", "Phase", "SiteId", "SessionStartedAt", "StartedAt", "EndedAt", "DurationMs", "Retries")
        SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::int[])
        """,
        P(p.Select(x => x.SessionId).ToArray()), P(p.Select(x => (int)x.Phase).ToArray()), P(p.Select(x => x.SiteId).ToArray()),
        P(p.Select(x => x.SessionStartedAt).ToArray()), P(p.Select(x => x.StartedAt).ToArray()), P(p.Select(x => x.EndedAt).ToArray()),
        P(p.Select(x => x.DurationMs).ToArray()), P(p.Select(x => x.Retries).ToArray()));

    private readonly record struct HistogramKey(int Series, DateTime Hour, int SiteId, int CollectorId, int Bin) : IComparable<HistogramKey>
    {
        public int CompareTo(HistogramKey other)
        {
            var c = Series.CompareTo(other.Series);
            if (c == 0) c = Hour.CompareTo(other.Hour);
            if (c == 0) c = SiteId.CompareTo(other.SiteId);
            if (c == 0) c = CollectorId.CompareTo(other.CollectorId);
            return c != 0 ? c : Bin.CompareTo(other.Bin);
        }
    }

    private readonly record struct Contribution(int Series, DateTime Hour, int SiteId, int CollectorId, double Ms)
    {
        public HistogramKey Key => new(Series, Hour, SiteId, CollectorId, DurationBins.Of(Ms));
    }

    private static List<Contribution> Contributions(StoredSession s)
    {
        var list = new List<Contribution>(6);
        if (s.DurationMs is { } d)
            list.Add(new(DurationBins.WholeBoot, DurationBins.Hour(s.StartedAt), s.SiteId, s.CollectorId, d));
        foreach (var p in s.Phases)
        {
            if (p.DurationMs is { } pd)
                list.Add(new((int)p.Phase, DurationBins.Hour(p.SessionStartedAt), p.SiteId, s.CollectorId, pd));
        }
        return list;
    }

    // New durations go in, changed ones move (out of the old bin, into the new): in practice a duration is written once,
    // when its phase ends, and later snapshots repeat it, so almost every session adds and nothing is taken out.
    private static SortedDictionary<HistogramKey, (long Count, double? Max)> HistogramDelta(
        List<StoredSession> applied, Dictionary<Guid, List<Contribution>> before, out List<HistogramKey> retracted)
    {
        var delta = new SortedDictionary<HistogramKey, (long Count, double? Max)>();
        var taken = new SortedSet<HistogramKey>();
        foreach (var s in applied)
        {
            var after = Contributions(s);
            var old = before.GetValueOrDefault(s.Id) ?? [];
            foreach (var o in old)
            {
                if (after.Remove(o))
                    continue; // unchanged: same series, hour and value
                var k = o.Key;
                var (count, max) = delta.GetValueOrDefault(k);
                delta[k] = (count - 1, max);
                taken.Add(k);
            }
            foreach (var n in after)
            {
                var k = n.Key;
                var (count, max) = delta.GetValueOrDefault(k);
                delta[k] = (count + 1, max is { } m ? Math.Max(m, n.Ms) : n.Ms);
            }
        }
        foreach (var k in delta.Where(kv => kv.Value is { Count: 0, Max: null }).Select(kv => kv.Key).ToList())
            delta.Remove(k);
        retracted = [.. taken];
        return delta;
    }

    private static NpgsqlBatchCommand UpsertHistogram(SortedDictionary<HistogramKey, (long Count, double? Max)> h) => Command("""
        INSERT INTO "DurationHistogram" AS h ("Series", "Hour", "SiteId", "CollectorId", "Bin", "Count", "MaxMs")
        SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[], $5::int[], $6::bigint[], $7::float8[])
        ON CONFLICT ("Series", "Hour", "SiteId", "CollectorId", "Bin") DO UPDATE SET
            "Count" = h."Count" + excluded."Count",
            "MaxMs" = GREATEST(h."MaxMs", excluded."MaxMs")
        """,
        P(h.Keys.Select(k => k.Series).ToArray()), P(h.Keys.Select(k => k.Hour).ToArray()), P(h.Keys.Select(k => k.SiteId).ToArray()),
        P(h.Keys.Select(k => k.CollectorId).ToArray()), P(h.Keys.Select(k => k.Bin).ToArray()),
        P(h.Values.Select(v => v.Count).ToArray()), P(h.Values.Select(v => v.Max).ToArray()));

    // A bin a value left may have lost its maximum: recompute it from the rows (only that collector's hour is read),
    // and drop bins left empty. Runs after the session and phase writes of the same batch, so it sees the new values.
    private static NpgsqlBatchCommand RecomputeRetracted(List<HistogramKey> keys) => Command($"""
        UPDATE "DurationHistogram" h SET "MaxMs" = CASE WHEN k.series = {DurationBins.WholeBoot} THEN
            (SELECT max(s."DurationMs") FROM "Sessions" s
             WHERE s."SiteId" = k.site AND s."CollectorId" = k.collector AND s."StartedAt" >= k.hour
               AND s."StartedAt" < k.hour + interval '1 hour' AND s."DurationMs" IS NOT NULL
               AND {DurationBins.Sql("s.\"DurationMs\"")} = k.bin)
        ELSE
            (SELECT max(p."DurationMs") FROM "SessionPhases" p JOIN "Sessions" s ON s."Id" = p."SessionId" AND s."StartedAt" = p."SessionStartedAt"
             WHERE p."Phase" = k.series AND p."SiteId" = k.site AND s."CollectorId" = k.collector AND p."SessionStartedAt" >= k.hour
               AND p."SessionStartedAt" < k.hour + interval '1 hour' AND p."DurationMs" IS NOT NULL
               AND {DurationBins.Sql("p.\"DurationMs\"")} = k.bin)
        END
        FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[], $5::int[]) AS k(series, hour, site, collector, bin)
        WHERE h."Series" = k.series AND h."Hour" = k.hour AND h."SiteId" = k.site AND h."CollectorId" = k.collector AND h."Bin" = k.bin
        """, KeyParameters(keys));

    private static NpgsqlBatchCommand DeleteEmpty(List<HistogramKey> keys) => Command("""
        DELETE FROM "DurationHistogram" h
        USING unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[], $5::int[]) AS k(series, hour, site, collector, bin)
        WHERE h."Count" <= 0 AND h."Series" = k.series AND h."Hour" = k.hour AND h."SiteId" = k.site
          AND h."CollectorId" = k.collector AND h."Bin" = k.bin
        """, KeyParameters(keys));

    private static NpgsqlParameter[] KeyParameters(List<HistogramKey> keys) =>
    [
        P(keys.Select(k => k.Series).ToArray()), P(keys.Select(k => k.Hour).ToArray()), P(keys.Select(k => k.SiteId).ToArray()),
        P(keys.Select(k => k.CollectorId).ToArray()), P(keys.Select(k => k.Bin).ToArray()),
    ];
}
