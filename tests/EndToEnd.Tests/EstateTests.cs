using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.EndToEnd.Tests.Support;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>
/// What an admin meets first: the needs-attention view, times that make sense whatever the collector's clock says,
/// and a page that is right even when a device changes while the page is still starting.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed partial class EstateTests(Browser browser) : IAsyncLifetime
{
    // A collector silent for 3 s counts as silent here, so the test need not wait the default 2 minutes.
    private readonly FleetServer api = new(new Dictionary<string, string> { ["PvsFleet__Alerts__CollectorSilentAfter"] = "00:00:03" });
    private readonly SyntheticBoots boots = new();

    public Task InitializeAsync() => api.InitializeAsync();

    public Task DisposeAsync() => api.DisposeAsync();

    [Fact]
    public async Task Needs_attention_lists_stuck_failed_and_looping_boots_and_silent_collectors_longest_waiting_first()
    {
        var key = await api.AddCollectorAsync("Lab-Attention", "pvs-attention");
        var quiet = await api.AddCollectorAsync("Lab-Quiet", "pvs-quiet");
        var now = DateTimeOffset.UtcNow;
        var stuck = SyntheticBoots.Mac(1, 1);
        var failed = SyntheticBoots.Mac(1, 2);
        var looping = SyntheticBoots.Mac(1, 3);
        var fine = SyntheticBoots.Mac(1, 4);
        var events = new List<IngestEvent>
        {
            Ended(key, stuck, BootPhase.PvsLogon, now.AddMinutes(-9), BootOutcome.Stuck),
            Ended(key, failed, BootPhase.BootstrapDownload, now.AddMinutes(-2), BootOutcome.Failed),
            this.boots.Entered(key, fine, BootPhase.SingleReadMode, now.AddSeconds(-5), Guid.NewGuid()),
        };
        // Four boots in 20 minutes, none reaching BNIStack: a loop.
        for (var i = 4; i >= 1; i--)
            events.Add(Ended(key, looping, BootPhase.SingleReadMode, now.AddMinutes(-5 * i), BootOutcome.Failed));
        await api.IngestAsync(key, events);
        await api.IngestAsync(quiet, [this.boots.Entered(quiet, SyntheticBoots.Mac(2, 1), BootPhase.BniStack, now.AddMinutes(-1), Guid.NewGuid())]);
        await Task.Delay(TimeSpan.FromSeconds(4));

        var page = await browser.NewPageAsync();
        await page.GotoAsync(api.Url.ToString());
        await page.Locator("[data-testid=nav-attention]").ClickAsync();

        var items = page.Locator("[data-testid=attention-item]");
        await Expect(page.Locator($"[data-testid=attention-item][data-kind=Stuck][data-mac='{stuck}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"[data-testid=attention-item][data-kind=Failed][data-mac='{failed}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"[data-testid=attention-item][data-kind=Looping][data-mac='{looping}']")).ToBeVisibleAsync();
        await Expect(page.Locator(".attention-site[data-site=Lab-Quiet] [data-testid=attention-item][data-kind=CollectorSilent]")).ToBeVisibleAsync();
        await Expect(page.Locator($"[data-testid=attention-item][data-mac='{fine}']")).ToHaveCountAsync(0);
        // Longest waiting first: within the site, the looping device (first boot 20 min ago), then the stuck one (9 min).
        var order = await page.Locator(".attention-site[data-site=Lab-Attention] [data-testid=attention-item]").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => r.dataset.kind)");
        Assert.Equal(["Looping", "Stuck"], order.Take(2));
        await Browser.ScreenshotAsync(page, "needs-attention");

        // One click from the device.
        await page.Locator($"[data-testid=attention-item][data-kind=Stuck] a").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/devices/" + Regex.Escape(stuck)));
        await Expect(page.Locator("[data-testid=waterfall]")).ToBeVisibleAsync();
        Assert.True(await items.CountAsync() >= 0);
    }

    [Fact]
    public async Task No_duration_is_negative_with_a_collector_clock_30_s_ahead_and_unknown_ends_show_a_dash()
    {
        var key = await api.AddCollectorAsync("Lab-Skew", "pvs-skew");
        var ahead = DateTimeOffset.UtcNow.AddSeconds(30);
        var running = SyntheticBoots.Mac(3, 1);
        var booted = SyntheticBoots.Mac(3, 2);
        await api.IngestAsync(key,
        [
            this.boots.Entered(key, running, BootPhase.SingleReadMode, ahead, Guid.NewGuid()),
            BootedWithoutEnd(key, booted, ahead.AddMinutes(-3)),
        ]);

        var page = await browser.NewPageAsync();
        await page.GotoAsync(api.Url + "?site=Lab-Skew");
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await Expect(page.Locator($"[data-mac='{running}']")).ToBeVisibleAsync();
        // Let the running boot's duration tick a few times.
        await page.WaitForTimeoutAsync(2500);
        var fleetDurations = await page.Locator("[data-mac] [role=cell]:nth-child(7)").AllInnerTextsAsync();
        Assert.All(fleetDurations, d => Assert.DoesNotMatch(@"-\s*\d", d));
        Assert.Equal("–", (await page.Locator($"[data-mac='{booted}'] [role=cell]:nth-child(7)").InnerTextAsync()).Trim());
        await Browser.ScreenshotAsync(page, "skew-fleet");

        await page.GotoAsync(api.Url + "devices/" + running);
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=phase-bar]").First).ToBeVisibleAsync();
        await page.WaitForTimeoutAsync(1500);
        var texts = await page.Locator("[data-testid=sessions] td.num, .wf-text, .wf-tick").AllInnerTextsAsync();
        Assert.NotEmpty(texts);
        Assert.All(texts, t => Assert.DoesNotMatch(@"-\s*\d", t));
        // Axis ticks are round: a whole number of one unit each ("0 s", "5 s" …, never "0 ms 0 ms 1 ms").
        var ticks = await page.Locator(".wf-tick").AllInnerTextsAsync();
        Assert.All(ticks, t => Assert.Matches(@"^\d+ (ms|s|min|h)$", t.Trim()));
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        await Browser.ScreenshotAsync(page, "skew-device");
    }

    [Fact]
    public async Task A_device_whose_phase_changes_while_the_page_first_loads_shows_the_new_phase()
    {
        var key = await api.AddCollectorAsync("Lab-Race", "pvs-race");
        var mac = SyntheticBoots.Mac(4, 1);
        var session = Guid.NewGuid();
        var started = DateTimeOffset.UtcNow.AddSeconds(-10);
        await api.IngestAsync(key, [this.boots.Entered(key, mac, BootPhase.BootstrapDownload, started, session)]);

        var page = await browser.NewPageAsync();
        // Hold the browser app's start: the page is on screen as the server rendered it, not yet live.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(new Regex(@"_framework/blazor\.web(\.[a-z0-9]+)?\.js"), async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });
        await page.GotoAsync(api.Url + "?site=Lab-Race", new() { WaitUntil = WaitUntilState.Commit });
        await Expect(page.Locator($"[data-mac='{mac}'][data-phase=BootstrapDownload]")).ToBeVisibleAsync();

        // The device moves on while the page is still starting: nothing can push it to a page not yet connected.
        await api.IngestAsync(key, [this.boots.Entered(key, mac, BootPhase.PvsLogon, started, session)]);
        release.SetResult();

        await Expect(page.Locator($"[data-mac='{mac}'][data-phase=PvsLogon]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "phase-changed-during-first-load");
    }

    private SessionEndedEvent Ended(string key, string mac, BootPhase phase, DateTimeOffset started, BootOutcome outcome)
    {
        var entered = this.boots.Entered(key, mac, phase, started, Guid.NewGuid(), outcome);
        return new SessionEndedEvent
        {
            Sequence = entered.Sequence, Timestamp = entered.Timestamp, Outcome = outcome,
            Session = entered.Session with { EndedAt = outcome == BootOutcome.Stuck ? null : entered.Timestamp },
        };
    }

    private SessionEndedEvent BootedWithoutEnd(string key, string mac, DateTimeOffset started)
    {
        var entered = this.boots.Entered(key, mac, BootPhase.BniStack, started, Guid.NewGuid(), BootOutcome.Booted);
        return new SessionEndedEvent
        {
            Sequence = entered.Sequence, Timestamp = entered.Timestamp, Outcome = BootOutcome.Booted,
            Session = entered.Session with { EndedAt = null },
        };
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static IPageAssertions Expect(IPage page) => Assertions.Expect(page);
}
