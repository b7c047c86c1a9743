using Microsoft.Extensions.DependencyInjection;
using System.Web;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;

namespace PvsFleet.Web.Tests;

public sealed class BreakdownAndCapacityPageTests : PageTest
{
    public BreakdownAndCapacityPageTests()
    {
        Api.Json("api/v1/sites", new List<SiteView> { Site("HQ"), Site("Branch") });
        Api.Json("api/v1/stats/boot-durations", r =>
        {
            var phase = HttpUtility.ParseQueryString(r.RequestUri!.Query)["phase"];
            BootPhase? p = phase is null ? null : Enum.Parse<BootPhase>(phase);
            return new BootDurationStats(null, Now.AddDays(-7), Now, "hour", p, new DurationStats(60, 40_000, 60_000, 90_000, 120_000),
                [new(Now.AddHours(-1), new DurationStats(60, 40_000, 60_000, 90_000, 120_000))]);
        });
        Api.Json("api/v1/stats/slowest-devices", new List<SlowDevice>());
    }

    private static PhaseBreakdown Phase(BootPhase phase, double p50, double? ratio) =>
        new(phase, new DurationStats(10, p50, p50 * 1.5, p50 * 2, p50 * 2), 0, ratio);

    private void Breakdown(BreakdownBy by) => Api.Json("api/v1/stats/breakdown", new ServerBreakdown(by, null, Now.AddDays(-7), Now, 20, 2.0,
    [
        new("10.0.0.11", 30, 30, 0, 0, 0, 3, new DurationStats(30, 40_000, 50_000, 60_000, 61_000), 1.0, true,
            [Phase(BootPhase.PvsLogon, 1_000, 1.0), Phase(BootPhase.SingleReadMode, 30_000, 1.0)]),
        new("10.0.0.12", 25, 20, 0, 5, 0, 60, new DurationStats(20, 44_000, 58_000, 70_000, 71_000), 1.1, true,
            [Phase(BootPhase.PvsLogon, 4_100, 4.1), Phase(BootPhase.SingleReadMode, 31_000, 1.03)]),
        new("10.0.0.13", 4, 4, 0, 0, 0, 0, new DurationStats(4, 90_000, 95_000, 99_000, 99_000), null, false,
            [Phase(BootPhase.PvsLogon, 9_000, null)]),
    ]));

    [Fact]
    public void History_breaks_boots_down_by_server_and_marks_the_slow_one_with_its_ratio()
    {
        Breakdown(BreakdownBy.PvsServer);
        GoTo("/history?site=HQ");

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=breakdown-table] tbody tr").Count));
        var slow = page.Find("tr[data-group='10.0.0.12']");
        Assert.Equal("true", slow.GetAttribute("data-slow"));
        Assert.Contains("4.1×", slow.QuerySelector("td[data-phase=PvsLogon]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("ratio-slow", slow.QuerySelector("td[data-phase=PvsLogon] .ratio")!.ClassName, StringComparison.Ordinal);
        Assert.Equal("false", page.Find("tr[data-group='10.0.0.11']").GetAttribute("data-slow"));
        // Too few boots: shown, said so, never marked slow even with a long median.
        var few = page.Find("tr[data-group='10.0.0.13']");
        Assert.Equal("false", few.GetAttribute("data-slow"));
        Assert.NotNull(few.QuerySelector("[data-testid=few-boots]"));
        Assert.Contains("5 (20%)", slow.TextContent, StringComparison.Ordinal);
        var query = HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath.EndsWith("breakdown", StringComparison.Ordinal)).RequestUri!.Query);
        Assert.Equal("PvsServer", query["by"]);
        Assert.Equal("HQ", query["site"]);
    }

    [Fact]
    public void The_by_selector_asks_for_another_grouping()
    {
        Breakdown(BreakdownBy.BootFile);
        GoTo("/history?by=bootFile");

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=breakdown-table]")));
        Assert.Equal("BootFile", HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath.EndsWith("breakdown", StringComparison.Ordinal)).RequestUri!.Query)["by"]);
        Assert.Equal("Boot file", page.Find("[data-testid=breakdown-table] th").TextContent);
        page.Find("[data-testid=breakdown-by]").Change("Firmware");
        Assert.EndsWith("by=Firmware", Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri, StringComparison.Ordinal);
    }

    private static CapacitySeries Series(string? server, int booting, int limit) => new("HQ", server, server is null ? 2 : 1, limit, 168 * (server is null ? 2 : 1),
        new CapacityPeak(Now.AddHours(-1), booting), new CapacityPeak(Now.AddHours(-1), booting / 2),
        [.. Enumerable.Range(0, 24).Select(i => new CapacityPoint(Now.AddHours(i - 24), [1, 2, i == 23 ? booting - 3 : 0, 0, 0], i == 23 ? booting : 3, 1))],
        [new ConcurrencyBucket(1, 10, 40, 39, 40_000, 52_000), new ConcurrencyBucket(11, 20, 12, 10, 75_000, 98_000)]);

    [Fact]
    public void Capacity_shows_each_series_peak_against_its_limit_and_time_to_boot_by_concurrency()
    {
        Api.Json("api/v1/stats/capacity", new CapacityView(null, Now.AddDays(-1), Now, 3600, new CapacityLimits(500, 21, 8),
            [Series(null, 820, 1000), Series("10.0.0.11", 90, 500)]));

        var page = Render<Capacity>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=capacity-series]").Count));
        var site = page.FindAll("[data-testid=capacity-series]")[0];
        Assert.Contains("820 / 1000", site.QuerySelector("[data-testid=peak-booting]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("82%", site.QuerySelector("[data-testid=peak-booting]")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(site.QuerySelector("[data-testid=peak-booting] .near-limit"));
        Assert.NotNull(site.QuerySelector("line[data-limit=boot]"));
        var server = page.FindAll("[data-testid=capacity-series]")[1];
        Assert.Null(server.QuerySelector("[data-testid=peak-booting] .near-limit"));
        Assert.Null(server.QuerySelector("line[data-limit=boot]"));
        Assert.Contains("Logon 817", site.QuerySelector("[data-testid=phase-peaks]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(2, site.QuerySelectorAll("[data-testid=time-to-boot] tbody tr").Length);
        var busy = site.QuerySelectorAll("[data-testid=time-to-boot] tbody tr")[1].TextContent;
        Assert.Contains("11–20", busy, StringComparison.Ordinal);
        Assert.Contains(PvsFleet.Web.Services.Format.Duration(75_000.0), busy, StringComparison.Ordinal);
        Assert.Contains("MaxBootDevicesAllowed 500", page.Find("[data-testid=limits]").TextContent, StringComparison.Ordinal);
        Assert.Equal(2, site.QuerySelectorAll("polyline[data-series]").Length);
    }

    [Fact]
    public void Capacity_says_so_when_nothing_booted_and_shows_errors()
    {
        Api.Json("api/v1/stats/capacity", new CapacityView("HQ", Now.AddDays(-1), Now, 300, new CapacityLimits(500, 21, 8), []));
        GoTo("/capacity?site=HQ&hours=6");

        var page = Render<Capacity>();

        page.WaitForAssertion(() => Assert.Contains("No boots on HQ", page.Find("[data-testid=empty]").TextContent, StringComparison.Ordinal));
        var query = HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath.EndsWith("capacity", StringComparison.Ordinal)).RequestUri!.Query);
        var from = DateTimeOffset.Parse(query["from"]!, System.Globalization.CultureInfo.InvariantCulture);
        var to = DateTimeOffset.Parse(query["to"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(TimeSpan.FromHours(6), to - from);
    }
}
