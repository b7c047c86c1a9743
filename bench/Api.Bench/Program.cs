using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using PvsFleet.Api.Data;
using PvsFleet.Contracts.Queries;
using PvsFleet.Api.Security;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

// Measures on this machine, against the PostgreSQL named by PVSFLEET_BENCH_POSTGRES (or PVSFLEET_TEST_POSTGRES):
//   ingest [events]     HTTP ingest through a real Kestrel on loopback, beside plain EF Core SaveChanges
//   stats [sessions]    /api/v1/stats/boot-durations over that many stored sessions (default 1,000,000)
// Each run uses a database of its own and drops it afterwards.
var server = Environment.GetEnvironmentVariable("PVSFLEET_BENCH_POSTGRES") ?? Environment.GetEnvironmentVariable("PVSFLEET_TEST_POSTGRES")
    ?? throw new InvalidOperationException("Set PVSFLEET_BENCH_POSTGRES to a PostgreSQL connection string whose role may create databases.");
var mode = args.Length > 0 ? args[0] : "ingest";
var database = "pvsfleet_bench_" + Guid.NewGuid().ToString("N")[..8];
var connection = new NpgsqlConnectionStringBuilder(server) { Database = database, MaxPoolSize = 50 }.ToString();
await Exec(server, $"CREATE DATABASE \"{database}\"");
var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
const string AdminKey = "bench-admin-key";
const int Port = 5187;
try
{
    StartApi(connection);
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
    await WaitReady(http);
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

    if (mode == "ingest")
        await Ingest(http, connection, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300_000);
    else
        await Stats(http, connection, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000);
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await Exec(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
}
return 0;

async Task Ingest(HttpClient http, string cs, int total)
{
    const int collectors = 4, batchSize = 1000;
    var keys = new List<string>();
    for (var i = 0; i < collectors; i++)
    {
        var created = await http.PostAsJsonAsync("/api/v1/collectors", new { site = "bench", name = $"c{i}" }, json);
        created.EnsureSuccessStatusCode();
        keys.Add((await created.Content.ReadFromJsonAsync<CreatedCollector>(json))!.Key);
    }
    var perCollector = total / collectors;
    var batches = keys.Select((_, c) => MakeBatches(c, perCollector, batchSize)).ToList();

    // Warm-up: one batch per collector on a separate sequence range is not possible without gaps; a tiny one instead.
    var sw = Stopwatch.StartNew();
    await Task.WhenAll(keys.Select(async (key, c) =>
    {
        using var client = new HttpClient { BaseAddress = http.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        foreach (var batch in batches[c])
        {
            using var response = await client.PostAsJsonAsync("/api/v1/ingest", batch, json);
            response.EnsureSuccessStatusCode();
        }
    }));
    sw.Stop();
    var sent = batches.Sum(b => b.Sum(x => x.Events.Count));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"http ingest: {sent:N0} events ({collectors} collectors x batches of {batchSize}) in {sw.Elapsed.TotalSeconds:F2} s = {sent / sw.Elapsed.TotalSeconds:N0} events/s"));

    // Plain EF Core: the same kind of rows (one event row each, a session per six events), one SaveChanges per batch.
    var optionsBuilder = new DbContextOptionsBuilder<PostgresFleetDbContext>().UseNpgsql(cs);
    if (Environment.GetEnvironmentVariable("BENCH_LOG_SQL") == "1")
        optionsBuilder.LogTo(Console.WriteLine, [Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandExecuted]);
    var options = optionsBuilder.Options;
    int collectorId, siteId;
    await using (var db = new PostgresFleetDbContext(options))
    {
        var c = await db.Collectors.FirstAsync();
        collectorId = c.Id;
        siteId = c.SiteId;
    }
    var plainBatches = MakeBatches(99, perCollector * collectors, batchSize);
    sw.Restart();
    long seq = 10_000_000;
    foreach (var batch in plainBatches)
    {
        await using var db = new PostgresFleetDbContext(options);
        foreach (var e in batch.Events)
        {
            db.Events.Add(new IngestedEvent
            {
                CollectorId = collectorId, Sequence = seq++, Type = "x", Timestamp = e.Timestamp.UtcDateTime,
                SessionId = (e as SessionEvent)?.Session.SessionId, ReceivedAt = DateTime.UtcNow,
                Payload = JsonSerializer.Serialize(e, json),
            });
            if (e is SessionStartedEvent s)
            {
                var device = new Device { Mac = s.Session.Mac.Replace("52:54", "52:55", StringComparison.Ordinal), SiteId = siteId, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow };
                db.Devices.Add(device);
                db.Sessions.Add(new BootSession
                {
                    Id = Guid.NewGuid(), Device = device, Mac = device.Mac, SiteId = siteId, CollectorId = collectorId,
                    StartedAt = s.Session.StartedAt.UtcDateTime, PhaseStartedAt = s.Session.StartedAt.UtcDateTime,
                });
            }
        }
        await db.SaveChangesAsync();
    }
    sw.Stop();
    var plain = plainBatches.Sum(b => b.Events.Count);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"plain EF SaveChanges: {plain:N0} events in {sw.Elapsed.TotalSeconds:F2} s = {plain / sw.Elapsed.TotalSeconds:N0} events/s (no HTTP, no validation, no upsert reads)"));
}

static List<IngestBatch> MakeBatches(int collector, int events, int batchSize)
{
    var all = new List<IngestEvent>(events);
    var start = DateTimeOffset.UtcNow.AddHours(-1);
    long seq = 1;
    var device = 0;
    while (all.Count < events)
    {
        var mac = $"52:54:{collector:x2}:{(device >> 16) & 0xff:x2}:{(device >> 8) & 0xff:x2}:{device & 0xff:x2}";
        device++;
        var id = Guid.NewGuid();
        var t0 = start.AddMilliseconds(device);
        var phases = new List<PhaseTiming> { new() { Phase = BootPhase.IpAcquisition, StartedAt = t0 } };
        SessionSnapshot Snap(BootPhase phase, BootOutcome outcome) => new()
        {
            SessionId = id, Mac = mac, Ip = "10.1.0.1", Firmware = Firmware.Uefi, BootFile = "pvsnbpx64.efi", Phase = phase,
            Outcome = outcome, StartedAt = t0, Phases = [.. phases],
        };
        all.Add(new SessionStartedEvent { Sequence = seq++, Timestamp = t0, Session = Snap(BootPhase.IpAcquisition, BootOutcome.InProgress) });
        for (var p = 1; p <= 4; p++)
        {
            var at = t0.AddSeconds(p * 3);
            phases[^1] = phases[^1] with { EndedAt = at };
            phases.Add(new PhaseTiming { Phase = (BootPhase)p, StartedAt = at });
            all.Add(new PhaseEnteredEvent { Sequence = seq++, Timestamp = at, Phase = (BootPhase)p, Session = Snap((BootPhase)p, BootOutcome.InProgress) });
        }
        all.Add(new SessionEndedEvent { Sequence = seq++, Timestamp = t0.AddSeconds(12), Outcome = BootOutcome.Booted, Session = Snap(BootPhase.BniStack, BootOutcome.Booted) });
    }
    return [.. all.Take(events).Chunk(batchSize).Select(c => new IngestBatch { Events = c })];
}

async Task Stats(HttpClient http, string cs, int sessions)
{
    await (await http.PostAsJsonAsync("/api/v1/collectors", new { site = "bench", name = "c0" }, json)).Content.ReadAsStringAsync();
    await using var conn = new NpgsqlConnection(cs);
    await conn.OpenAsync();
    int siteId, collectorId;
    await using (var cmd = new NpgsqlCommand("""SELECT "Id", "SiteId" FROM "Collectors" LIMIT 1""", conn))
    await using (var r = await cmd.ExecuteReaderAsync())
    {
        await r.ReadAsync();
        collectorId = r.GetInt32(0);
        siteId = r.GetInt32(1);
    }
    var sw = Stopwatch.StartNew();
    const int devices = 20_000;
    await using (var w = await conn.BeginBinaryImportAsync("""COPY "Devices" ("Mac","SiteId","Firmware","FirstSeenAt","LastSeenAt") FROM STDIN (FORMAT BINARY)"""))
    {
        for (var d = 1; d <= devices; d++)
        {
            await w.StartRowAsync();
            await w.WriteAsync($"52:54:00:{(d >> 16) & 0xff:x2}:{(d >> 8) & 0xff:x2}:{d & 0xff:x2}", NpgsqlDbType.Varchar);
            await w.WriteAsync(siteId, NpgsqlDbType.Integer);
            await w.WriteAsync(2, NpgsqlDbType.Integer);
            await w.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz);
            await w.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz);
        }
        await w.CompleteAsync();
    }
    var firstDevice = Convert.ToInt64(await new NpgsqlCommand("""SELECT min("Id") FROM "Devices" """, conn).ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    var random = new Random(42);
    var end = DateTime.UtcNow.Date;
    var begin = end.AddDays(-30);
    await using (var w = await conn.BeginBinaryImportAsync("""
        COPY "Sessions" ("Id","DeviceId","SiteId","CollectorId","Mac","Firmware","Phase","Outcome","StartedAt","PhaseStartedAt","DurationMs","TotalRetries","LastSequence","UpdatedAt")
        FROM STDIN (FORMAT BINARY)
        """))
    {
        for (var i = 0; i < sessions; i++)
        {
            var d = i % devices;
            var started = begin.AddSeconds(random.NextDouble() * (end - begin).TotalSeconds);
            // Log-normal-ish durations around 40 s with a long tail.
            var duration = 20_000 + (Math.Exp(random.NextDouble() * 3) * 8_000);
            await w.StartRowAsync();
            await w.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
            await w.WriteAsync(firstDevice + d, NpgsqlDbType.Bigint);
            await w.WriteAsync(siteId, NpgsqlDbType.Integer);
            await w.WriteAsync(collectorId, NpgsqlDbType.Integer);
            await w.WriteAsync($"52:54:00:{((d + 1) >> 16) & 0xff:x2}:{((d + 1) >> 8) & 0xff:x2}:{(d + 1) & 0xff:x2}", NpgsqlDbType.Varchar);
            await w.WriteAsync(2, NpgsqlDbType.Integer);
            await w.WriteAsync((int)BootPhase.BniStack, NpgsqlDbType.Integer);
            await w.WriteAsync((int)BootOutcome.Booted, NpgsqlDbType.Integer);
            await w.WriteAsync(started, NpgsqlDbType.TimestampTz);
            await w.WriteAsync(started.AddMilliseconds(duration), NpgsqlDbType.TimestampTz);
            await w.WriteAsync(duration, NpgsqlDbType.Double);
            await w.WriteAsync(0, NpgsqlDbType.Integer);
            await w.WriteAsync((long)i, NpgsqlDbType.Bigint);
            await w.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz);
        }
        await w.CompleteAsync();
    }
    await new NpgsqlCommand("""VACUUM ANALYZE "Sessions" """, conn).ExecuteNonQueryAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded {sessions:N0} sessions over 30 days in {sw.Elapsed.TotalSeconds:F1} s (binary COPY)"));

    var from = begin.ToString("O", CultureInfo.InvariantCulture);
    var to = end.ToString("O", CultureInfo.InvariantCulture);
    foreach (var (name, url) in new[]
    {
        ("all sites, 30 days, bucket=day", $"/api/v1/stats/boot-durations?from={from}&to={to}&bucket=day"),
        ("site=bench, 30 days, bucket=hour", $"/api/v1/stats/boot-durations?site=bench&from={from}&to={to}&bucket=hour"),
        ("last 24 h, bucket=hour", $"/api/v1/stats/boot-durations?from={end.AddDays(-1):O}&to={to}&bucket=hour"),
    })
    {
        var times = new List<double>();
        string body = "";
        for (var i = 0; i < 7; i++)
        {
            var t = Stopwatch.StartNew();
            body = await http.GetStringAsync(url);
            times.Add(t.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        using var doc = JsonDocument.Parse(body);
        var overall = doc.RootElement.GetProperty("overall");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stats {name}: count {overall.GetProperty("count").GetInt64():N0}, p50 {overall.GetProperty("p50Ms").GetDouble():F0} ms; " +
            $"HTTP round trip median {times[times.Count / 2]:F0} ms, min {times[0]:F0} ms, max {times[^1]:F0} ms (7 runs, first included)"));
    }
}

static void StartApi(string connection)
{
    var entry = typeof(PvsFleet.Api.FleetOptions).Assembly.EntryPoint!;
    string[] apiArgs =
    [
        $"--urls=http://127.0.0.1:{Port}", $"--ConnectionStrings:Postgres={connection}", $"--PvsFleet:Auth:AdminKey={AdminKey}",
        "--PvsFleet:Alerts:Enabled=false", "--Logging:LogLevel:Default=Warning", "--environment=Production",
    ];
    var thread = new Thread(() => entry.Invoke(null, [apiArgs])) { IsBackground = true };
    thread.Start();
}

static async Task WaitReady(HttpClient http)
{
    for (var i = 0; i < 120; i++)
    {
        try
        {
            if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                return;
        }
        catch (HttpRequestException)
        {
        }
        await Task.Delay(500);
    }
    throw new TimeoutException("The API did not become ready.");
}

static async Task Exec(string cs, string sql)
{
    await using var conn = new NpgsqlConnection(cs);
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand(sql, conn);
    await cmd.ExecuteNonQueryAsync();
}
