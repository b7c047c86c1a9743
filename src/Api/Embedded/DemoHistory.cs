using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Cli;
using PvsFleet.Api.Data;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Embedded;

/// <summary>
/// Thirty days of boots for the demo's devices, written once per data directory through the ingest API (one
/// session-ended event per boot, so about 5,000 events), so History, the slowest devices and the per-phase breakdown
/// show trends from the first minute: an ordinary month with a slow week (storage trouble: single read mode takes
/// twice as long) and a bad day (a broken BIOS bootstrap file and an overloaded second logon server). Each site has one
/// DHCP server, two TFTP servers (the second a little slower) and two PVS servers (see DemoServers) that log devices on and stream, now and
/// then handing a device to the other for streaming; the second PVS server of <c>hq</c> has logged on slowly since the
/// bad day, so the per-server breakdowns have something to find. The morning storm is a scheduled reboot of every device
/// within a few minutes, and streaming slows with the devices started just before: the capacity view's time-to-boot by
/// concurrency shows the knee.
/// Each site's history comes from a collector of its own, revoked when done, so the live collectors' sequence
/// numbers start at 1.
/// </summary>
public sealed partial class DemoHistory(IServiceProvider services, ILogger log)
{
    public const int Days = 30;
    public const int SlowWeekFromDaysAgo = 20;
    public const int SlowWeekToDaysAgo = 14;
    public const int BadDayDaysAgo = 5;
    /// <summary>The site whose second PVS server logs devices on slowly from the bad day on.</summary>
    public const string SlowLogonSite = "hq";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task WriteOnceAsync(Uri api, DateTime now, CancellationToken ct)
    {
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
            var before = now.AddDays(-2);
            if (await db.Sessions.AnyAsync(s => s.StartedAt < before, ct))
                return;
        }

        using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(120) };
        var total = 0;
        foreach (var site in DemoPlan.Sites)
        {
            var (collectorId, key) = await RegisterAsync(site, now, ct);
            var events = Boots(site, now).ToList();
            for (var i = 0; i < events.Count; i += 2000)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/ingest")
                {
                    Content = JsonContent.Create(new IngestBatch { Events = events.GetRange(i, Math.Min(2000, events.Count - i)) }, options: Json),
                };
                request.Headers.Authorization = new("Bearer", key);
                using var response = await http.SendAsync(request, ct);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"The demo history was refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
            await RevokeAsync(collectorId, now, ct);
            total += events.Count;
        }
        LogWritten(log, total, Days);
    }

    /// <summary>The boots of one site, oldest first, each as one session-ended event with the whole session.</summary>
    private static IEnumerable<IngestEvent> Boots(string site, DateTime now)
    {
        var random = new Random(site.GetHashCode(StringComparison.Ordinal) & 0x7fff_ffff ^ 0x5eed);
        var servers = new DemoServers(DemoPlan.Sites.ToList().IndexOf(site));
        var collectors = DemoPlan.Collectors.Where(c => c.Site == site).ToList();
        var sequence = 0L;
        // Today's boots too, up to a quarter of an hour ago: the live collectors take over from there.
        var until = now.AddMinutes(-15);
        for (var daysAgo = Days; daysAgo >= 0; daysAgo--)
        {
            var day = now.Date.AddDays(-daysAgo);
            var slowWeek = daysAgo is <= SlowWeekFromDaysAgo and >= SlowWeekToDaysAgo;
            var badDay = daysAgo == BadDayDaysAgo;
            var boots = new List<(DateTime Start, DemoCollector Collector, int Device)>();
            foreach (var c in collectors)
            {
                for (var d = 0; d < c.Devices; d++)
                {
                    // The morning boot storm at 06:55 (a scheduled reboot of every device within five minutes), and a reboot after
                    // patching on some afternoons.
                    boots.Add((day.AddHours(6.5).AddMinutes(25).AddSeconds(random.Next(0, 300)), c, d));
                    if (random.NextDouble() < 0.3)
                        boots.Add((day.AddHours(13).AddSeconds(random.Next(0, 7200)), c, d));
                }
            }
            var ordered = boots.Where(b => b.Start < until).OrderBy(b => b.Start).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                var (start, c, d) = ordered[i];
                // The load on the site's servers: boots started in the minute before this one.
                var load = 0;
                for (var j = i - 1; j >= 0 && ordered[j].Start > start.AddMinutes(-1); j--)
                    load++;
                var slowLogon = site == SlowLogonSite && daysAgo <= BadDayDaysAgo;
                yield return Boot(++sequence, c, d, start, random, servers, load, slowWeek, badDay, slowLogon);
            }
        }
    }

    /// <summary>
    /// One site's servers. The first of each is the simulated storms' server (the collector's <c>SimulatedNetwork.ServerAddress</c>),
    /// so the live boots join the history's groups instead of forming a group of their own (the simulator's boots take
    /// seconds, not the minute of a real one); the second TFTP and PVS servers are the site's own.
    /// </summary>
    private readonly record struct DemoServers(int Site)
    {
        private const string Simulated = "10.20.0.10";

        public static string Dhcp => Simulated;
        public string Tftp(int i) => i == 0 ? Simulated : Address(31 + Site);
        public string Pvs(int i) => i == 0 ? Simulated : Address(21 + Site);
        private static string Address(int host) => string.Create(Invariant, $"10.20.0.{host}");
    }

    private static SessionEndedEvent Boot(long sequence, DemoCollector c, int device, DateTime startUtc, Random random, DemoServers servers,
        int load, bool slowWeek, bool badDay, bool slowLogon)
    {
        var start = new DateTimeOffset(startUtc, TimeSpan.Zero);
        var firmware = device % 2 == 0 ? Firmware.Uefi : Firmware.Bios;
        var tftp = random.Next(2);
        var pvs = random.Next(2);
        // Now and then the login server hands the device to the other server's stream port.
        var stream = random.NextDouble() < 0.2 ? 1 - pvs : pvs;
        // Seconds per phase before BNIStack: DHCP, the bootstrap over TFTP, the PVS logon, single read mode (UNDI).
        double[] seconds = [2 + random.NextDouble() * 2, 3 + random.NextDouble() * 3, 1 + random.NextDouble() * 2, 25 + random.NextDouble() * 20];
        if (tftp == 1)
            seconds[1] *= 1.5;
        // Each device the server started streaming to in the last minute slows reads a little.
        seconds[3] *= 1 + (0.03 * load);
        if (slowWeek)
            seconds[3] *= 2.0;
        if (slowLogon && pvs == 1)
            seconds[2] *= 4;
        var outcome = BootOutcome.Booted;
        var endPhase = BootPhase.BniStack;
        var retries = random.NextDouble() < 0.1 ? random.Next(1, 6) : 0;
        if (badDay)
        {
            var roll = random.NextDouble();
            if (firmware == Firmware.Bios && roll < 0.5)
            {
                // The broken bootstrap file: BIOS devices only.
                (outcome, endPhase) = (BootOutcome.Failed, BootPhase.BootstrapDownload);
            }
            else if (pvs == 1 && roll < 0.3)
            {
                (outcome, endPhase) = (BootOutcome.Stuck, BootPhase.PvsLogon);
                retries += 10;
            }
            else if (pvs == 1)
            {
                seconds[2] *= 6;
                seconds[3] *= 2.5;
                retries += random.Next(2, 12);
            }
        }

        var phases = new List<PhaseTiming>();
        var at = start;
        for (var p = 0; p <= (int)endPhase; p++)
        {
            var phase = (BootPhase)p;
            var length = phase == BootPhase.BniStack ? 8 + random.NextDouble() * 4 : seconds[p];
            var ended = phase == endPhase && outcome != BootOutcome.Booted ? (DateTimeOffset?)null : at.AddSeconds(length);
            phases.Add(new PhaseTiming { Phase = phase, StartedAt = at, EndedAt = ended, Retries = phase == endPhase ? retries : 0 });
            at = at.AddSeconds(length);
        }
        return new SessionEndedEvent
        {
            Sequence = sequence,
            Timestamp = at,
            Outcome = outcome,
            Session = new SessionSnapshot
            {
                SessionId = Guid.CreateVersion7(start),
                Mac = c.Mac(device),
                Ip = $"10.{20 + DemoPlan.Collectors.ToList().IndexOf(c)}.0.{device + 20}",
                Firmware = firmware,
                BootFile = firmware == Firmware.Uefi ? "pvsnbpx64.efi" : "ARDBP32.bin",
                HostName = DemoCollector.HostName(device),
                Phase = endPhase,
                Outcome = outcome,
                StartedAt = start,
                EndedAt = at,
                Phases = phases,
                Servers = new SessionServers
                {
                    Dhcp = DemoServers.Dhcp, Tftp = servers.Tftp(tftp),
                    Pvs = endPhase >= BootPhase.PvsLogon ? servers.Pvs(pvs) : null,
                    Stream = endPhase >= BootPhase.SingleReadMode ? servers.Pvs(stream) : null,
                },
            },
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: wrote {Sessions} boots of the last {Days} days as history")]
    private static partial void LogWritten(ILogger log, int sessions, int days);

    private static readonly System.Globalization.CultureInfo Invariant = System.Globalization.CultureInfo.InvariantCulture;

    private async Task<(int Id, string Key)> RegisterAsync(string site, DateTime now, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var (collector, key) = await Commands.CreateCollectorAsync(db, site, "history-import-" + now.ToString("yyyyMMddHHmmss", Invariant), now);
        return (collector.Id, key);
    }

    private async Task RevokeAsync(int collectorId, DateTime now, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        await db.Collectors.Where(c => c.Id == collectorId).ExecuteUpdateAsync(s => s.SetProperty(c => c.RevokedAt, now), ct);
    }
}
