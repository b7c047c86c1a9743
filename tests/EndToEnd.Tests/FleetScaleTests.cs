using PvsFleet.Contracts;
using PvsFleet.EndToEnd.Tests.Support;
using Microsoft.Playwright;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>
/// The fleet page with 10,000 devices over two sites: the server's count and one page of rows, and a searched device's
/// row following ingested changes. How fast is measured by bench/dashboard-latency.sh, not here.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class FleetScaleTests(Browser browser) : IAsyncLifetime
{
    private const int Devices = 10_000;

    private readonly FleetServer api = new();
    private readonly SyntheticBoots boots = new();

    public Task InitializeAsync() => api.InitializeAsync();

    public Task DisposeAsync() => api.DisposeAsync();

    [Fact]
    public async Task Fleet_page_counts_10000_devices_shows_one_page_of_them_and_follows_a_searched_device_live()
    {
        var keys = new[] { await api.AddCollectorAsync("Storm-A", "pvs-a"), await api.AddCollectorAsync("Storm-B", "pvs-b") };
        await boots.IngestFleetAsync(api, keys[0], 0, 0, Devices / 2);
        await boots.IngestFleetAsync(api, keys[1], 1, 0, Devices / 2);

        var page = await browser.NewPageAsync();
        await page.GotoAsync(api.Url.ToString());
        await Assertions.Expect(page.Locator("[data-testid=device-count]")).ToContainTextAsync($"{Devices:#,0} of {Devices:#,0} devices");
        // The browser holds one page, not the fleet.
        await Assertions.Expect(page.Locator("[data-mac]")).ToHaveCountAsync(100); // Fleet.PageSize
        await Assertions.Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=page-next]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=pager]")).ToContainTextAsync("101–200");
        await Browser.ScreenshotAsync(page, "fleet-10000");

        var mac = SyntheticBoots.Mac(0, 4242);
        await page.GotoAsync(api.Url + "?q=" + mac);
        await Assertions.Expect(page.Locator("[data-testid=device-count]")).ToContainTextAsync($"1 of {Devices:#,0} devices");
        await Assertions.Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        var session = Guid.NewGuid();
        var started = DateTimeOffset.UtcNow;
        foreach (var phase in new[] { BootPhase.BootstrapDownload, BootPhase.PvsLogon, BootPhase.SingleReadMode, BootPhase.BniStack })
        {
            await api.IngestAsync(keys[0], [boots.Entered(keys[0], mac, phase, started, session)]);
            await page.Locator($"[data-mac='{mac}'][data-phase={phase}]").WaitForAsync(new() { Timeout = 10_000 });
        }
        await Browser.ScreenshotAsync(page, "fleet-10000-search");
    }
}
