using System.Text.RegularExpressions;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Simulation;
using PvsFleet.Collector.Tests.Simulation;
using PvsFleet.Collector.Tests.Support;

namespace PvsFleet.Collector.Tests.Cli;

/// <summary><c>analyze --explain MAC</c>: one device's boot, frame by frame, with Wireshark's frame numbers.</summary>
public sealed partial class ExplainCommandTests(SimulationOutput output) : IClassFixture<SimulationOutput>
{
    [GeneratedRegex(@"^\s+(\d+)\s+\d\d:\d\d:\d\d\.\d{6}\s+[\d.]+\s+(.*)$")]
    private static partial Regex StepLine();

    [Fact]
    public void A_healthy_boot_is_walked_through_from_discover_to_the_oss_dhcp_with_the_frames_analyze_reports()
    {
        var storm = output.SmallStorm("explain", devices: 3, seed: 9) with { FailureShare = 0, SingleReadIos = 6, BniStackIos = 6, JoinedShare = 0 };
        var result = BootStormSimulator.Run(storm);
        var mac = result.Truth.Devices[0].Mac;

        var explain = CollectorProcess.Run("analyze", "--explain", mac, result.CapturePath);
        var json = CollectorProcess.Run("analyze", "--json", result.CapturePath);

        Assert.Equal(0, explain.ExitCode);
        var text = explain.Stdout;
        var order = new[] { "DHCP DISCOVER", "DHCP OFFER", "DHCP REQUEST", "DHCP ACK", "TFTP RRQ", "BootstrapDownload begins", "TFTP OACK",
            "more frames like these", "TFTP ACK", "PvsLogon begins", "PVS request", "SingleReadMode begins", "vDisk data", "DHCP REQUEST",
            "BniStack begins", "the session ends Booted" };
        var at = 0;
        foreach (var step in order)
        {
            var next = text.IndexOf(step, at, StringComparison.Ordinal);
            Assert.True(next >= 0, $"'{step}' missing after position {at} in\n{text}");
            at = next;
        }

        // The frame the walk-through marks as the start of each phase is the one analyze --json names.
        var session = ReportJson.Deserialize(json.Stdout).Devices.Single(d => d.Mac == mac).Sessions.Single();
        var lines = text.Split('\n');
        foreach (var phase in session.Phases)
        {
            var marker = Array.FindIndex(lines, l => l.Contains($"▸ {phase.Name} begins", StringComparison.Ordinal));
            var stepLine = lines.Take(marker).Last(l => StepLine().IsMatch(l));
            Assert.Equal(phase.StartFrame!.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), StepLine().Match(stepLine).Groups[1].Value);
        }
    }

    [Fact]
    public void Retries_and_problems_are_told_in_plain_words_and_a_bad_mac_is_one_line_with_exit_code_2()
    {
        var explain = CollectorProcess.Run("analyze", "--explain", "52:54:00:00:00:01", Repository.Sample("real-uefi-1.pcap"));
        var bad = CollectorProcess.Run("analyze", "--explain", "not-a-mac", Repository.Sample("real-uefi-1.pcap"));

        Assert.Equal(0, explain.ExitCode);
        Assert.Contains("← retry", explain.Stdout, StringComparison.Ordinal);
        Assert.Contains("▸ problem: bootstrap downloaded but the device restarted PXE", explain.Stdout, StringComparison.Ordinal);
        Assert.Contains("▸ problem, after this frame: no progress", explain.Stdout, StringComparison.Ordinal);
        Assert.Contains("session 2", explain.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not a MAC address", bad.Stderr, StringComparison.Ordinal);
    }
}
