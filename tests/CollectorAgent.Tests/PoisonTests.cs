using System.Text;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Simulation;
using PvsFleet.CollectorAgent.Tests.Support;
using Xunit.Abstractions;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>One bad event or one bad spool line never blocks the others.</summary>
public sealed class PoisonTests(ITestOutputHelper output) : ApiTestBase
{
    private SimulationResult Storm(string name, int devices, int seed) => BootStormSimulator.Run(new SimulationOptions
    {
        Devices = devices, OutputPath = Path.Combine(Work, name + ".pcapng"), Seed = seed, SingleReadIos = 4, BniStackIos = 6, StaggerSeconds = 60,
        FailureShare = 0,
    });

    [SkippableFact]
    public async Task A_capture_with_a_nul_padded_dhcp_host_name_is_stored_cleaned_with_nothing_blocked()
    {
        Database.SkipUnlessAvailable();
        var key = await Api.AddCollectorAsync("lab", "nul");
        var storm = Storm("storm", 60, 51);
        // Some firmware pads option 12 with NULs inside its declared length: the same bytes, the name's end zeroed.
        // (The decoder does not check UDP checksums; mirror ports see offloaded ones anyway.)
        var capture = File.ReadAllBytes(storm.CapturePath);
        var name = "VDA-0007"u8.ToArray();
        byte[] padded = [.. "VDA7"u8.ToArray(), 0, 0, 0, 0];
        var replaced = 0;
        for (var i = capture.AsSpan().IndexOf(name); i >= 0; i = capture.AsSpan().IndexOf(name))
        {
            padded.CopyTo(capture, i);
            replaced++;
        }

        Assert.True(replaced > 0, "the storm has no DHCP host name to pad");
        var doctored = Path.Combine(Work, "nul-padded.pcapng");
        await File.WriteAllBytesAsync(doctored, capture);

        using var replay = CollectorProgram.Replay(Api, key, Path.Combine(Work, "spool"), "max", doctored);
        Assert.True(await replay.WaitAsync(TimeSpan.FromMinutes(3)) == 0, replay.Output);

        var report = CollectorProgram.Analyze(doctored);
        // The collector cuts wire strings at the first NUL (WireText); the API cleans what older collectors still send.
        Assert.Contains(report.Devices, d => d.Sessions.Any(s => s.HostName == "VDA7"));
        Assert.DoesNotContain(report.Devices, d => d.Sessions.Any(s => s.HostName?.Contains('\0', StringComparison.Ordinal) == true));
        StoredBoots.AssertSame(StoredBoots.From(report), await StoredBoots.ReadAsync(Database));
        var hosts = await Database.QueryAsync("""SELECT DISTINCT "HostName" FROM "Sessions" WHERE "HostName" LIKE 'VDA7%'""", r => r.GetString(0));
        Assert.Equal(["VDA7"], hosts);
        Assert.Equal(0L, await Database.CountAsync("""SELECT count(*) FROM "Sessions" WHERE position(chr(65533) in coalesce("HostName", '')) > 0"""));
        var sent = CollectorProgram.SpooledSequences(Path.Combine(Work, "spool")).Max();
        Assert.Equal(sent, await Database.CountAsync("""SELECT count(*) FROM "Events" """));
        Assert.Empty(Directory.Exists(Path.Combine(Work, "spool", "rejected")) ? Directory.GetFiles(Path.Combine(Work, "spool", "rejected")) : []);
        output.WriteLine($"NUL-padded host name ({replaced} frames): {sent} events sent, {sent} stored, 0 refused");
    }

    [SkippableFact]
    public async Task A_corrupt_spool_line_is_set_aside_and_every_other_event_is_delivered()
    {
        Database.SkipUnlessAvailable();
        var key = await Api.AddCollectorAsync("lab", "corrupt");
        var storm = Storm("storm", 150, 52);
        var spool = Path.Combine(Work, "spool");

        // With the API away the whole storm piles up in the spool.
        Api.Stop();
        using (var first = CollectorProgram.Replay(Api, key, spool, "max", storm.CapturePath))
        {
            await WaitForAsync(() => Task.FromResult(first.Output.Contains("ended; delivering", StringComparison.Ordinal)), TimeSpan.FromMinutes(2), "the replay to end");
            first.Kill();
        }

        var segment = Directory.GetFiles(spool, "*.jsonl").Order(StringComparer.Ordinal).First();
        var lines = (await File.ReadAllLinesAsync(segment)).ToList();
        var victim = lines.Count / 2;
        var lost = System.Text.Json.JsonDocument.Parse(lines[victim]).RootElement.GetProperty("sequence").GetInt64();
        lines[victim] = "damaged on disk: " + new string('#', 40);
        await File.WriteAllLinesAsync(segment, lines, new UTF8Encoding(false));
        var spooled = CollectorProgram.SpooledSequences(spool);

        await Api.StartAsync();
        using (var second = CollectorProgram.Replay(Api, key, spool, "max", CollectorProgram.Sample("real-bios-1.pcap")))
        {
            Assert.True(await second.WaitAsync(TimeSpan.FromMinutes(3)) == 0, second.Output);
            Assert.Contains("does not parse", second.Output, StringComparison.Ordinal);
        }

        var last = CollectorProgram.SpooledSequences(spool).Max();
        var stored = await Database.QueryAsync("""SELECT "Sequence" FROM "Events" ORDER BY "Sequence" """, r => r.GetInt64(0));
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i).Where(s => s != lost), stored);
        Assert.All(spooled, s => Assert.Contains(s, stored));
        var aside = Directory.GetFiles(Path.Combine(spool, "rejected"), "corrupt-*.line");
        Assert.Equal("damaged on disk: " + new string('#', 40), await File.ReadAllTextAsync(Assert.Single(aside)));
        Assert.Contains("byte offset", await File.ReadAllTextAsync(Path.ChangeExtension(aside[0], ".reason.txt")), StringComparison.Ordinal);
        var corrupt = await Database.QueryAsync("""SELECT "CorruptSpoolLines" FROM "CollectorInstances" """, r => r.GetInt64(0));
        Assert.Contains(1L, corrupt);
        output.WriteLine($"corrupt spool line: {last} events spooled, 1 line damaged, {stored.Count} stored, 0 duplicated");
    }

    [SkippableFact]
    public async Task Events_the_api_refuses_are_set_aside_by_the_collector_and_delivery_goes_on()
    {
        Database.SkipUnlessAvailable();
        var key = await Api.AddCollectorAsync("lab", "refused");
        // A capture stamped three hours ahead of the API's clock: every session event is beyond the allowed skew (1 h)
        // and refused on its own; the heartbeats, stamped by the collector's own clock, are stored.
        var future = BootStormSimulator.Run(new SimulationOptions
        {
            Devices = 20, OutputPath = Path.Combine(Work, "future.pcapng"), Seed = 53, SingleReadIos = 4, BniStackIos = 6, StaggerSeconds = 10,
            FailureShare = 0, Start = DateTime.UtcNow.AddHours(3),
        });
        var spool = Path.Combine(Work, "spool");

        // The replay ends: a refused event is not retried forever. The next run, on the same spool, delivers as usual.
        using (var replay = CollectorProgram.Replay(Api, key, spool, "max", future.CapturePath))
        {
            Assert.True(await replay.WaitAsync(TimeSpan.FromMinutes(3)) == 0, replay.Output);
            Assert.Contains("The API refused", replay.Output, StringComparison.Ordinal);
        }

        using (var next = CollectorProgram.Replay(Api, key, spool, "max", CollectorProgram.Sample("real-bios-1.pcap")))
        {
            Assert.True(await next.WaitAsync(TimeSpan.FromMinutes(3)) == 0, next.Output);
        }

        var setAside = Directory.GetFiles(Path.Combine(spool, "rejected"), "*.jsonl").SelectMany(File.ReadAllLines).ToList();
        var problems = Directory.GetFiles(Path.Combine(spool, "rejected"), "*.problem.json").Select(File.ReadAllText).ToList();
        Assert.NotEmpty(setAside);
        Assert.All(problems, p => Assert.Contains("ahead of the server", p, StringComparison.Ordinal));
        var sent = CollectorProgram.SpooledSequences(spool).Max();
        var stored = await Database.CountAsync("""SELECT count(*) FROM "Events" """);
        Assert.Equal(sent, stored + setAside.Count); // every event either stored or set aside with its reason
        var refused = await Database.QueryAsync("""SELECT "RefusedEvents", "RejectedEvents" FROM "CollectorInstances" """, r => (r.GetInt64(0), r.GetInt64(1)));
        Assert.Equal(setAside.Count, Assert.Single(refused).Item1);
        // The sample capture of the second run went through: nothing was blocked behind the refusals.
        StoredBoots.AssertSame(StoredBoots.From(CollectorProgram.Analyze(CollectorProgram.Sample("real-bios-1.pcap"))), await StoredBoots.ReadAsync(Database));
        output.WriteLine($"refused events: {sent} sent, {stored} stored, {setAside.Count} refused and set aside, 0 lost");
    }

    [SkippableFact]
    public async Task A_shipper_that_keeps_failing_restarts_logs_and_then_stops_the_process_non_zero()
    {
        Database.SkipUnlessAvailable();
        var key = await Api.AddCollectorAsync("lab", "broken-spool");
        var storm = Storm("slow", 100, 54);
        var spool = Path.Combine(Work, "spool");

        // At real speed the replay runs for minutes; the spool's files vanish under it (a disk problem, a wrong cleanup):
        // the shipper cannot read what it must send.
        using var replay = CollectorProgram.Replay(Api, key, spool, "1", storm.CapturePath);
        await WaitForAsync(() => Task.FromResult(Directory.Exists(spool) && Directory.GetFiles(spool, "*.jsonl").Length > 0), TimeSpan.FromMinutes(1), "a spool segment");
        Api.Stop(); // nothing is acknowledged from here, so the shipper must read the spool
        foreach (var file in Directory.GetFiles(spool, "*.jsonl"))
            File.Delete(file);

        var code = await replay.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(code == 3, $"exit code {code}:\n{replay.Output}");
        Assert.Contains("The shipper failed (1 in a row) and restarts", replay.Output, StringComparison.Ordinal);
        Assert.Contains("The shipper stopped for good", replay.Output, StringComparison.Ordinal);
        output.WriteLine($"shipper: restarted {Shipper.MaxLoopFailures - 1} times, then the process exited with code {code}");
    }
}
