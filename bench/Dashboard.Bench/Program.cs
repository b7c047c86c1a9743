using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using PvsFleet.Contracts;
using PvsFleet.EndToEnd.Tests.Support;

// The dashboard's speed as an admin meets it: the API as its own process (Release build, SQLite unless
// PVSFLEET_TEST_POSTGRES names a server), Debian's Chromium through Playwright.
//   1. 10,000 devices over two sites: navigation -> the grid's count "10,000 of 10,000 devices" visible, in a fresh
//      browser context (nothing cached) and warm (the same context again, after the app has run once);
//   2. ingest -> row change: one event posted until the device's row shows its new phase, 20 times;
//   3. 100,000 devices: the fresh-context figure again.
// Usage: bench/dashboard-latency.sh (builds, then runs this).
var culture = CultureInfo.InvariantCulture;
var runs = int.TryParse(Environment.GetEnvironmentVariable("BENCH_RUNS"), out var r) ? r : 5;

var api = new FleetServer();
await api.InitializeAsync();
var browser = new Browser();
await browser.InitializeAsync();
var boots = new SyntheticBoots();
string[] keys = [];
try
{
    Console.WriteLine($"{DateTime.UtcNow:u}  storage={api.Storage}  runs={runs}");

    keys = new[] { await api.AddCollectorAsync("Storm-A", "pvs-a"), await api.AddCollectorAsync("Storm-B", "pvs-b") };
    var ingest = Stopwatch.StartNew();
    await boots.IngestFleetAsync(api, keys[0], 0, 0, 5000);
    await boots.IngestFleetAsync(api, keys[1], 1, 0, 5000);
    Console.WriteLine($"ingested 10,000 devices in {ingest.Elapsed.TotalSeconds:0.0} s");

    await Loads(10_000, 2.0, 1.0);
    await Latency();

    ingest.Restart();
    await boots.IngestFleetAsync(api, keys[0], 0, 5000, 50_000);
    await boots.IngestFleetAsync(api, keys[1], 1, 5000, 50_000);
    Console.WriteLine($"ingested 90,000 more devices in {ingest.Elapsed.TotalSeconds:0.0} s");
    await Loads(100_000, 3.0, null);
}
finally
{
    await browser.DisposeAsync();
    await api.DisposeAsync();
}
return 0;

async Task Loads(int devices, double freshTarget, double? warmTarget)
{
    var text = string.Format(culture, "{0:#,0} of {0:#,0} devices", devices);
    var fresh = new List<double>();
    var warm = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var page = await browser.NewPageAsync();
        fresh.Add(await TimeToCount(page, text));
        // Warm: the same context once the browser app has started (its files are cached), navigating again.
        await page.Locator("[data-testid=live-state][data-state=Live]").WaitForAsync(new() { Timeout = 60_000 });
        warm.Add(await TimeToCount(page, text));
        if (i == 0)
            await Browser.ScreenshotAsync(page, $"bench-fleet-{devices}");
        await page.Context.CloseAsync();
    }
    Print($"{devices:#,0} devices, fresh context: navigation -> \"{text}\"", fresh, freshTarget * 1000);
    Print($"{devices:#,0} devices, warm (same context again)", warm, warmTarget * 1000);
}

async Task<double> TimeToCount(IPage page, string text)
{
    var clock = Stopwatch.StartNew();
    await page.GotoAsync(api.Url.ToString(), new() { WaitUntil = WaitUntilState.Commit, Timeout = 60_000 });
    await page.Locator("[data-testid=device-count]", new() { HasText = text }).WaitForAsync(new() { Timeout = 60_000 });
    return clock.Elapsed.TotalMilliseconds;
}

async Task Latency()
{
    var page = await browser.NewPageAsync();
    var mac = SyntheticBoots.Mac(0, 4242);
    await page.GotoAsync(api.Url + "?q=" + mac);
    await page.Locator("[data-testid=live-state][data-state=Live]").WaitForAsync(new() { Timeout = 60_000 });
    await page.Locator($"[data-mac='{mac}']").WaitForAsync();
    var phase = (BootPhase)(4242 % 5);
    var session = Guid.NewGuid();
    var latencies = new List<double>();
    for (var i = 0; i < 20; i++)
    {
        // A new session each time the phase would wrap, so every change moves the row forward.
        phase = (BootPhase)(((int)phase + 1) % 5);
        if (phase == BootPhase.IpAcquisition)
            session = Guid.NewGuid();
        var change = boots.Entered(keys[0], mac, phase, DateTimeOffset.UtcNow, session);
        var clock = Stopwatch.StartNew();
        await api.IngestAsync(keys[0], [change]);
        await page.Locator($"[data-mac='{mac}'][data-phase={phase}]").WaitForAsync(new() { Timeout = 10_000 });
        latencies.Add(clock.Elapsed.TotalMilliseconds);
        await Task.Delay(300);
    }
    Print("ingest -> row change (20 changes)", latencies, 300, 1000);
    await page.Context.CloseAsync();
}

void Print(string what, List<double> ms, double? medianTarget, double? maxTarget = null)
{
    var sorted = ms.Order().ToList();
    var median = sorted[sorted.Count / 2];
    var verdict = (medianTarget is null || median <= medianTarget) && (maxTarget is null || sorted[^1] <= maxTarget) ? "ok" : "MISSED";
    var target = (medianTarget is { } m ? $" target median <= {m:0} ms" : "") + (maxTarget is { } x ? $", max <= {x:0} ms" : "");
    Console.WriteLine(string.Create(culture,
        $"{what}: first {ms[0]:0} ms, median {median:0} ms, min {sorted[0]:0} ms, max {sorted[^1]:0} ms ({ms.Count} runs){target} {(target.Length > 0 ? verdict : "")}"));
}
