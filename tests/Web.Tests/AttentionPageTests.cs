using System.Net;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;

namespace PvsFleet.Web.Tests;

public sealed class AttentionPageTests : PageTest
{
    [Fact]
    public void Shows_progress_while_loading()
    {
        Api.Json("api/v1/sites", new List<SiteView>());
        Api.Json("api/v1/attention", new List<AttentionItem>());
        var gate = Api.Hold("api/v1/attention");

        var page = Render<Attention>();

        Assert.NotNull(page.Find("[data-testid=loading]"));
        gate.SetResult();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=all-clear]")));
    }

    [Fact]
    public void Lists_each_site_longest_waiting_first_with_each_device_one_click_away()
    {
        Api.Json("api/v1/sites", new List<SiteView> { Site("HQ"), Site("Branch") });
        var session = Guid.NewGuid();
        Api.Json("api/v1/attention", new List<AttentionItem>
        {
            new("Branch", AttentionKind.Stuck, Now.AddMinutes(-12), "No progress in the PVS logon", "52:54:00:00:00:07", "vda-7", BootPhase.PvsLogon, session),
            new("HQ", AttentionKind.CollectorSilent, Now.AddMinutes(-5), "Collector pvs-a sent nothing", CollectorId: 3, Collector: "pvs-a"),
            new("Branch", AttentionKind.Looping, Now.AddMinutes(-3), "4 boots in 30 min", "52:54:00:00:00:08"),
        });

        var page = Render<Attention>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=attention-item]").Count));
        Assert.Equal(["Branch", "HQ"], page.FindAll(".attention-site").Select(s => s.GetAttribute("data-site")!));
        var stuck = page.Find("[data-kind=Stuck]");
        Assert.Contains("12 min 00 s", stuck.TextContent, StringComparison.Ordinal);
        Assert.Equal($"devices/52:54:00:00:00:07?session={session}", stuck.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("collectors", page.Find("[data-kind=CollectorSilent] a").GetAttribute("href"));
        Assert.Contains("1 stuck, 1 looping, 1 silent collector", page.Find("[data-testid=attention-summary]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Branch", Live.Watched);
    }

    [Fact]
    public void Says_so_when_nothing_needs_attention()
    {
        Api.Json("api/v1/sites", new List<SiteView>());
        Api.Json("api/v1/attention", new List<AttentionItem>());

        var page = Render<Attention>();

        page.WaitForAssertion(() => Assert.Contains("Nothing needs attention", page.Find("[data-testid=all-clear]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_boot_pushed_live_reloads_the_list()
    {
        Api.Json("api/v1/sites", new List<SiteView> { Site("HQ") });
        var items = new List<AttentionItem>();
        Api.Json("api/v1/attention", _ => items);
        var page = Render<Attention>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=all-clear]")));

        items = [new("HQ", AttentionKind.Failed, Now, "Failed in the bootstrap download", "52:54:00:00:00:01")];
        Live.Push(new("HQ", Guid.NewGuid(), "52:54:00:00:00:01", null, null, BootPhase.BootstrapDownload, BootOutcome.Failed,
            new DateTimeOffset(Now), new DateTimeOffset(Now), new DateTimeOffset(Now)));

        Eventually(() => Assert.NotNull(page.Find("[data-kind=Failed]")));
    }

    [Fact]
    public void Shows_the_api_error()
    {
        Api.Json("api/v1/sites", new List<SiteView>());
        Api.Problem("api/v1/attention", HttpStatusCode.ServiceUnavailable, "The database is not reachable.");

        var page = Render<Attention>();

        page.WaitForAssertion(() => Assert.Contains("The database is not reachable.", page.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
    }
}
