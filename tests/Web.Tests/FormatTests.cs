using PvsFleet.Contracts;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

public sealed class FormatTests
{
    [Fact]
    public void A_negative_duration_reads_as_zero_and_an_unknown_one_as_a_dash()
    {
        Assert.Equal("0 ms", Format.Duration(-13_123));
        Assert.Equal("–", Format.Duration((double?)null));
        var now = new DateTime(2026, 12, 1, 7, 0, 0, DateTimeKind.Utc);
        // The collector's clock 30 s ahead: the boot "started" in the browser's future.
        Assert.Equal(0, Format.SessionMs(null, now.AddSeconds(30), null, BootOutcome.InProgress, now));
        Assert.Null(Format.SessionMs(null, now.AddSeconds(-30), null, BootOutcome.Booted, now));
        Assert.Equal(30_000, Format.SessionMs(null, now.AddSeconds(-30), null, BootOutcome.Stuck, now));
    }

    [Theory]
    [InlineData(42_000, "0 s,10 s,20 s,30 s,40 s")]
    [InlineData(3, "0 ms,1 ms,2 ms,3 ms")]
    [InlineData(1_500, "0 ms,200 ms,400 ms,600 ms,800 ms,1000 ms,1200 ms,1400 ms")]
    [InlineData(600_000, "0 min,2 min,4 min,6 min,8 min,10 min")]
    public void Axis_ticks_fall_on_round_units(double spanMs, string expected) =>
        Assert.Equal(expected, string.Join(",", Format.AxisTicks(spanMs).Select(t => t.Label)));
}
