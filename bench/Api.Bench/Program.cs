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
//   ingest-client ...   (internal) the HTTP client of `ingest`, run as a child process so that its CPU is not the API's
// Each run uses a database of its own and drops it afterwards.
if (args.Length > 0 && args[0] == "ingest-client")
    return await IngestClient.RunAsync(args);
var server = Environment.GetEnvironmentVariable("PVSFLEET_BENCH_POSTGRES") ?? Environment.GetEnvironmentVariable("PVSFLEET_TEST_POSTGRES")
    ?? throw new InvalidOperationException("Set PVSFLEET_BENCH_POSTGRES to a PostgreSQL connection string whose role may create databases.");
var mode = args.Length > 0 ? args[0] : "ingest";
var database = "pvsfleet_bench_" + Guid.NewGuid().ToString("N")[..8];
var connection = new NpgsqlConnectionStringBuilder(server) { Database = database, MaxPoolSize = 50 }.ToString();
// BENCH_TEMPLATE_DB: start from a copy of a database with history in it (say, one bench/estate-scale.sh generated),
// so that the ingest writes beside a year of month partitions instead of into empty ones.
var template = Environment.GetEnvironmentVariable("BENCH_TEMPLATE_DB") is { Length: > 0 } t ? $" TEMPLATE \"{t}\" STRATEGY FILE_COPY" : "";
// A template may be copied only while nobody is connected to it, and an autovacuum worker often is for minutes after
// a generation.
await ExecWaitingForAutovacuum(server, $"CREATE DATABASE \"{database}\"{template}", PostgresErrorCodes.ObjectInUse);
var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
const string AdminKey = "bench-admin-key";
const int Port = 5187;
try
{
    StartApi(connection);
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
    await WaitReady(http);
    // A storage setting tried without a migration (say, a fill factor), run once the API has made the tables and
    // partitions and before any row is written: BENCH_SETUP_SQL='ALTER TABLE "Devices" SET (fillfactor = 50)'.
    if (Environment.GetEnvironmentVariable("BENCH_SETUP_SQL") is { Length: > 0 } setup)
        await Exec(connection, setup);
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

    if (mode == "ingest")
        await Ingest(http, connection, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300_000);
    else
        await Stats(http, connection, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000);
}
finally
{
    NpgsqlConnection.ClearAllPools();
    // An autovacuum worker on the fresh database may still be at work (after the bulk load), and FORCE may end it
    // only for a superuser. BENCH_KEEP_DB=1 keeps the database for a look with psql.
    if (Environment.GetEnvironmentVariable("BENCH_KEEP_DB") == "1")
        Console.WriteLine($"kept database {database}");
    else
        await ExecWaitingForAutovacuum(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", PostgresErrorCodes.InsufficientPrivilege);
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
    // The client is a child process: it builds and serializes every batch before the clock starts, then only sends.
    var psi = new ProcessStartInfo(Environment.ProcessPath!)
    {
        RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
    };
    if (!Environment.ProcessPath!.EndsWith("PvsFleet.Bench", StringComparison.Ordinal))
        psi.ArgumentList.Add(typeof(IngestClient).Assembly.Location);
    var warmup = int.Parse(Environment.GetEnvironmentVariable("BENCH_WARMUP") ?? "600000", CultureInfo.InvariantCulture) / collectors / batchSize * batchSize;
    foreach (var a in new[] { "ingest-client", http.BaseAddress!.ToString(), perCollector.ToString(CultureInfo.InvariantCulture), batchSize.ToString(CultureInfo.InvariantCulture), string.Join(',', keys), warmup.ToString(CultureInfo.InvariantCulture) })
        psi.ArgumentList.Add(a);
    using var child = Process.Start(psi)!;
    if (await child.StandardOutput.ReadLineAsync() != "ready")
        throw new InvalidOperationException("The ingest client did not start.");
    var before = CpuSample.Take(child.Id, database);
    var gcBefore = GcSample.Take();
    await child.StandardInput.WriteLineAsync("go");
    await child.StandardInput.FlushAsync();
    var done = (await child.StandardOutput.ReadLineAsync())?.Split(' ') ?? throw new InvalidOperationException("The ingest client died.");
    var after = CpuSample.Take(child.Id, database);
    var gcAfter = GcSample.Take();
    await child.WaitForExitAsync();
    if (child.ExitCode != 0 || done[0] != "done")
        throw new InvalidOperationException("The ingest client failed: " + string.Join(' ', done));
    var seconds = double.Parse(done[1], CultureInfo.InvariantCulture);
    var sent = perCollector * collectors;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"http ingest: {sent:N0} events ({collectors} collectors x batches of {batchSize}, {(Batches.Storm ? "storm order" : "whole boots")}, client in a separate process, after {warmup * collectors:N0} warm-up events) in {seconds:F2} s = {sent / seconds:N0} events/s"));
    Console.WriteLine("  cpu during it: " + CpuSample.Describe(before, after));
    Console.WriteLine("  per event: " + CpuSample.PerEvent(before, after, sent));
    Console.WriteLine("  API process: " + GcSample.Describe(gcBefore, gcAfter, sent));

    if (Environment.GetEnvironmentVariable("BENCH_SKIP_PLAIN") == "1")
        return;
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
    var plainBatches = Batches.Make(99, perCollector * collectors, batchSize);
    var sw = Stopwatch.StartNew();
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
                var device = new Device { Mac = string.Concat("52:55", s.Session.Mac.AsSpan(5)), SiteId = siteId, FirstSeenAt = DateTime.UtcNow, LastSeenAt = DateTime.UtcNow };
                db.Devices.Add(device);
                db.Sessions.Add(new StoredSession
                {
                    Id = Guid.CreateVersion7(), Device = device, Mac = device.Mac, SiteId = siteId, CollectorId = collectorId,
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
    // The rows went in by COPY, around the ingest: build the histogram the ingest would have kept (the tests check
    // that the ingest-kept histogram equals this rebuild).
    await using (var rebuild = new NpgsqlCommand(DurationBins.RebuildSql, conn) { CommandTimeout = 600 })
        await rebuild.ExecuteNonQueryAsync();
    await new NpgsqlCommand("""VACUUM ANALYZE "Sessions" """, conn) { CommandTimeout = 600 }.ExecuteNonQueryAsync();
    await new NpgsqlCommand("""VACUUM ANALYZE "DurationHistogram" """, conn) { CommandTimeout = 600 }.ExecuteNonQueryAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded {sessions:N0} sessions over 30 days in {sw.Elapsed.TotalSeconds:F1} s (binary COPY)"));

    // The exact figures of the whole range, straight from SQL, to set the histogram's answer beside.
    await using (var exact = new NpgsqlCommand("""
        SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY "DurationMs"), percentile_cont(0.9) WITHIN GROUP (ORDER BY "DurationMs"),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY "DurationMs"), max("DurationMs")
        FROM "Sessions" WHERE "DurationMs" IS NOT NULL AND "StartedAt" >= @from AND "StartedAt" < @to
        """, conn))
    {
        exact.Parameters.AddWithValue("from", begin);
        exact.Parameters.AddWithValue("to", end);
        var t = Stopwatch.StartNew();
        await using var r = await exact.ExecuteReaderAsync();
        await r.ReadAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"exact in SQL (no buckets), 30 days: count {r.GetInt64(0):N0}, p50 {r.GetDouble(1):F1}, p90 {r.GetDouble(2):F1}, p99 {r.GetDouble(3):F1}, max {r.GetDouble(4):F1} ms; {t.Elapsed.TotalMilliseconds:F0} ms"));
    }

    var from = begin.ToString("O", CultureInfo.InvariantCulture);
    var to = end.ToString("O", CultureInfo.InvariantCulture);
    foreach (var (name, url) in new[]
    {
        ("all sites, 30 days, bucket=day", $"/api/v1/stats/boot-durations?from={from}&to={to}&bucket=day"),
        ("site=bench, 30 days, bucket=hour", $"/api/v1/stats/boot-durations?site=bench&from={from}&to={to}&bucket=hour"),
        ("last 24 h, bucket=hour", $"/api/v1/stats/boot-durations?from={end.AddDays(-1):O}&to={to}&bucket=hour"),
        ("last 12 h, bucket=hour (exact: under the threshold)", $"/api/v1/stats/boot-durations?from={end.AddHours(-12):O}&to={to}&bucket=hour"),
        ("30 days not on hour boundaries, bucket=day", $"/api/v1/stats/boot-durations?from={begin.AddMinutes(17):O}&to={end.AddMinutes(-43):O}&bucket=day"),
    })
    {
        // The first call of a shape runs cold (tier-0 JIT); a dashboard asks the same shapes again and again, so the
        // figure is taken after BENCH_STATS_WARMUP calls (default 30), and the cold one is printed beside it.
        var cold = Stopwatch.StartNew();
        var body = await http.GetStringAsync(url);
        var coldMs = cold.Elapsed.TotalMilliseconds;
        for (var i = 1; i < int.Parse(Environment.GetEnvironmentVariable("BENCH_STATS_WARMUP") ?? "30", CultureInfo.InvariantCulture); i++)
            await http.GetStringAsync(url);
        var times = new List<double>();
        for (var i = 0; i < 9; i++)
        {
            var t = Stopwatch.StartNew();
            body = await http.GetStringAsync(url);
            times.Add(t.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        using var doc = JsonDocument.Parse(body);
        var overall = doc.RootElement.GetProperty("overall");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"stats {name}: count {overall.GetProperty("count").GetInt64():N0}, p50 {overall.GetProperty("p50Ms").GetDouble():F1}, p90 {overall.GetProperty("p90Ms").GetDouble():F1}, p99 {overall.GetProperty("p99Ms").GetDouble():F1}, max {overall.GetProperty("maxMs").GetDouble():F1} ms; " +
            $"HTTP round trip median {times[times.Count / 2]:F0} ms, min {times[0]:F0} ms, max {times[^1]:F0} ms (9 calls after warm-up); first call {coldMs:F0} ms"));
    }
}

static void StartApi(string connection)
{
    var entry = typeof(PvsFleet.Api.FleetOptions).Assembly.EntryPoint!;
    string[] apiArgs =
    [
        $"--urls=http://127.0.0.1:{Port}", $"--ConnectionStrings:Postgres={connection}", $"--PvsFleet:Auth:AdminKey={AdminKey}",
        "--PvsFleet:Alerts:Enabled=false", "--Logging:LogLevel:Default=Warning", "--environment=Production",
        // Hosted in this process, the API would look for the static-assets manifest under this program's name.
        "--applicationName=PvsFleet.Api",
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

// A statement that fails with busyState while an autovacuum worker is connected to the database it names: tried again
// each second for up to 5 minutes, since the bench's role may not end that worker (a superuser could).
static async Task ExecWaitingForAutovacuum(string cs, string sql, string busyState)
{
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await Exec(cs, sql);
            return;
        }
        catch (PostgresException ex) when (ex.SqlState == busyState && attempt < 300)
        {
            if (attempt == 1)
                Console.WriteLine($"waiting for the database to be free: {ex.MessageText}");
            await Task.Delay(1000);
        }
    }
}

static async Task Exec(string cs, string sql)
{
    await using var conn = new NpgsqlConnection(cs);
    await conn.OpenAsync();
    // No timeout: copying a template of several GB from disk takes minutes, not Npgsql's default 30 s.
    await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
    await cmd.ExecuteNonQueryAsync();
}

/// <summary>The child process of <c>ingest</c>: posts pre-serialized batches for each collector key, concurrently.</summary>
internal static class IngestClient
{
    public static async Task<int> RunAsync(string[] args)
    {
        var url = new Uri(args[1]);
        var perCollector = int.Parse(args[2], CultureInfo.InvariantCulture);
        var batchSize = int.Parse(args[3], CultureInfo.InvariantCulture);
        var keys = args[4].Split(',');
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        var warmup = int.Parse(args[5], CultureInfo.InvariantCulture);
        var bodies = keys.Select((_, c) => Batches.Make(c, warmup + perCollector, batchSize).Select(b => JsonSerializer.SerializeToUtf8Bytes(b, json)).ToList()).ToList();
        // Sustained throughput: the first batches (sequences before the measured ones) warm up the API's JIT and pools.
        var warmBatches = warmup / batchSize;
        await Task.WhenAll(keys.Select((key, c) => PostAllAsync(url, key, bodies[c][..warmBatches])));
        bodies = [.. bodies.Select(b => b[warmBatches..])];
        Console.WriteLine("ready");
        if (Console.ReadLine() != "go")
            return 1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(keys.Select((key, c) => PostAllAsync(url, key, bodies[c])));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done {sw.Elapsed.TotalSeconds:F3}"));
        return 0;
    }

    public static async Task PostAllAsync(Uri url, string key, List<byte[]> bodies)
    {
        using var client = new HttpClient { BaseAddress = url };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        foreach (var body in bodies)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync("/api/v1/ingest", content);
            response.EnsureSuccessStatusCode();
        }
    }
}

/// <summary>
/// CPU time (from /proc, Linux) of this process, the client, all PostgreSQL processes and the whole machine, and which
/// PostgreSQL processes are backends of the bench's database: on a shared server other people's queries and their
/// autovacuum count under "all PostgreSQL processes", not under those backends.
/// </summary>
internal sealed record CpuSample(
    DateTime At, double Self, double Client, Dictionary<int, double> Postgres, HashSet<int> Backends, double MachineBusy, double MachineTotal)
{
    private static readonly double Tick = 1.0 / 100; // USER_HZ

    public static CpuSample Take(int client, string database)
    {
        double Proc(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) * Tick;
            }
            catch (IOException)
            {
                return 0;
            }
        }
        var postgres = new Dictionary<int, double>();
        var backends = new HashSet<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && File.Exists($"{dir}/comm")
                && SafeRead($"{dir}/comm").StartsWith("postgres", StringComparison.Ordinal))
            {
                postgres[pid] = Proc(pid);
                // A backend shows "postgres: 15/main: user database host(port) state" as its command line.
                if (SafeRead($"{dir}/cmdline").Contains($" {database} ", StringComparison.Ordinal))
                    backends.Add(pid);
            }
        }
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(x => long.Parse(x, CultureInfo.InvariantCulture) * Tick).ToArray();
        var idle = cpu[3] + cpu[4];
        return new CpuSample(DateTime.UtcNow, Proc(Environment.ProcessId), Proc(client), postgres, backends, cpu.Sum() - idle, cpu.Sum());
    }

    /// <summary>
    /// CPU per event: the API, the bench database's backends (the pooled connections live through the run), and all
    /// PostgreSQL processes (with the WAL writer, checkpointer, autovacuum and anyone else's queries).
    /// </summary>
    public static string PerEvent(CpuSample a, CpuSample b, int events)
    {
        var backends = b.Postgres.Where(kv => b.Backends.Contains(kv.Key)).Sum(kv => kv.Value - a.Postgres.GetValueOrDefault(kv.Key));
        var postgres = b.Postgres.Sum(kv => kv.Value - a.Postgres.GetValueOrDefault(kv.Key));
        return string.Create(CultureInfo.InvariantCulture,
            $"API {(b.Self - a.Self) / events * 1e6:F1} µs, this database's PostgreSQL backends {backends / events * 1e6:F1} µs, " +
            $"all PostgreSQL processes {postgres / events * 1e6:F1} µs");
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    public static string Describe(CpuSample a, CpuSample b)
    {
        var s = (b.At - a.At).TotalSeconds;
        var machine = (b.MachineBusy - a.MachineBusy) / s;
        var api = (b.Self - a.Self) / s;
        var client = (b.Client - a.Client) / s;
        // Per backend: one that ended in between is not counted, one that started counts from zero.
        var pg = b.Postgres.Sum(kv => kv.Value - a.Postgres.GetValueOrDefault(kv.Key)) / s;
        return string.Create(CultureInfo.InvariantCulture,
            $"API process {api:F2} cores, client {client:F2}, PostgreSQL {pg:F2}, " +
            $"anything else {Math.Max(0, machine - api - client - pg):F2}; machine busy {machine:F2} of {Environment.ProcessorCount} cores");
    }
}

/// <summary>The API process's allocations and GC pauses (the API runs in this process; the client is another one).</summary>
internal readonly record struct GcSample(long Allocated, TimeSpan Paused, int Gen0, int Gen1, int Gen2, TimeSpan Jit)
{
    public static GcSample Take() => new(GC.GetTotalAllocatedBytes(precise: false), GC.GetTotalPauseDuration(),
        GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), System.Runtime.JitInfo.GetCompilationTime());

    public static string Describe(GcSample a, GcSample b, int events) => string.Create(CultureInfo.InvariantCulture,
        $"{(b.Allocated - a.Allocated) / (double)events / 1024:F1} KB allocated per event, GC paused {(b.Paused - a.Paused).TotalMilliseconds:N0} ms, " +
        $"collections gen0 {b.Gen0 - a.Gen0} / gen1 {b.Gen1 - a.Gen1} / gen2 {b.Gen2 - a.Gen2}, JIT {(b.Jit - a.Jit).TotalMilliseconds:N0} ms");
}

/// <summary>Whole boots as a collector sends them: started, 4 × phaseEntered, ended; each with its snapshot.</summary>
internal static class Batches
{
/// <summary><c>BENCH_ORDER=storm</c>: events in time order across boots; otherwise each boot's six events are together.</summary>
public static bool Storm => Environment.GetEnvironmentVariable("BENCH_ORDER") == "storm";

public static List<IngestBatch> Make(int collector, int events, int batchSize)
{
    var all = new List<IngestEvent>(events);
    var start = DateTimeOffset.UtcNow.AddHours(-1);
    long seq = 1;
    var device = 0;
    while (all.Count < events)
    {
        var mac = $"52:54:{collector:x2}:{(device >> 16) & 0xff:x2}:{(device >> 8) & 0xff:x2}:{device & 0xff:x2}";
        device++;
        var t0 = start.AddMilliseconds(device);
        var id = Guid.CreateVersion7(t0); // as the collector makes them: time-ordered
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
    if (Storm)
    {
        // As a collector sends a boot storm: in time order, so a batch holds one or two events of each of hundreds of
        // boots and every boot is written again in each of its batches (the harder case for the database).
        seq = 1;
        all = [.. all.OrderBy(e => e.Timestamp).ThenBy(e => e.Sequence).Select(e => e with { Sequence = seq++ })];
    }
    return [.. all.Take(events).Chunk(batchSize).Select(c => new IngestBatch { Events = c })];
}
}
