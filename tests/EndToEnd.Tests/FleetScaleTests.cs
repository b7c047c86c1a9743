using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.EndToEnd.Tests.Support;
using Xunit.Abstractions;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>
/// The fleet page with 10,000 devices: how long the first load takes, and how long an ingested change takes to show
/// in the browser. The figures go to the test output and to TestResults/measurements.txt.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class FleetScaleTests(Browser browser, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Devices = 10_000;
    private static readonly TimeSpan LatencyTarget = TimeSpan.FromSeconds(1);

    private readonly FleetServer _api = new();
    private readonly Dictionary<string, long> _sequences = [];

    public Task InitializeAsync() => _api.InitializeAsync();

    public Task DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Fleet_page_loads_10000_devices_and_shows_an_ingested_change_within_a_second()
    {
        // Two sites of 5,000 devices each, every one somewhere in its boot.
        var keys = new[] { await _api.AddCollectorAsync("Storm-A", "pvs-a"), await _api.AddCollectorAsync("Storm-B", "pvs-b") };
        var now = DateTimeOffset.UtcNow;
        for (var k = 0; k < keys.Length; k++)
        {
            var events = Enumerable.Range(0, Devices / keys.Length)
                .Select(i => Entered(keys[k], Mac(k, i), (BootPhase)(i % 5), now.AddSeconds(-(i % 300)), Guid.NewGuid()))
                .ToList<IngestEvent>();
            await _api.IngestAsync(keys[k], events);
        }

        // The API's share of a load: the 20 pages the page asks for, one after the other, without a browser.
        var api = Stopwatch.StartNew();
        for (var p = 1; p <= Devices / 500; p++)
            await _api.GetAsync<PvsFleet.Contracts.Queries.Paged<PvsFleet.Contracts.Queries.DeviceView>>($"api/v1/devices?page={p}&pageSize=500");
        var apiTime = api.Elapsed;

        var cold = await FirstLoadAsync();
        var warm = await FirstLoadAsync();

        // The row of one device, found by search as an admin would, changes with every ingested batch.
        var page = await browser.NewPageAsync();
        var mac = Mac(0, 4242);
        await page.GotoAsync(_api.Url + "?q=" + mac);
        await Assertions.Expect(page.Locator("[data-testid=device-count]")).ToContainTextAsync($"1 of {Devices:#,0} devices");
        await Assertions.Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        var latencies = new List<double>();
        var phase = (BootPhase)(4242 % 5);
        for (var i = 0; i < 10; i++)
        {
            phase = (BootPhase)(((int)phase + 1) % 5);
            var change = Entered(keys[0], mac, phase, DateTimeOffset.UtcNow, Guid.NewGuid());
            var clock = Stopwatch.StartNew();
            await _api.IngestAsync(keys[0], [change]);
            await page.Locator($"[data-mac='{mac}'][data-phase={phase}]").WaitForAsync(new() { Timeout = 10_000 });
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }
        await Browser.ScreenshotAsync(page, "fleet-10000-search");
        latencies.Sort();
        var median = latencies[latencies.Count / 2];

        Report(
            $"{DateTime.UtcNow:u} storage={_api.Storage} devices={Devices}",
            $"  fleet page first load (new browser context, empty cache): {cold.TotalSeconds:0.00} s",
            $"  fleet page load again (new context, same browser):        {warm.TotalSeconds:0.00} s",
            $"  the API alone, 20 pages of 500 devices one after another:  {apiTime.TotalSeconds:0.00} s",
            $"  ingest -> row change (10 changes): median {median:0} ms, min {latencies[0]:0} ms, max {latencies[^1]:0} ms");
        Assert.True(median <= LatencyTarget.TotalMilliseconds, $"median ingest-to-row latency {median:0} ms is above {LatencyTarget.TotalMilliseconds} ms");
        Assert.True(cold < TimeSpan.FromSeconds(60), $"first load took {cold}");
    }

    /// <summary>From navigation to the grid's count saying all devices are there, in a fresh context (no cache).</summary>
    private async Task<TimeSpan> FirstLoadAsync()
    {
        var page = await browser.NewPageAsync();
        var clock = Stopwatch.StartNew();
        await page.GotoAsync(_api.Url.ToString());
        await Assertions.Expect(page.Locator("[data-testid=device-count]"))
            .ToContainTextAsync($"{Devices:#,0} of {Devices:#,0} devices", new() { Timeout = 60_000 });
        var elapsed = clock.Elapsed;
        await Assertions.Expect(page.Locator("[data-mac]").First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "fleet-10000");
        await page.Context.CloseAsync();
        return elapsed;
    }

    private PhaseEnteredEvent Entered(string key, string mac, BootPhase phase, DateTimeOffset started, Guid session)
    {
        var sequence = _sequences[key] = _sequences.GetValueOrDefault(key) + 1;
        var phases = Enumerable.Range(0, (int)phase + 1).Select(p => new PhaseTiming
        {
            Phase = (BootPhase)p,
            StartedAt = started.AddSeconds(p * 2),
            EndedAt = p < (int)phase ? started.AddSeconds((p * 2) + 2) : null,
            Retries = p == 0 ? 1 : 0,
        }).ToList();
        return new PhaseEnteredEvent
        {
            Sequence = sequence,
            Timestamp = started.AddSeconds((int)phase * 2),
            Phase = phase,
            Session = new SessionSnapshot
            {
                SessionId = session, Mac = mac, Ip = "10.50." + (mac.GetHashCode(StringComparison.Ordinal) & 0xff).ToString(CultureInfo.InvariantCulture) + ".9",
                Firmware = Firmware.Uefi, BootFile = "pvsnbpx64.efi", HostName = phase == BootPhase.BniStack ? "VDA-" + mac[^5..].Replace(":", "", StringComparison.Ordinal) : null,
                Phase = phase, Outcome = BootOutcome.InProgress, StartedAt = started, Phases = phases,
            },
        };
    }

    private static string Mac(int site, int i) => string.Create(CultureInfo.InvariantCulture, $"02:00:{site:x2}:00:{i >> 8:x2}:{i & 0xff:x2}");

    private void Report(params string[] lines)
    {
        foreach (var line in lines)
            output.WriteLine(line);
        File.AppendAllLines(Path.Combine(Repo.Results("."), "measurements.txt"), lines);
    }
}
