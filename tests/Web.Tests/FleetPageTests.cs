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
        Api.Json("api/v1/sites", new List<SiteView>
        {
            Counted("HQ", devices: 2, openAlerts: 2, inPhase: (BootPhase.PvsLogon, 1)),
            Counted("Branch", devices: 1, stuck: 1, inPhase: (BootPhase.IpAcquisition, 1)),
        });
        Api.Json("api/v1/devices", Page(
            Device("52:54:00:00:00:01", phase: BootPhase.PvsLogon, host: "vda-01", ip: "10.1.1.10", startedSecondsAgo: 75, retries: 3),
            Device("52:54:00:00:00:02", phase: BootPhase.BniStack, outcome: BootOutcome.Booted),
            Device("52:54:00:00:00:03", site: "Branch", phase: BootPhase.IpAcquisition, outcome: BootOutcome.Stuck)));

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
        Assert.Contains("3 of 3 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal);
        Assert.Contains("HQ", Live.Watched);
    }

    [Fact]
    public void Filters_and_sort_from_the_address_go_to_the_server_and_its_order_is_kept()
    {
        Api.Json("api/v1/sites", new List<SiteView> { Counted("HQ", devices: 4), Counted("Branch", devices: 1) });
        Api.Json("api/v1/devices", new Paged<DeviceView>(
            [Device("52:54:00:00:00:02", startedSecondsAgo: 50), Device("52:54:00:00:00:03", startedSecondsAgo: 20), Device("52:54:00:00:00:01", startedSecondsAgo: 5)],
            1, 100, 3));
        GoTo("/?site=HQ&phase=BootstrapDownload&sort=duration&dir=desc");

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Equal(
            ["52:54:00:00:00:02", "52:54:00:00:00:03", "52:54:00:00:00:01"],
            page.FindAll("[data-mac]").Select(r => r.GetAttribute("data-mac")!)));
        Assert.Contains("3 of 5 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal);
        var query = LastDevicesQuery();
        Assert.Equal("HQ", query["site"]);
        Assert.Equal("BootstrapDownload", query["phase"]);
        Assert.Equal("duration", query["sort"]);
        Assert.Equal("desc", query["dir"]);
        Assert.Equal("100", query["pageSize"]);
    }

    [Fact]
    public void Search_text_goes_to_the_server_and_is_written_to_the_address()
    {
        var all = new[] { Device("52:54:00:ab:cd:01", host: "VDA-Sales-7"), Device("52:54:00:00:00:02", ip: "10.1.1.77") };
        Api.Json("api/v1/sites", new List<SiteView> { Counted("HQ", devices: 2) });
        // The server's matching, as far as this test needs it: host name or IP contains the text.
        Api.Json("api/v1/devices", r =>
        {
            var q = HttpUtility.ParseQueryString(r.RequestUri!.Query);
            var text = q["q"];
            var outcome = q["outcome"];
            var items = all.Where(d => (text is null || (d.HostName ?? "").Contains(text, StringComparison.OrdinalIgnoreCase) || (d.LastIp ?? "").Contains(text, StringComparison.Ordinal))
                && (outcome is null || d.Outcome.ToString() == outcome)).ToList();
            return new Paged<DeviceView>(items, 1, 100, items.Count);
        });
        GoTo("/?q=sales");
        var page = Render<Fleet>();
        page.WaitForAssertion(() => Assert.Equal("52:54:00:ab:cd:01", Assert.Single(page.FindAll("[data-mac]")).GetAttribute("data-mac")));
        Assert.Contains("1 of 2 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal);

        GoTo("/?q=10.1.1.77");
        page.WaitForAssertion(() => Assert.Equal("52:54:00:00:00:02", Assert.Single(page.FindAll("[data-mac]")).GetAttribute("data-mac")));
        Assert.Equal("10.1.1.77", LastDevicesQuery()["q"]);

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
    public void A_live_change_moves_a_visible_row_at_once_and_a_new_device_and_the_counts_follow_by_reload()
    {
        var devices = new List<DeviceView> { Device("52:54:00:00:00:01", phase: BootPhase.BootstrapDownload) };
        var sites = new List<SiteView> { Counted("HQ", devices: 1, inPhase: (BootPhase.BootstrapDownload, 1)) };
        Api.Json("api/v1/sites", _ => sites);
        Api.Json("api/v1/devices", _ => new Paged<DeviceView>([.. devices], 1, 100, devices.Count));
        var page = Render<Fleet>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-mac]")));
        var requests = Api.Count("api/v1/devices");

        // The server stores the change before it pushes it: a reload from now on has it too.
        devices[0] = Device("52:54:00:00:00:01", phase: BootPhase.PvsLogon, retries: 4);
        Live.Push(Change("52:54:00:00:00:01", BootPhase.PvsLogon, retries: 4));
        page.WaitForAssertion(() => Assert.Equal("PvsLogon", page.Find("[data-mac='52:54:00:00:00:01']").GetAttribute("data-phase")));
        Assert.Equal("4", page.Find("[data-mac='52:54:00:00:00:01']").QuerySelectorAll("[role=cell]")[7].TextContent.Trim());

        // A device the page does not show: the server has it (and the new counts) by the time the page reloads.
        devices.Add(Device("52:54:00:00:00:09", phase: BootPhase.IpAcquisition));
        sites = [Counted("HQ", devices: 2, inPhase: (BootPhase.PvsLogon, 1))];
        Live.Push(Change("52:54:00:00:00:09", BootPhase.IpAcquisition));

        Eventually(() => Assert.Equal("IpAcquisition", page.Find("[data-mac='52:54:00:00:00:09']").GetAttribute("data-phase")));
        Assert.Contains("2 of 2 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal);
        Assert.Equal("1", page.Find(".site-card[data-site=HQ] .phase-count[data-phase=PvsLogon] b").TextContent);
        Assert.True(Api.Count("api/v1/devices") > requests);
    }

    [Fact]
    public void A_change_pushed_while_the_page_loads_is_applied_once_the_load_is_in()
    {
        Fleet(Device("52:54:00:00:00:01", phase: BootPhase.BootstrapDownload));
        var gate = Api.Hold("api/v1/devices");
        var page = Render<Fleet>();
        Assert.NotNull(page.Find("[data-testid=loading]"));

        // Subscribed before the load: the change is kept, and wins over the older state the load returns.
        Live.Push(Change("52:54:00:00:00:01", BootPhase.SingleReadMode));
        gate.SetResult();

        page.WaitForAssertion(() => Assert.Equal("SingleReadMode", page.Find("[data-mac='52:54:00:00:00:01']").GetAttribute("data-phase")));
    }

    [Fact]
    public void Reloads_what_it_loaded_before_the_hub_was_live_once_it_is()
    {
        var phase = BootPhase.BootstrapDownload;
        Api.Json("api/v1/sites", new List<SiteView> { Counted("HQ", devices: 1) });
        Api.Json("api/v1/devices", _ => Page(Device("52:54:00:00:00:01", phase: phase)));
        var page = Render<Fleet>();
        page.WaitForAssertion(() => Assert.Equal("BootstrapDownload", page.Find("[data-mac='52:54:00:00:00:01']").GetAttribute("data-phase")));

        // The device moved on before the hub connected: nothing was pushed, so the page asks again.
        phase = BootPhase.PvsLogon;
        Live.Set(PvsFleet.Web.Services.LiveState.Live);

        page.WaitForAssertion(() => Assert.Equal("PvsLogon", page.Find("[data-mac='52:54:00:00:00:01']").GetAttribute("data-phase")));
    }

    [Fact]
    public void Ten_thousand_devices_come_a_page_at_a_time_from_the_server()
    {
        var all = Enumerable.Range(0, 10_000).Select(i => Device($"52:54:00:{i >> 16:x2}:{(i >> 8) & 0xff:x2}:{i & 0xff:x2}")).ToList();
        Api.Json("api/v1/sites", new List<SiteView> { Counted("HQ", devices: all.Count) });
        Api.Json("api/v1/devices", r =>
        {
            var q = HttpUtility.ParseQueryString(r.RequestUri!.Query);
            var number = int.Parse(q["page"]!, System.Globalization.CultureInfo.InvariantCulture);
            var size = int.Parse(q["pageSize"]!, System.Globalization.CultureInfo.InvariantCulture);
            return new Paged<DeviceView>(all.Skip((number - 1) * size).Take(size).ToList(), number, size, all.Count);
        });

        var page = Render<Fleet>();

        page.WaitForAssertion(() => Assert.Contains("10,000 of 10,000 devices", page.Find("[data-testid=device-count]").TextContent, StringComparison.Ordinal));
        Assert.Equal(1, Api.Count("api/v1/devices"));
        Assert.Equal(PvsFleet.Web.Pages.Fleet.PageSize, page.FindAll("[data-mac]").Count);
        Assert.Contains("1–100", page.Find("[data-testid=pager]").TextContent, StringComparison.Ordinal);

        page.Find("[data-testid=page-next]").Click();

        Assert.Equal("2", HttpUtility.ParseQueryString(new Uri(NavigationUri).Query)["page"]);
        page.WaitForAssertion(() => Assert.Equal("52:54:00:00:00:64", page.FindAll("[data-mac]")[0].GetAttribute("data-mac")));
        Assert.Contains("101–200", page.Find("[data-testid=pager]").TextContent, StringComparison.Ordinal);
    }

    private System.Collections.Specialized.NameValueCollection LastDevicesQuery() =>
        HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath == "/api/v1/devices").RequestUri!.Query);

    private static SiteView Counted(string name, int devices, int openAlerts = 0, int stuck = 0, params (BootPhase Phase, int Count)[] inPhase) =>
        new(name, 1, 0, devices, Enum.GetValues<BootPhase>().ToDictionary(p => p, p => inPhase.Where(x => x.Phase == p).Sum(x => x.Count)), stuck, openAlerts);

    private string NavigationUri => Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri;

    private static SessionChange Change(string mac, BootPhase phase, int retries = 0) =>
        new("HQ", Guid.NewGuid(), mac, "10.1.1.5", null, phase, BootOutcome.InProgress,
            new DateTimeOffset(Now.AddSeconds(-3)), null, new DateTimeOffset(Now), retries);
}
