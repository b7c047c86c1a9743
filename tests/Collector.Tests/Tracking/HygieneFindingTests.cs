using System.Buffers.Binary;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Tracking;

/// <summary>Network hygiene the tracker reports as problems of their own kind, each with a hint.</summary>
public class HygieneFindingTests
{
    private static readonly MacAddress Rogue = MacAddress.Parse("00:15:5d:00:00:66");
    private static readonly uint RogueIp = Ipv4Address.Parse("10.1.1.66");

    private static SessionReport Only(AnalysisReport report) => Assert.Single(Assert.Single(report.Devices).Sessions);

    [Fact]
    public void A_second_server_giving_pxe_boot_information_is_a_rogue_or_second_pxe_service()
    {
        var rogueOffer = new DhcpBuilder(DhcpMessage.OpReply, BootScenario.Device, 1, DhcpMessageType.Offer).YourAddress(Ipv4Address.Parse("10.1.1.200"))
            .Address(54, RogueIp).Option(67, "boot\\x64\\wdsnbp.com");
        var scenario = new BootScenario().At(0).Discover(1).At(0.4).Offer(1)
            .At(0.45).Add(FrameBuilder.Udp(Rogue, FrameBuilder.Broadcast, RogueIp, 0xFFFFFFFF, 67, 68, rogueOffer.Build()))
            .At(0.6).Request(1).At(0.7).Ack(1).Download(1);

        var session = Only(scenario.Run());

        var finding = Assert.Single(session.Issues);
        Assert.Equal(BootIssueKind.MultiplePxeServers, finding.Kind);
        Assert.Contains("10.1.1.1 and 10.1.1.66", finding.Detail, StringComparison.Ordinal);
        Assert.Contains("rogue or second PXE service", finding.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Fragmented_tftp_data_points_at_a_block_size_above_the_path_mtu()
    {
        var scenario = new BootScenario().Dhcp(1, 0).At(1).ReadRequest(2070, "ARDBP32.bin", "blksize", "8192")
            .At(1.001).OptionAck(40000, 2070, "blksize", "8192");
        // DATA block 1 of 8192 bytes: its first fragment carries the UDP header with the whole length.
        var udp = new byte[8 + 1472];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 2070);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 8 + 4 + 8192);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(8), 3);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(10), 1);
        var firstFragment = FrameBuilder.Ipv4(BootScenario.ServerIp, BootScenario.DeviceIp, Ipv4Packet.ProtocolUdp, udp, flagsAndFragment: 0x2000);
        scenario.At(1.002).Add(FrameBuilder.Ethernet(BootScenario.Server, BootScenario.Device, EthernetFrame.EtherTypeIPv4, firstFragment))
            .At(1.003).TftpAck(2070, 40000, 1).At(1.004).Data(40000, 2070, 2, 100).At(1.005).TftpAck(2070, 40000, 2);

        var session = Only(scenario.Run());

        // The fragmented block still counts: the download completes and the logon phase begins.
        Assert.Equal(new BootstrapReport(2, 8192, 1, null, true), session.Bootstrap);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);

        var finding = Assert.Single(session.Issues, i => i.Kind == BootIssueKind.Fragmentation);
        Assert.Equal(BootPhase.BootstrapDownload, finding.Phase);
        Assert.Contains("TFTP datagrams arrive in IP fragments", finding.Detail, StringComparison.Ordinal);
        Assert.Contains("block size", finding.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_uefi_client_asking_for_the_bios_bootstrap_is_a_firmware_mismatch()
    {
        var scenario = new BootScenario().Dhcp(1, 0, arch: 7).Download(1, file: "ARDBP32.bin");

        var session = Only(scenario.Run());

        var finding = Assert.Single(session.Issues);
        Assert.Equal(BootIssueKind.BootstrapFirmwareMismatch, finding.Kind);
        Assert.Equal("a Uefi client asked for ARDBP32.bin, the bootstrap of the other firmware", finding.Detail);
        Assert.Contains("pvsnbpx64.efi for UEFI", finding.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_issue_events_name_the_server_each_finding_is_about()
    {
        var rogueOffer = new DhcpBuilder(DhcpMessage.OpReply, BootScenario.Device, 1, DhcpMessageType.Offer).YourAddress(Ipv4Address.Parse("10.1.1.200"))
            .Address(54, RogueIp).Option(67, "boot\\x64\\wdsnbp.com");
        var rogue = new BootScenario().At(0).Discover(1).At(0.4).Offer(1)
            .At(0.45).Add(FrameBuilder.Udp(Rogue, FrameBuilder.Broadcast, RogueIp, 0xFFFFFFFF, 67, 68, rogueOffer.Build()))
            .At(0.6).Request(1).At(0.7).Ack(1).Download(1);
        var mismatch = new BootScenario().Dhcp(1, 0, arch: 7).Download(1, file: "ARDBP32.bin");

        var pxe = Assert.Single(rogue.Events().OfType<PvsFleet.Contracts.Ingest.IssueEvent>(), e => e.Kind == BootIssueKind.MultiplePxeServers);
        var firmware = Assert.Single(mismatch.Events().OfType<PvsFleet.Contracts.Ingest.IssueEvent>(), e => e.Kind == BootIssueKind.BootstrapFirmwareMismatch);

        // Sorted, so every device seeing the same two servers is grouped under one alert by the API.
        Assert.Equal("10.1.1.1, 10.1.1.66", pxe.Server);
        Assert.Equal(Ipv4Address.Format(BootScenario.ServerIp), firmware.Server);
    }

    [Fact]
    public void A_matching_bootstrap_and_a_single_pxe_server_raise_nothing()
    {
        var session = Only(new BootScenario().Dhcp(1, 0, arch: 7, bootFile: "pvsnbpx64.efi").Download(1, file: "pvsnbpx64.efi").Run());

        Assert.Empty(session.Issues);
    }
}
