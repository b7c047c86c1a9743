using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PvsFleet.Contracts.Queries;
using PvsFleet.EndToEnd.Tests.Support;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>The dashboard in a real Chromium against the real API, fed by the collector replaying real captures.</summary>
[Collection(BrowserTests.Name)]
public sealed partial class DashboardTests(Browser browser) : IAsyncLifetime
{
    private readonly FleetServer api = new();

    public Task InitializeAsync() => this.api.InitializeAsync();

    public Task DisposeAsync() => this.api.DisposeAsync();

    private const string BiosMac = "52:54:00:00:00:01";

    [Fact]
    public async Task A_booting_device_appears_on_the_fleet_page_live_without_reload()
    {
        var key = await this.api.AddCollectorAsync("Lab-Live", "pvs-live");
        var page = await browser.NewPageAsync();
        await page.GotoAsync(this.api.Url + "?site=Lab-Live");
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=empty], [data-testid=no-match]")).ToBeVisibleAsync();
        // A reload would lose this mark.
        await page.EvaluateAsync("() => window.__notReloaded = true");

        await Collector.ReplayAsync(this.api, key, Repo.Capture("real-bios-1.pcap"));

        var row = page.Locator($"[data-mac='{BiosMac}']");
        await Expect(row).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"), "the page was reloaded");
        await Expect(page.Locator(".site-card[data-site=Lab-Live]")).ToContainTextAsync("1 device");
        await Browser.ScreenshotAsync(page, "fleet-device-appears-live");
    }

    [Fact]
    public async Task A_stuck_boot_raises_an_alert_that_shows_live_and_is_acknowledged_with_one_click()
    {
        var key = await this.api.AddCollectorAsync("Lab-Alerts", "pvs-alerts");
        var page = await browser.NewPageAsync();
        await page.GotoAsync(this.api.Url + "alerts?site=Lab-Alerts");
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=empty]")).ToBeVisibleAsync();

        // The UEFI device downloads its bootstrap, which never starts: no progress after that, so it is stuck.
        await Collector.ReplayAsync(this.api, key, Repo.Capture("real-uefi-1.pcap"));

        var alert = page.Locator("[data-alert][data-state=Open]").First;
        await Expect(alert).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(alert).ToContainTextAsync("stuck");
        var id = await alert.GetAttributeAsync("data-alert");
        await Browser.ScreenshotAsync(page, "alerts-open");

        await alert.Locator("[data-testid=acknowledge]").ClickAsync();

        // It leaves the open alerts (at once or with the live reload) and is found under Acknowledged.
        await Expect(page.Locator($"[data-alert='{id}'][data-state=Open]")).ToHaveCountAsync(0);
        await page.Locator("[role=tab][data-state=acknowledged]").ClickAsync();
        await Expect(page.Locator($"[data-alert='{id}'][data-state=Acknowledged]")).ToBeVisibleAsync();
        var stored = await this.api.GetAsync<Paged<AlertView>>("api/v1/alerts?state=acknowledged");
        Assert.Contains(stored.Items, a => a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) == id);
        await Browser.ScreenshotAsync(page, "alerts-acknowledged");
    }

    [Fact]
    public async Task The_device_timeline_draws_every_phase_of_a_full_boot()
    {
        var key = await this.api.AddCollectorAsync("Lab-Timeline", "pvs-timeline");
        var storm = await Collector.SimulateAsync(devices: 1);
        await Collector.ReplayAsync(this.api, key, storm);
        var device = (await this.api.GetAsync<Paged<DeviceView>>("api/v1/devices?site=Lab-Timeline")).Items.Single();
        Assert.Equal(PvsFleet.Contracts.BootOutcome.Booted, device.Outcome);

        var page = await browser.NewPageAsync();
        await page.GotoAsync(this.api.Url + "devices/" + device.Mac);

        var bars = page.Locator("[data-testid=phase-bar]");
        await Expect(bars).ToHaveCountAsync(5);
        foreach (var phase in Enum.GetNames<PvsFleet.Contracts.BootPhase>())
        {
            var bar = page.Locator($".wf-row[data-phase={phase}][data-reached=true] [data-testid=phase-bar]");
            await Expect(bar).ToBeVisibleAsync();
            // The server-rendered page is replaced when the browser's runtime takes over: measure the bar that stays.
            var box = await bar.BoundingBoxAsync();
            for (var attempt = 0; attempt < 50 && box is not { Width: > 0, Height: > 0 }; attempt++)
            {
                await Task.Delay(100);
                box = await bar.BoundingBoxAsync();
            }

            Assert.True(box is { Width: > 0, Height: > 0 }, $"{phase} bar has no size");
        }
        await Browser.ScreenshotAsync(page, "device-timeline");
    }

    [Fact]
    public async Task Every_page_shows_real_data_in_dark_mode_without_an_error()
    {
        var key = await this.api.AddCollectorAsync("Lab-Pages", "pvs-pages");
        var storm = await Collector.SimulateAsync(devices: 12, failureShare: 0.25);
        // One replay per recording: --shift-to-now moves a run by its first file's start.
        await Collector.ReplayAsync(this.api, key, storm);
        await Collector.ReplayAsync(this.api, key, Repo.Capture("real-bios-1.pcap"));
        var page = await browser.NewPageAsync(dark: true);
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
                errors.Add(m.Text);
        };

        await page.GotoAsync(this.api.Url + "?sort=duration&dir=desc");
        await OrScreenshot(page, "fleet-dark", () => Expect(page.Locator("[data-mac]").First).ToBeVisibleAsync());
        await Browser.ScreenshotAsync(page, "fleet-dark");

        await page.GotoAsync(this.api.Url + "history?site=Lab-Pages&days=1");
        await Expect(page.Locator("[data-testid=phase-breakdown], [data-testid=empty]").First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "history-dark");

        await page.GotoAsync(this.api.Url + "collectors");
        await Expect(page.Locator("[data-collector=pvs-pages]")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "collectors-dark");

        await page.GotoAsync(this.api.Url + "alerts?state=all");
        await Expect(page.Locator("[data-testid=alerts], [data-testid=empty]").First).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "alerts-dark");

        Assert.Empty(await page.Locator("[data-testid=api-error]").AllInnerTextsAsync());
        Assert.DoesNotContain(errors, e => !NoisyConsole().IsMatch(e));
    }

    // Chromium logs failed favicon fetches; nothing of ours.
    [GeneratedRegex("favicon", RegexOptions.IgnoreCase)]
    private static partial Regex NoisyConsole();

    /// <summary>A failed expectation leaves a FAILED- screenshot beside the others: what the browser showed.</summary>
    private static async Task OrScreenshot(IPage page, string name, Func<Task> expectation)
    {
        try
        {
            await expectation();
        }
        catch (PlaywrightException)
        {
            await Browser.ScreenshotAsync(page, "FAILED-" + name);
            throw;
        }
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
