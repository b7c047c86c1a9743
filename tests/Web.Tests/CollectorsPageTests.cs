using System.Net;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;

namespace PvsFleet.Web.Tests;

public sealed class CollectorsPageTests : PageTest
{
    private static CollectorView Collector(int id, string name, DateTime? seen, long packets = 1000, long dropped = 0, long spooled = 0) =>
        new(id, "HQ", name, "pvsk_abcdefg", Now.AddDays(-1), null, seen, 10, "eth1", "1.0.0", packets, dropped, 0, 3, spooled);

    [Fact]
    public void Shows_progress_while_loading()
    {
        Api.Json("api/v1/collectors", new List<CollectorView>());
        var gate = Api.Hold("api/v1/collectors");

        var page = Render<Collectors>();

        Assert.NotNull(page.Find("[data-testid=loading]"));
        gate.SetResult();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty]")));
    }

    [Fact]
    public void Flags_silent_collectors_and_shows_drops_and_spool_backlog()
    {
        Api.Json("api/v1/collectors", new List<CollectorView>
        {
            Collector(1, "pvs-a", Now.AddSeconds(-5), dropped: 12, spooled: 4200),
            Collector(2, "pvs-b", Now.AddMinutes(-10)),
            Collector(3, "pvs-c", null),
        });

        var page = Render<Collectors>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-collector]").Count));
        Assert.Equal("ok", page.Find("[data-collector=pvs-a]").GetAttribute("data-status"));
        Assert.Equal("silent", page.Find("[data-collector=pvs-b]").GetAttribute("data-status"));
        Assert.Equal("never", page.Find("[data-collector=pvs-c]").GetAttribute("data-status"));
        var a = page.Find("[data-collector=pvs-a]").TextContent;
        Assert.Contains("12", a, StringComparison.Ordinal);
        Assert.Contains("4,200", a, StringComparison.Ordinal);
    }

    [Fact]
    public void Shows_the_api_error()
    {
        Api.Problem("api/v1/collectors", HttpStatusCode.Unauthorized, "Authentication is required.");

        var page = Render<Collectors>();

        page.WaitForAssertion(() => Assert.Contains("Authentication is required.", page.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
        Assert.Contains("Admin key", page.Find("[data-testid=api-error]").InnerHtml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_live_heartbeat_updates_the_row_and_gives_packets_per_second()
    {
        Api.Json("api/v1/collectors", new List<CollectorView> { Collector(1, "pvs-a", Now.AddSeconds(-10), packets: 1000) });
        var page = Render<Collectors>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-collector]")));
        Assert.Equal("–", page.Find("[data-testid=rate]").TextContent.Trim());

        Api.Json("api/v1/collectors", new List<CollectorView> { Collector(1, "pvs-a", Now, packets: 6000) });
        Live.Collector(new CollectorStatusMessage("HQ", "pvs-a", false, new DateTimeOffset(Now), 6000, 0));

        Eventually(() => Assert.Equal("500", page.Find("[data-testid=rate]").TextContent.Trim()));
    }

    [Fact]
    public void Lists_the_instances_of_a_shared_key_with_what_each_set_aside()
    {
        var node1 = new CollectorInstanceView(Guid.Parse("0193a1b2-0000-7000-8000-000000000001"), "node-1", Now.AddHours(-1), Now.AddSeconds(-3),
            2295, "eth1", 9000, 0, 4, 0, RefusedEvents: 7, RejectedEvents: 7, CorruptSpoolLines: 1);
        var node2 = new CollectorInstanceView(Guid.Parse("0193a1b2-0000-7000-8000-000000000002"), "node-2", Now.AddHours(-1), Now.AddSeconds(-4),
            2289, "eth1", 8000, 0, 2, 0, 0, 0, 0);
        Api.Json("api/v1/collectors", new List<CollectorView> { Collector(1, "daemonset", Now.AddSeconds(-3)) with { Instances = [node1, node2] } });

        var page = Render<Collectors>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-collector-instance-of=daemonset]").Count));
        var first = page.Find($"[data-instance='{node1.Instance}']");
        Assert.Contains("node-1", first.TextContent, StringComparison.Ordinal);
        Assert.Contains("2,295", first.TextContent, StringComparison.Ordinal);
        Assert.Contains("refused 7", first.QuerySelector("[data-testid=set-aside]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("warn", first.QuerySelector("[data-testid=set-aside]")!.ClassName, StringComparison.Ordinal);
        Assert.DoesNotContain("warn", page.Find($"[data-instance='{node2.Instance}'] [data-testid=set-aside]").ClassName ?? "", StringComparison.Ordinal);
    }
}
