using Microsoft.Playwright;
using PvsFleet.EndToEnd.Tests.Support;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>The dashboard of <c>--demo</c>, as a newcomer sees it after the quick start.</summary>
[Collection(BrowserTests.Name)]
public sealed class DemoDashboardTests(Browser browser) : IAsyncLifetime
{
    private readonly FleetServer api = new(null, "--demo");

    public Task InitializeAsync() => api.InitializeAsync();

    public Task DisposeAsync() => api.DisposeAsync();

    [Fact]
    public async Task The_demo_shows_three_sites_six_collectors_a_30_day_history_trend_a_slow_server_and_its_storms()
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync(api.Url.ToString());
        foreach (var site in new[] { "hq", "branch-east", "branch-west" })
            await Expect(page.Locator($".site-card[data-site='{site}']")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.Locator(".site-card")).ToHaveCountAsync(3);
        await Expect(page.Locator("[data-mac]").First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "demo-fleet");

        await page.GotoAsync(api.Url + "collectors");
        var active = page.Locator("tr[data-collector]:not([data-status=revoked])");
        await Expect(active).ToHaveCountAsync(6, new() { Timeout = 60_000 });
        await Browser.ScreenshotAsync(page, "demo-collectors");

        await page.GotoAsync(api.Url + "history?days=30");
        var chart = page.Locator("[data-testid=percentile-chart]");
        await Expect(chart).ToBeVisibleAsync();
        // One point per day with boots: the history's days in the range (the oldest one's morning may fall before it) and today's.
        var points = await chart.Locator("polyline[data-series=p50]").GetAttributeAsync("points");
        Assert.NotNull(points);
        var days = points.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.True(days >= 29, $"the History chart has {days} points");
        await Expect(page.Locator("[data-testid=phase-breakdown]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=slowest] tbody tr").First).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=loading]")).ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "demo-history-30-days");

        // hq's second PVS server has logged devices on slowly since the bad day: the week's breakdown marks it, with its ratio.
        await page.GotoAsync(api.Url + "history?site=hq");
        var slow = page.Locator("[data-testid=breakdown-table] tr[data-group='10.20.0.21']");
        await Expect(slow).ToHaveAttributeAsync("data-slow", "true", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=breakdown-table] tr[data-group='10.20.0.10']")).ToHaveAttributeAsync("data-slow", "false");
        await Expect(slow.Locator("td[data-phase=PvsLogon] .ratio-slow")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "breakdown");
        // The rows above are already in the prerendered page; a choice made before the WebAssembly app takes over is lost.
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.SelectOptionAsync("[data-testid=breakdown-by]", "BootFile");
        await page.WaitForURLAsync("**by=BootFile*");
        await Expect(page.Locator("[data-testid=breakdown-table] tr[data-group='ARDBP32.bin']")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=breakdown-table] tr[data-group='pvsnbpx64.efi']")).ToBeVisibleAsync();

        // The capacity view, over three days: at least two of the history's morning storms, and the live storms.
        await page.Locator("[data-testid=nav-capacity]").ClickAsync();
        await page.WaitForURLAsync("**/capacity");
        await Expect(page.Locator("[data-testid=capacity-series]").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.SelectOptionAsync("[data-testid=filter-hours]", "72");
        await page.WaitForURLAsync("**/capacity?hours=72");
        var hq = page.Locator("[data-testid=capacity-series][data-site=hq][data-server='']");
        await Expect(hq).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=capacity-series][data-site=hq][data-server='10.20.0.10']")).ToBeVisibleAsync();
        var peak = await hq.Locator("[data-testid=peak-booting] b").First.InnerTextAsync();
        Assert.True(int.Parse(peak.Split('/')[0].Trim(), System.Globalization.CultureInfo.InvariantCulture) >= 3, $"hq's peak is {peak}");
        Assert.True(await hq.Locator("[data-testid=time-to-boot] tbody tr").CountAsync() >= 2);
        await Expect(page.Locator("[data-testid=loading]")).ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "capacity");

        await page.GotoAsync(api.Url + "attention");
        await Expect(page.Locator("[data-testid=attention-item]").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Browser.ScreenshotAsync(page, "demo-needs-attention");
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
