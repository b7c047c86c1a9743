using System.Net;
using System.Web;
using Microsoft.Extensions.DependencyInjection;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;

namespace PvsFleet.Web.Tests;

public sealed class FleetPageTests : PageTest
{
    private void Fleet(params DeviceView[] devices)
    {
        Api.Json("api/v1/sites", new List<SiteView> { Site("HQ", openAlerts: 2), Site("Branch") });
        Api.Json("api/v1/devices", Page(devices));
    }

    [Fact]
    public void Shows_progress_while_the_devices_load()
    {
        Fleet(Device("52:54:00:00:00:01"));
        var gate = Api.Hold("api/v1/devices");

        var page = Render<Fleet>();

        Assert.NotNull(page.Find("[data-testid=loading]"));
        gate.SetResult();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-mac]")));
    }

    [Fact]
    public void Says_no_device_has_booted_when_the_fleet_is_empty()
    {
        Fleet();

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Contains("No device has booted yet", page.Find("[data-testid=empty]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void Shows_site_cards_and_one_row_per_device_with_phase_outcome_duration_and_retries()
    {
        Fleet(
            Device("52:54:00:00:00:01", phase: BootPhase.PvsLogon, host: "vda-01", ip: "10.1.1.10", startedSecondsAgo: 75, retries: 3),
            Device("52:54:00:00:00:02", phase: BootPhase.BniStack, outcome: BootOutcome.Booted),
            Device("52:54:00:00:00:03", site: "Branch", phase: BootPhase.IpAcquisition, outcome: BootOutcome.Stuck));

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-mac]").Count));
        var row = page.Find("[data-mac='52:54:00:00:00:01']");
        Assert.Contains("vda-01", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("PVS logon", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 min 15 s", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("3", row.QuerySelectorAll("[role=cell]")[7].TextContent.Trim());
        var hq = page.Find(".site-card[data-site=HQ]");
        Assert.Equal("1", hq.QuerySelector(".phase-count[data-phase=PvsLogon] b")!.TextContent);
        Assert.Contains("2 alerts", hq.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 stuck", page.Find(".site-card[data-site=Branch]").TextContent, StringComparison.Ordinal);
        Assert.Contains("HQ", Live.Watched);
    }

    [Fact]
    public void Filters_and_sort_come_from_the_address_so_a_view_can_be_bookmarked()
    {
        Fleet(
            Device("52:54:00:00:00:01", startedSecondsAgo: 5),
            Device("52:54:00:00:00:02", startedSecondsAgo: 50),
            Device("52:54:00:00:00:03", startedSecondsAgo: 20),
            Device("52:54:00:00:00:04", phase: BootPhase.PvsLogon),
            Device("52:54:00:00:00:05", site: "Branch"));
        GoTo("/?site=HQ&phase=BootstrapDownload&sort=duration&dir=desc");

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Equal(
            ["52:54:00:00:00:02", "52:54:00:00:00:03", "52:54:00:00:00:01"],
            page.FindAll("[data-mac]").Select(r => r.GetAttribute("data-mac")!)));
        Assert.Contains("3 of 5 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_matches_a_mac_in_any_notation_an_ip_or_a_host_name_and_writes_it_to_the_address()
    {
        Fleet(Device("52:54:00:ab:cd:01", host: "VDA-Sales-7"), Device("52:54:00:00:00:02", ip: "10.1.1.77"));
        GoTo("/?q=52-54-00-AB");
        var page = Render<Fleet>();
        page.WaitForAssertion(() => Assert.Equal("52:54:00:ab:cd:01", Assert.Single(page.FindAll("[data-mac]")).GetAttribute("data-mac")));

        GoTo("/?q=sales");
        page.WaitForAssertion(() => Assert.Equal("52:54:00:ab:cd:01", Assert.Single(page.FindAll("[data-mac]")).GetAttribute("data-mac")));
        GoTo("/?q=10.1.1.77");
        page.WaitForAssertion(() => Assert.Equal("52:54:00:00:00:02", Assert.Single(page.FindAll("[data-mac]")).GetAttribute("data-mac")));

        page.Find("[data-testid=filter-outcome]").Change("Stuck");
        var query = HttpUtility.ParseQueryString(new Uri(NavigationUri).Query);
        Assert.Equal("Stuck", query["outcome"]);
        Assert.Equal("10.1.1.77", query["q"]);
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=no-match]")));
    }

    [Fact]
    public void Shows_the_api_error_instead_of_a_blank_page_and_retries()
    {
        Api.Json("api/v1/sites", new List<SiteView>());
        Api.Problem("api/v1/devices", HttpStatusCode.InternalServerError, "The database is not reachable.");

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Contains("The database is not reachable.", page.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
        Fleet(Device("52:54:00:00:00:01"));
        page.Find("[data-testid=retry]").Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-mac]")));
    }

    [Fact]
    public void A_live_change_adds_a_new_device_and_moves_a_known_one_without_reload()
    {
        Fleet(Device("52:54:00:00:00:01", phase: BootPhase.BootstrapDownload));
        var page = Render<Fleet>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-mac]")));
        var requests = Api.Count("api/v1/devices");

        Live.Push(Change("52:54:00:00:00:01", BootPhase.PvsLogon, retries: 4));
        page.WaitForAssertion(() => Assert.Equal("PvsLogon", page.Find("[data-mac='52:54:00:00:00:01']").GetAttribute("data-phase")));
        // Past the redraw throttle's interval, the next change shows at once too.
        Clock.Advance(TimeSpan.FromSeconds(1));
        Live.Push(Change("52:54:00:00:00:09", BootPhase.IpAcquisition));

        Eventually(() => Assert.Equal("IpAcquisition", page.Find("[data-mac='52:54:00:00:00:09']").GetAttribute("data-phase")));
        Assert.Contains("changed", page.Find("[data-mac='52:54:00:00:00:09']").ClassName, StringComparison.Ordinal);
        Assert.Equal("1", page.Find(".site-card[data-site=HQ] .phase-count[data-phase=PvsLogon] b").TextContent);
        Assert.Equal(requests, Api.Count("api/v1/devices"));
    }

    [Fact]
    public void Ten_thousand_devices_load_in_pages_and_only_the_visible_rows_are_drawn()
    {
        var all = Enumerable.Range(0, 10_000).Select(i => Device($"52:54:00:{i >> 16:x2}:{(i >> 8) & 0xff:x2}:{i & 0xff:x2}")).ToList();
        Api.Json("api/v1/sites", new List<SiteView> { Site("HQ") });
        Api.Json("api/v1/devices", r =>
        {
            var q = HttpUtility.ParseQueryString(r.RequestUri!.Query);
            var number = int.Parse(q["page"]!, System.Globalization.CultureInfo.InvariantCulture);
            var size = int.Parse(q["pageSize"]!, System.Globalization.CultureInfo.InvariantCulture);
            return new Paged<DeviceView>(all.Skip((number - 1) * size).Take(size).ToList(), number, size, all.Count);
        });

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Contains("10,000 of 10,000 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal),
            TimeSpan.FromSeconds(10));
        Assert.Equal(20, Api.Count("api/v1/devices"));
        Assert.InRange(page.FindAll("[data-mac]").Count, 1, 200);
    }

    private string NavigationUri => Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri;

    private static SessionChange Change(string mac, BootPhase phase, int retries = 0) =>
        new("HQ", Guid.NewGuid(), mac, "10.1.1.5", null, phase, BootOutcome.InProgress,
            new DateTimeOffset(Now.AddSeconds(-3)), null, new DateTimeOffset(Now), retries);
}
