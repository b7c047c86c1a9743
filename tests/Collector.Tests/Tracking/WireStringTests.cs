using System.Text;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;

namespace PvsFleet.Collector.Tests.Tracking;

/// <summary>Names a device or server put on the wire leave the collector clean: cut at NUL, no control characters, valid UTF-8.</summary>
public class WireStringTests
{
    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    [Fact]
    public void Boot_file_from_option_67_is_cut_at_nul_and_stripped_of_control_characters()
    {
        var session = Only(new BootScenario().At(0).Discover(7).At(0.5).Offer(7, bootFile: "ARD\u001bBP32.bin\0trailing junk").Run());

        Assert.Equal("ARDBP32.bin", session.BootFile);
    }

    [Fact]
    public void Host_name_from_option_12_is_cut_at_nul()
    {
        var scenario = new BootScenario().Dhcp(7, 0).Download(1).At(3).Logon(1).At(4).Read(1).At(4.001).Burst(1)
            .At(10).WindowsRequest(8, hostName: "VDA-0001\0\u0001\u0002garbage\r\n");

        var session = Only(scenario.Run());

        Assert.Equal("VDA-0001", session.HostName);
    }

    [Fact]
    public void A_tftp_file_name_that_is_not_utf8_still_leaves_as_valid_utf8()
    {
        byte[] rrq = [0, 1, .. "pvs"u8, 0xFF, 0xFE, .. "nbp\u0007.efi"u8, 0, .. "octet"u8, 0];
        var scenario = new BootScenario().Dhcp(7, 0).At(1).DeviceUdp(2070, 69, rrq);

        var session = Only(scenario.Run());
        var report = ReportJson.Serialize(scenario.Run());

        Assert.NotNull(session.BootFile);
        Assert.StartsWith("pvs\uFFFD", session.BootFile, StringComparison.Ordinal);
        Assert.EndsWith("nbp.efi", session.BootFile, StringComparison.Ordinal);
        Assert.Equal(session.BootFile, Strict.GetString(Strict.GetBytes(session.BootFile)));
        Assert.DoesNotContain("\\u0007", report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_option_the_tracker_does_not_need_loses_nothing_else()
    {
        // A DISCOVER whose requested-address option (50) has 5 bytes, then the PXE options: still a PXE boot.
        var discover = new DhcpBuilder(DhcpMessage.OpRequest, BootScenario.Device, 7, DhcpMessageType.Discover)
            .Option(50, 1, 2, 3, 4, 5).Pxe(7);
        var report = new BootScenario().At(0).ClientDhcp(discover).At(0.5).Offer(7).At(0.6).Request(7, arch: 7).At(0.7).Ack(7).Run();

        Assert.Equal(0, report.Malformed);
        Assert.Equal(1, report.MalformedDhcpOptions);
        var session = Only(report);
        Assert.Equal(Contracts.Firmware.Uefi, session.Firmware);
        Assert.Equal("10.1.1.156", session.Ip);
    }

    private static SessionReport Only(AnalysisReport report) => Assert.Single(Assert.Single(report.Devices).Sessions);
}
