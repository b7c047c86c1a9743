using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Tracking;

/// <summary>
/// The situations real networks produce that a lab does not: TFTP servers on port 69, proxies that never answer, offers
/// without PXE information, streaming on the login port, collectors that start mid-boot, loops through BNIStack.
/// </summary>
public class RealWorldBootTests
{
    private static readonly MacAddress Router = MacAddress.Parse("00:00:5e:00:01:fe");
    private static readonly uint RouterIp = Ipv4Address.Parse("10.1.1.254");

    private static SessionReport Only(AnalysisReport report) => Assert.Single(Assert.Single(report.Devices).Sessions);

    private static PhaseReport Phase(SessionReport session, BootPhase phase) => session.Phases.Single(p => p.Name == phase);

    /// <summary>A lock-step download whose server answers from port 69 itself: DATA from 69, ACKs to 69.</summary>
    private static BootScenario Port69Download(BootScenario scenario, double start, int blocks, ushort clientPort = 2070)
    {
        scenario.At(start).ReadRequest(clientPort, "ARDBP32.bin", "blksize", "1432")
            .At(start + 0.001).OptionAck(69, clientPort, "blksize", "1432")
            .At(start + 0.002).TftpAck(clientPort, 69, 0);
        for (var block = 1; block <= blocks; block++)
        {
            var t = start + 0.002 + (block * 0.001);
            scenario.At(t).Data(69, clientPort, (ushort)block, block == blocks ? 700 : 1432).At(t + 0.0005).TftpAck(clientPort, 69, (ushort)block);
        }

        return scenario;
    }

    [Fact]
    public void Tftp_server_answering_from_port_69_completes_the_download_with_its_block_size()
    {
        var scenario = Port69Download(new BootScenario().Dhcp(1, 0), 1, blocks: 238);

        var session = Only(scenario.Run());

        Assert.Equal(new BootstrapReport(238, 1432, 1, null, true), session.Bootstrap);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);
        Assert.Equal(BootOutcome.InProgress, session.Outcome);
        Assert.Equal(scenario.Time(1 + 0.002 + 0.238 + 0.0005), Phase(session, BootPhase.PvsLogon).Start);
        Assert.Empty(session.Issues);
    }

    [Fact]
    public void Port_69_retransmits_are_retries_and_a_new_rrq_from_the_same_port_restarts_the_transfer()
    {
        var scenario = new BootScenario().Dhcp(1, 0)
            .At(1).ReadRequest(2070, "ARDBP32.bin").At(1.001).Data(69, 2070, 1, 512).At(1.002).TftpAck(2070, 69, 1)
            .At(2.002).TftpAck(2070, 69, 1)                                          // the ACK again: a retry
            .At(2.003).Data(69, 2070, 1, 512)                                        // block 1 again: a retry
            .At(3).ReadRequest(2070, "ARDBP32.bin")                                  // the client starts over on the same port
            .At(3.001).Data(69, 2070, 1, 512).At(3.002).TftpAck(2070, 69, 1)
            .At(3.003).Data(69, 2070, 2, 100).At(3.004).TftpAck(2070, 69, 2);

        var session = Only(scenario.Run());

        Assert.Equal(2, Phase(session, BootPhase.BootstrapDownload).Retries);
        Assert.Equal(new BootstrapReport(2, 512, 1, null, true), session.Bootstrap);
        Assert.Equal(scenario.Time(3.004), Phase(session, BootPhase.PvsLogon).Start);
    }

    [Fact]
    public void Unanswered_proxy_request_on_4011_keeps_the_device_in_ip_acquisition_and_names_the_proxy()
    {
        var proxyRequest = new DhcpBuilder(DhcpMessage.OpRequest, BootScenario.Device, 1, DhcpMessageType.Request).Pxe(0);
        var scenario = new BootScenario().Dhcp(1, 0);
        foreach (var t in new[] { 1.0, 5, 13 })
        {
            scenario.At(t).Add(FrameBuilder.Udp(BootScenario.Device, BootScenario.Server, BootScenario.DeviceIp, BootScenario.ServerIp, 68, 4011, proxyRequest.Build()));
        }

        var session = Only(scenario.Run(captureEnd: 40));

        Assert.Equal((BootOutcome.Stuck, BootPhase.IpAcquisition), (session.Outcome, session.Phase));
        Assert.Single(session.Phases);
        Assert.Equal(2, session.Phases[0].Retries);
        var stuck = Assert.Single(session.Issues, i => i.Kind == BootIssueKind.Stuck);
        Assert.Contains("proxyDHCP server 10.1.1.1 did not answer", stuck.Detail, StringComparison.Ordinal);
        Assert.Contains("UDP 4011", stuck.Detail, StringComparison.Ordinal);
        Assert.Contains("PXE service", stuck.Hint, StringComparison.Ordinal);
        Assert.DoesNotContain("TFTP", stuck.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Discover_retries_that_only_get_offers_without_pxe_information_are_diagnosed_with_the_offering_server()
    {
        var plainOffer = new DhcpBuilder(DhcpMessage.OpReply, BootScenario.Device, 4, DhcpMessageType.Offer)
            .YourAddress(BootScenario.DeviceIp).ServerAddress(RouterIp).Address(54, RouterIp);
        var scenario = new BootScenario();
        foreach (var t in new[] { 0.0, 4, 12, 28 })
        {
            scenario.At(t).Discover(4, secs: (ushort)t)
                .At(t + 0.001).Add(FrameBuilder.Udp(Router, FrameBuilder.Broadcast, RouterIp, 0xFFFFFFFF, 67, 68, plainOffer.Build()));
        }

        var session = Only(scenario.Run(captureEnd: 35));

        var diagnosis = Assert.Single(session.Issues, i => i.Kind == BootIssueKind.NoPxeOffer);
        Assert.Equal(scenario.Time(4), diagnosis.At);
        Assert.Contains("only offers without PXE boot information, from 10.1.1.254", diagnosis.Detail, StringComparison.Ordinal);
        Assert.Contains("option 60", diagnosis.Hint, StringComparison.Ordinal);
        Assert.Contains("IP helper", diagnosis.Hint, StringComparison.Ordinal);
        Assert.Equal(BootOutcome.Stuck, session.Outcome); // the offers were never progress
        Assert.Equal(3, session.Phases[0].Retries);
    }

    [Fact]
    public void A_dhcp_release_ends_nothing_by_itself()
    {
        var release = new DhcpBuilder(DhcpMessage.OpRequest, BootScenario.Device, 9, DhcpMessageType.Release).Pxe(0).Address(54, BootScenario.ServerIp);
        var scenario = new BootScenario().Dhcp(1, 0).At(0.8).ClientDhcp(release, dstIp: BootScenario.ServerIp).Download(1);

        var session = Only(scenario.Run());

        Assert.Equal((BootOutcome.InProgress, BootPhase.PvsLogon), (session.Outcome, session.Phase));
        Assert.Equal(0, session.Phases.Sum(p => p.Retries));
    }

    [Fact]
    public void Streaming_on_the_login_port_starts_single_read_mode_at_the_first_read_answered_by_vdisk_data()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1);
        var logonAt = BootScenario.DownloadEnd(1) + 0.5;
        scenario.At(logonAt).Logon(1).At(logonAt + 0.01).ServerUdp(6910, 6901, new byte[184])
            .At(logonAt + 0.2).Logon(2).At(logonAt + 0.21).ServerUdp(6910, 6901, new byte[296]);
        for (var i = 0; i < 5; i++)
        {
            var t = logonAt + 1 + i;
            scenario.At(t).Read(i, streamPort: 6910).At(t + 0.001).Burst(i, streamPort: 6910).At(t + 0.002).Burst(i + 100, streamPort: 6910);
        }

        var session = Only(scenario.Run());

        Assert.Equal(BootPhase.SingleReadMode, session.Phase);
        Assert.Equal(scenario.Time(logonAt + 1), Phase(session, BootPhase.SingleReadMode).Start);
        Assert.Equal(scenario.Time(logonAt + 1), Phase(session, BootPhase.PvsLogon).End);
        Assert.Equal(0, session.Phases.Sum(p => p.Retries));
    }

    [Fact]
    public void In_single_read_mode_a_request_sent_again_before_any_server_datagram_is_a_retry_even_if_its_bytes_differ()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(3).Read(1).At(3.01).Burst(1)
            .At(3.02).DeviceUdp(6901, 6915, new byte[48])                    // the burst's ack
            .At(3.1).Read(2).At(8.1).Read(3)                                 // the same-size request again, another retry counter inside
            .At(8.2).Burst(2);

        var session = Only(scenario.Run());

        Assert.Equal(1, Phase(session, BootPhase.SingleReadMode).Retries);
    }

    [Fact]
    public void In_bnistack_concurrent_requests_are_not_retries_but_byte_identical_repeats_are()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(3).Read(1).At(3.01).Burst(1)
            .At(4).WindowsRequest(7)
            .At(5).Read(10, devicePort: 6902).At(5.001).Read(11, devicePort: 6902).At(5.002).Read(12, devicePort: 6902)
            .At(5.1).Read(12, devicePort: 6902).At(5.2).Burst(10, devicePort: 6902);

        var session = Only(scenario.Run());

        Assert.Equal(1, Phase(session, BootPhase.BniStack).Retries);
    }

    [Fact]
    public void A_retransmitted_first_read_counts_in_single_read_mode_which_begins_at_its_first_send()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(2.01).ServerUdp(6910, 6901, new byte[184])
            .At(3).Read(1).At(8).Read(1).At(8.01).Burst(1);

        var session = Only(scenario.Run());

        Assert.Equal(scenario.Time(3), Phase(session, BootPhase.SingleReadMode).Start);
        Assert.Equal(1, Phase(session, BootPhase.SingleReadMode).Retries);
        Assert.Equal(0, Phase(session, BootPhase.PvsLogon).Retries);
    }

    [Fact]
    public void A_collector_started_mid_boot_joins_a_streaming_device_with_the_mac_its_arp_showed()
    {
        // Seen first: an ARP of the device, then its reads — routed through a router, so the Ethernet source is not the device.
        var scenario = new BootScenario()
            .At(0).Add(FrameBuilder.Arp(1, BootScenario.Device, BootScenario.DeviceIp, default, BootScenario.ServerIp))
            .At(1).Add(FrameBuilder.Udp(Router, BootScenario.Server, BootScenario.DeviceIp, BootScenario.ServerIp, 6901, 6915, new byte[64]))
            .At(1.001).ServerUdp(6915, 6901, new byte[1464]);

        var session = Only(scenario.Run());

        Assert.Equal(BootScenario.Device.ToString(), Assert.Single(scenario.Run().Devices).Mac);
        Assert.True(session.JoinedMidBoot);
        Assert.Equal(scenario.Time(1), session.Start);
        Assert.Equal([BootPhase.PvsLogon, BootPhase.SingleReadMode], session.Phases.Select(p => p.Name));
        Assert.Equal(Phase(session, BootPhase.PvsLogon).Start, Phase(session, BootPhase.PvsLogon).End);
        Assert.Equal("10.1.1.156", session.Ip);
    }

    [Fact]
    public void A_collector_started_mid_boot_joins_a_bootstrap_rrq_under_the_ethernet_source_and_ignores_other_tftp()
    {
        var scenario = new BootScenario()
            .At(0).ReadRequest(3000, "pxelinux.cfg/default")                          // not a bootstrap: no device
            .At(0.1).DeviceUdp(3001, 69, FrameBuilder.Tftp(2, "switch.cfg", "octet"))  // a WRQ: never a device
            .Download(1, file: "boot/ARDBP32.BIN");

        var report = scenario.Run();

        var session = Only(report);
        Assert.True(session.JoinedMidBoot);
        Assert.Equal(scenario.Time(1), session.Start);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phases[0].Name);
        Assert.Equal((BootPhase.PvsLogon, Firmware.Unknown), (session.Phase, session.Firmware));
    }

    [Fact]
    public void A_pause_that_ends_with_a_phase_change_is_a_stall_of_the_phase_it_ended()
    {
        // The bootstrap finishes, then the logon server answers nothing for 40 s before the first read is answered.
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(2.01).ServerUdp(6910, 6901, new byte[184])
            .At(3).Read(1).At(45).Burst(1).At(45.1).Read(2).At(45.2).Burst(2);

        var session = Only(scenario.Run());

        var stall = Assert.Single(session.Issues, i => i.Kind == BootIssueKind.Stall);
        Assert.Equal(BootPhase.PvsLogon, stall.Phase);
        Assert.Contains("42", stall.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_that_restarts_pxe_while_streaming_loops_and_the_count_runs_until_a_boot_gets_through()
    {
        var scenario = new BootScenario();
        var t = 0.0;
        for (var loop = 0; loop < 3; loop++, t += 20)
        {
            scenario.Dhcp((uint)(10 + loop), t).Download(t + 1).At(t + 2).Logon(loop).At(t + 3).Read(loop * 10).At(t + 3.01).Burst(loop * 10);
        }

        scenario.At(t).WindowsRequest(99).At(t + 1).Read(500, devicePort: 6902);
        var sessions = Assert.Single(scenario.Run(captureEnd: t + 30).Devices).Sessions;

        Assert.True(sessions.Count == 3, string.Join("\n", sessions.Select(s => $"{s.Start:O} {s.Outcome} {s.Phase} {s.LoopCount} {string.Join(",", s.Issues.Select(i => i.Detail))}")));
        Assert.Equal([1, 2, 0], sessions.Select(s => s.LoopCount));
        foreach (var looped in sessions.Take(2))
        {
            var issue = Assert.Single(looped.Issues);
            Assert.Equal((BootOutcome.Failed, BootIssueKind.BootLoop), (looped.Outcome, issue.Kind));
            Assert.Contains("BNIStack", issue.Detail, StringComparison.Ordinal);
            Assert.Contains("STOP 0x7B", issue.Hint, StringComparison.Ordinal);
            Assert.Contains("hidden", issue.Hint, StringComparison.Ordinal);
        }

        Assert.Contains("2 boots in a row", sessions[1].Issues[0].Detail, StringComparison.Ordinal);
        Assert.Equal(BootOutcome.Booted, sessions[2].Outcome);
    }

    [Fact]
    public void A_device_joined_while_windows_streams_with_concurrent_io_is_booted_and_never_stuck()
    {
        var scenario = new BootScenario()
            .At(0).Read(1, devicePort: 6902).At(0.001).Burst(1, devicePort: 6902)              // joined: PvsLogon, then SingleReadMode
            .At(1).Read(2, devicePort: 6902).At(1.0001).Read(3, devicePort: 6902).At(1.0002).Read(4, devicePort: 6902)
            .At(1.01).Burst(2, devicePort: 6902);

        var session = Only(scenario.Run(captureEnd: 200));

        Assert.True(session.JoinedMidBoot);
        Assert.Equal((BootOutcome.Booted, BootPhase.BniStack), (session.Outcome, session.Phase));
        Assert.DoesNotContain(session.Issues, i => i.Kind == BootIssueKind.Stuck);
    }

    [Fact]
    public void A_booted_device_that_keeps_streaming_after_its_session_settled_is_no_new_boot()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(3).Read(1).At(3.01).Burst(1)
            .At(4).WindowsRequest(7).At(5).Read(10, devicePort: 6902).At(5.01).Burst(10, devicePort: 6902)
            .At(50).Add(FrameBuilder.Arp(1, Router, RouterIp, default, BootScenario.ServerIp))       // the clock moves on: the boot settles
            .At(100).Read(11, devicePort: 6902).At(100.01).Burst(11, devicePort: 6902);

        var session = Only(scenario.Run(captureEnd: 300));

        Assert.Equal(BootOutcome.Booted, session.Outcome);
        Assert.Equal(scenario.Time(5.01), session.End);
    }
}
