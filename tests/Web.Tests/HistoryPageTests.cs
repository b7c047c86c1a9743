using System.Net;
using System.Web;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;

namespace PvsFleet.Web.Tests;

public sealed class HistoryPageTests : PageTest
{
    public HistoryPageTests() => Api.Json("api/v1/sites", new List<SiteView> { Site("HQ"), Site("Branch") });

    private void Stats(long count)
    {
        Api.Json("api/v1/stats/boot-durations", r =>
        {
            var phase = HttpUtility.ParseQueryString(r.RequestUri!.Query)["phase"];
            BootPhase? p = phase is null ? null : Enum.Parse<BootPhase>(phase);
            var overall = count == 0 ? DurationStats.Empty : new DurationStats(count, 40_000 + (int)(p ?? 0), 60_000, 90_000, 120_000);
            IReadOnlyList<BucketStats> buckets = count == 0 ? [] :
            [
                new(Now.AddHours(-2), new DurationStats(10, 38_000, 55_000, 80_000, 90_000)),
                new(Now.AddHours(-1), new DurationStats(12, 41_000, 62_000, 95_000, 120_000)),
            ];
            return new BootDurationStats(null, Now.AddDays(-7), Now, "hour", p, overall, buckets);
        });
        Api.Json("api/v1/stats/slowest-devices", new List<SlowDevice> { new("52:54:00:00:00:07", "vda-07", 3, 95_000, 120_000) });
    }

    [Fact]
    public void Shows_progress_while_loading()
    {
        Stats(22);
        var gate = Api.Hold("api/v1/stats/boot-durations");

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=loading]")));
        gate.SetResult();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=percentile-chart]")));
    }

    [Fact]
    public void Says_so_when_no_boot_finished_in_the_range()
    {
        Stats(0);

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Contains("No boot reached BNIStack", page.Find("[data-testid=empty]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void Charts_the_percentiles_breaks_down_the_phases_and_lists_the_slowest_devices()
    {
        Stats(22);
        GoTo("/history?site=HQ&days=30");

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("polyline[data-series]").Count));
        Assert.Equal(["p50", "p90", "p99"], page.FindAll("polyline[data-series]").Select(e => e.GetAttribute("data-series")!));
        Assert.Equal(5, page.FindAll("[data-testid=phase-breakdown] tbody tr").Count);
        Assert.Contains("vda-07", page.Find("[data-testid=slowest]").TextContent, StringComparison.Ordinal);
        Assert.Contains("40.0 s", page.Find("[data-testid=overall]").TextContent, StringComparison.Ordinal);
        var query = HttpUtility.ParseQueryString(Api.Requests.First(r => r.RequestUri!.AbsolutePath.EndsWith("boot-durations", StringComparison.Ordinal)).RequestUri!.Query);
        Assert.Equal("HQ", query["site"]);
        Assert.Equal("day", query["bucket"]);
    }

    [Fact]
    public void Exports_the_sessions_shown_as_csv()
    {
        Stats(22);
        Api.Text("api/v1/sessions/export.csv", "session_id,site\n1,HQ\n");
        GoTo("/history?site=HQ");
        var download = JSInterop.SetupVoid("pvsfleet.download", _ => true);
        var page = Render<History>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=percentile-chart]")));

        page.Find("[data-testid=export-csv]").Click();

        page.WaitForAssertion(() => Assert.Single(download.Invocations));
        Assert.Equal("session_id,site\n1,HQ\n", download.Invocations.Single().Arguments[2] as string);
        var export = Api.Requests.Single(r => r.RequestUri!.AbsolutePath.EndsWith("export.csv", StringComparison.Ordinal));
        Assert.Equal("HQ", HttpUtility.ParseQueryString(export.RequestUri!.Query)["site"]);
    }

    [Fact]
    public void Shows_the_api_error()
    {
        Api.Problem("api/v1/stats/boot-durations", HttpStatusCode.BadRequest, "bucket: Hourly buckets cover at most 92 days; use bucket=day.");
        Api.Json("api/v1/stats/slowest-devices", new List<SlowDevice>());

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Contains("Hourly buckets", page.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void Reloads_when_the_site_filter_changes()
    {
        Stats(22);
        var page = Render<History>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=percentile-chart]")));

        page.Find("[data-testid=filter-site]").Change("Branch");

        page.WaitForAssertion(() => Assert.Contains(Api.Requests, r => r.RequestUri!.Query.Contains("site=Branch", StringComparison.Ordinal)));
    }
}
