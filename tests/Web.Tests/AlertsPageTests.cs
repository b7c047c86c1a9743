using System.Net;
using System.Web;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;

namespace PvsFleet.Web.Tests;

public sealed class AlertsPageTests : PageTest
{
    private static AlertView Alert(long id, AlertState state = AlertState.Open, AlertKind kind = AlertKind.StuckSession) =>
        new(id, "HQ", kind, state, $"52:54:00:00:00:0{id} is stuck in PvsLogon (no progress for 31 s).", Guid.NewGuid(), $"52:54:00:00:00:0{id}",
            BootPhase.PvsLogon, null, Now.AddMinutes(-id), state == AlertState.Acknowledged ? Now : null, state == AlertState.Acknowledged ? "admin" : null, null);

    public AlertsPageTests() => Api.Json("api/v1/sites", new List<SiteView> { Site("HQ"), Site("Branch") });

    [Fact]
    public void Shows_progress_while_loading_then_the_open_alerts()
    {
        Api.Json("api/v1/alerts", Page(Alert(1), Alert(2)));
        var gate = Api.Hold("api/v1/alerts");

        var page = Render<Alerts>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=loading]")));
        gate.SetResult();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-alert]").Count));
        Assert.Equal("open", HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath.EndsWith("alerts", StringComparison.Ordinal)).RequestUri!.Query)["state"]);
    }

    [Fact]
    public void Says_so_when_nothing_is_open()
    {
        Api.Json("api/v1/alerts", Page<AlertView>());

        var page = Render<Alerts>();

        page.WaitForAssertion(() => Assert.Contains("No open alert", page.Find("[data-testid=empty]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void Filters_come_from_the_address()
    {
        Api.Json("api/v1/alerts", Page(Alert(3, AlertState.Resolved)));
        GoTo("/alerts?state=resolved&site=Branch");

        var page = Render<Alerts>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-alert]")));
        var query = HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath.EndsWith("alerts", StringComparison.Ordinal)).RequestUri!.Query);
        Assert.Equal("resolved", query["state"]);
        Assert.Equal("Branch", query["site"]);
        Assert.Equal("true", page.Find("[data-state=resolved][role=tab]").GetAttribute("aria-selected"));
        Assert.Empty(page.FindAll("[data-testid=acknowledge]"));
    }

    [Fact]
    public void Acknowledges_with_one_click()
    {
        Api.Json("api/v1/alerts", Page(Alert(1)));
        Api.Json("api/v1/alerts/1/acknowledge", Alert(1, AlertState.Acknowledged), HttpMethod.Post);
        var page = Render<Alerts>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=acknowledge]")));

        page.Find("[data-testid=acknowledge]").Click();

        page.WaitForAssertion(() => Assert.Equal("Acknowledged", page.Find("[data-alert='1']").GetAttribute("data-state")));
        Assert.Equal(1, Api.Count("api/v1/alerts/1/acknowledge", HttpMethod.Post));
        Assert.Contains("by admin", page.Find("[data-alert='1']").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Shows_why_an_acknowledge_was_refused_and_a_list_error()
    {
        Api.Json("api/v1/alerts", Page(Alert(1)));
        Api.Problem("api/v1/alerts/1/acknowledge", HttpStatusCode.Conflict, "The alert is resolved.", HttpMethod.Post);
        var page = Render<Alerts>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=acknowledge]")));

        page.Find("[data-testid=acknowledge]").Click();
        page.WaitForAssertion(() => Assert.Contains("The alert is resolved.", page.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));

        Api.Problem("api/v1/alerts", HttpStatusCode.BadRequest, "state: One of open, acknowledged, resolved.");
        var broken = Render<Alerts>();
        broken.WaitForAssertion(() => Assert.Contains("One of open", broken.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void A_live_alert_shows_without_reload()
    {
        Api.Json("api/v1/alerts", Page(Alert(1)));
        var page = Render<Alerts>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-alert]")));

        Api.Json("api/v1/alerts", Page(Alert(2), Alert(1)));
        Live.Opened(new AlertMessage(2, "HQ", "StuckSession", "open", "stuck", null, null, null, new DateTimeOffset(Now), null));

        Eventually(() => Assert.Equal(2, page.FindAll("[data-alert]").Count));
    }

    [Fact]
    public void A_hygiene_alert_shows_as_network_hygiene_with_server_device_count_and_hint_and_the_kind_filter_reaches_the_api()
    {
        var hygiene = new AlertView(7, "HQ", AlertKind.NetworkHygiene, AlertState.Open,
            "More than one server gives PXE clients boot information (10.0.0.4, 10.0.0.66), seen by 500 devices.", null, null, null, null,
            Now.AddMinutes(-3), null, null, null)
        {
            Finding = HygieneFinding.MultiplePxeServers, Server = "10.0.0.4, 10.0.0.66", DeviceCount = 500, LastSeenAt = Now.AddMinutes(-1),
            Hint = "a rogue or second PXE service races the PVS one",
        };
        Api.Json("api/v1/alerts", Page(hygiene));
        GoTo("/alerts?kind=NetworkHygiene");

        var page = Render<Alerts>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-alert]")));
        var row = page.Find("[data-alert='7']");
        Assert.Contains("Network hygiene", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("Several PXE servers", page.Find("[data-testid=hygiene-finding]").TextContent.Trim());
        Assert.Equal("10.0.0.4, 10.0.0.66", page.Find("[data-testid=hygiene-server]").TextContent.Trim());
        Assert.Contains("500 devices", page.Find("[data-testid=hygiene-devices]").TextContent, StringComparison.Ordinal);
        Assert.Contains("rogue or second PXE service", page.Find("[data-testid=hygiene-hint]").TextContent, StringComparison.Ordinal);
        Assert.Single(page.FindAll("[data-testid=acknowledge]"));
        var query = HttpUtility.ParseQueryString(Api.Requests.Last(r => r.RequestUri!.AbsolutePath.EndsWith("alerts", StringComparison.Ordinal)).RequestUri!.Query);
        Assert.Equal("NetworkHygiene", query["kind"]);
        Assert.Equal("NetworkHygiene", page.Find("[data-testid=filter-kind]").GetAttribute("value"));
    }
}
