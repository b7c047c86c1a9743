using System.Text.Json;
using PvsFleet.Api.Embedded;

namespace PvsFleet.Api.Tests;

/// <summary>
/// The demo's storms are written by the build (the DemoStorm items of Api.csproj), its history by DemoPlan: both must
/// speak of the same devices, or the History page shows other devices than the live fleet.
/// </summary>
public sealed class DemoPlanTests
{
    private static readonly string Demo = Path.Combine(AppContext.BaseDirectory, "demo");

    [Fact]
    public void Every_demo_collector_has_a_built_storm_of_exactly_its_devices()
    {
        foreach (var c in DemoPlan.Collectors)
        {
            var storm = Path.Combine(Demo, c.StormFile);
            Assert.True(File.Exists(storm), $"{storm} was not written by the build");
            using var truth = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(storm, ".truth.json")));
            var macs = truth.RootElement.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("mac").GetString()!)
                .Order(StringComparer.Ordinal).ToList();

            Assert.Equal(Enumerable.Range(0, c.Devices).Select(c.Mac).Order(StringComparer.Ordinal), macs);
        }
    }

    [Fact]
    public void Every_bundled_real_capture_plays_under_a_mac_of_its_own()
    {
        var captures = Directory.GetFiles(Path.Combine(Demo, "captures"), "*.pcap").Select(Path.GetFileName).ToList();

        Assert.NotEmpty(captures);
        Assert.All(captures, f => Assert.True(DemoPlan.RealCaptureMacs.ContainsKey(f!), $"{f} has no MAC in DemoPlan.RealCaptureMacs"));
    }
}
