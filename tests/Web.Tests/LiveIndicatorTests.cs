using PvsFleet.Web.Components;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

public sealed class LiveIndicatorTests : PageTest
{
    [Fact]
    public void Shows_connecting_then_live_then_reconnecting_as_the_hub_connection_moves()
    {
        var indicator = Render<LiveIndicator>();
        Assert.Equal("Connecting", indicator.Find("[data-testid=live-state]").GetAttribute("data-state"));

        Live.Set(LiveState.Live);
        indicator.WaitForAssertion(() => Assert.Contains("Live", indicator.Find("[data-testid=live-state]").TextContent, StringComparison.Ordinal));

        Live.Set(LiveState.Reconnecting);
        indicator.WaitForAssertion(() => Assert.Contains("Reconnecting", indicator.Find("[data-testid=live-state]").TextContent, StringComparison.Ordinal));
    }
}
