using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Tracking;

public class BootTrackerTests
{
    private static SessionReport Only(AnalysisReport report)
    {
        var device = Assert.Single(report.Devices);
        Assert.Equal(BootScenario.Device.ToString(), device.Mac);
        return Assert.Single(device.Sessions);
    }

    private static PhaseReport Phase(SessionReport session, BootPhase phase) => session.Phases.Single(p => p.Name == phase);

    [Fact]
    public void Session_ids_are_time_ordered_uuids()
    {
        // The API indexes sessions by id: ids that grow with time are appended to those indexes instead of scattered.
        var mac = MacAddress.Parse("52:54:00:00:00:01");
        var first = new BootSession(mac, DateTime.UtcNow).Id;
        Thread.Sleep(2);
        var second = new BootSession(mac, DateTime.UtcNow).Id;

        Assert.Equal(7, first.Version);
        Assert.True(string.CompareOrdinal(first.ToString(), second.ToString()) < 0, $"{first} then {second}");
    }

    [Fact]
    public void Discover_retries_are_counted_and_duplicate_offers_are_not()
    {
        var scenario = new BootScenario()
            .At(0).Discover(7).At(1).Discover(7, secs: 1).At(3).Discover(7, secs: 3)
            .At(3.5).Offer(7).At(3.51).Offer(7).At(3.6).Request(7).At(3.7).Ack(7).At(3.71).Ack(7)
            .At(3.8).ReadRequest(2070, "ARDBP32.bin");

        var session = Only(scenario.Run());

        Assert.Equal(2, Phase(session, BootPhase.IpAcquisition).Retries);
        Assert.Equal(scenario.Time(0), session.Start);
        Assert.Equal(scenario.Time(3.8), Phase(session, BootPhase.IpAcquisition).End);
        Assert.Equal("10.1.1.156", session.Ip);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phase);
        Assert.Equal(BootOutcome.InProgress, session.Outcome);
    }

    [Fact]
    public void Relayed_dhcp_is_keyed_by_chaddr_and_the_relays_copy_is_not_a_retry()
    {
        var scenario = new BootScenario();
        var discover = new DhcpBuilder(DhcpMessage.OpRequest, BootScenario.Device, 9, DhcpMessageType.Discover).Pxe(7);
        var relayed = new DhcpBuilder(DhcpMessage.OpRequest, BootScenario.Device, 9, DhcpMessageType.Discover).Pxe(7)
            .Hops(1).RelayAddress(BootScenario.RelayIp);
        var offerToRelay = new DhcpBuilder(DhcpMessage.OpReply, BootScenario.Device, 9, DhcpMessageType.Ack)
            .YourAddress(BootScenario.DeviceIp).RelayAddress(BootScenario.RelayIp).Address(54, BootScenario.ServerIp).Option(67, "pvsnbpx64.efi");
        scenario.At(0).ClientDhcp(discover)
            .At(0.001).Add(FrameBuilder.Udp(BootScenario.Relay, BootScenario.Server, BootScenario.RelayIp, BootScenario.ServerIp, 67, 67, relayed.Build()))
            .At(0.5).Add(FrameBuilder.Udp(BootScenario.Server, BootScenario.Relay, BootScenario.ServerIp, BootScenario.RelayIp, 67, 67, offerToRelay.Build()))
            .At(0.501).Add(FrameBuilder.Udp(BootScenario.Relay, FrameBuilder.Broadcast, BootScenario.RelayIp, 0xFFFFFFFF, 67, 68, offerToRelay.Build()));

        var report = scenario.Run();

        var session = Only(report);
        Assert.Equal(0, Phase(session, BootPhase.IpAcquisition).Retries);
        Assert.Equal(Firmware.Uefi, session.Firmware);
        Assert.Equal("pvsnbpx64.efi", session.BootFile);
        Assert.Equal("10.1.1.156", session.Ip);
        Assert.Equal(BootPhase.IpAcquisition, session.Phase); // until the bootstrap's first RRQ
    }

    [Fact]
    public void ProxyDhcp_exchange_on_4011_belongs_to_ip_acquisition()
    {
        var scenario = new BootScenario().Dhcp(1, 0);
        var proxyRequest = new DhcpBuilder(DhcpMessage.OpRequest, BootScenario.Device, 1, DhcpMessageType.Request).Pxe(0);
        var proxyAck = new DhcpBuilder(DhcpMessage.OpReply, BootScenario.Device, 1, DhcpMessageType.Ack)
            .Option(60, "PXEClient").Option(67, "ARDBP32.bin").Address(54, BootScenario.ServerIp);
        scenario.At(1.0).Add(FrameBuilder.Udp(BootScenario.Device, BootScenario.Server, BootScenario.DeviceIp, BootScenario.ServerIp, 68, 4011, proxyRequest.Build()))
            .At(1.1).Add(FrameBuilder.Udp(BootScenario.Server, BootScenario.Device, BootScenario.ServerIp, BootScenario.DeviceIp, 4011, 68, proxyAck.Build()))
            .Download(2);

        var session = Only(scenario.Run());

        Assert.Equal(scenario.Time(2), Phase(session, BootPhase.IpAcquisition).End);
        Assert.Equal(scenario.Time(2), Phase(session, BootPhase.BootstrapDownload).Start);
        Assert.Equal(0, Phase(session, BootPhase.IpAcquisition).Retries);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);
    }

    [Fact]
    public void Bootstrap_download_ends_at_the_ack_of_the_short_block_under_the_negotiated_blksize()
    {
        var scenario = new BootScenario().Dhcp(1, 0)
            .At(1).ReadRequest(2070, "ARDBP32.bin", "blksize", "1432", "tsize", "0")
            .At(1.001).OptionAck(40000, 2070, "blksize", "1432", "tsize", "2000")
            .At(1.002).TftpAck(2070, 40000, 0)
            // 1024 bytes would end a transfer at the default 512 but not at the negotiated 1432... nor does 1432.
            .At(1.003).Data(40000, 2070, 1, 1432).At(1.004).TftpAck(2070, 40000, 1)
            .At(1.005).Data(40000, 2070, 2, 568).At(1.006).TftpAck(2070, 40000, 2);

        var session = Only(scenario.Run());

        Assert.Equal(scenario.Time(1.006), Phase(session, BootPhase.BootstrapDownload).End);
        Assert.Equal(new BootstrapReport(2, 1432, 1, 2000, true), session.Bootstrap);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);
    }

    [Fact]
    public void Without_oack_the_default_512_byte_block_size_decides_the_last_block()
    {
        var scenario = new BootScenario().Dhcp(1, 0)
            .At(1).ReadRequest(2070, "ARDBP32.bin")
            .At(1.001).Data(40000, 2070, 1, 512).At(1.002).TftpAck(2070, 40000, 1)
            .At(1.003).Data(40000, 2070, 2, 100).At(1.004).TftpAck(2070, 40000, 2);

        var session = Only(scenario.Run());

        Assert.Equal(BootPhase.PvsLogon, session.Phase);
        Assert.Equal(2, session.Bootstrap!.Blocks);
    }

    [Fact]
    public void Tsize_probe_aborted_by_the_client_with_error_8_is_normal()
    {
        var scenario = new BootScenario().Dhcp(1, 0, arch: 7, bootFile: "pvsnbpx64.efi")
            .At(1).ReadRequest(1500, "pvsnbpx64.efi", "tsize", "0")
            .At(1.001).OptionAck(40000, 1500, "tsize", "118784")
            .At(1.002).TftpError(fromDevice: true, 8, "User aborted the transfer", 1500, 40000)
            .Download(1.01, file: "pvsnbpx64.efi", blocks: 81, blockSize: 1468, clientPort: 1501, serverPort: 40001);

        var session = Only(scenario.Run());

        Assert.Empty(session.Issues);
        Assert.Equal(BootOutcome.InProgress, session.Outcome);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);
        Assert.Equal(0, Phase(session, BootPhase.BootstrapDownload).Retries);
        Assert.Equal(81, session.Bootstrap!.Blocks);
    }

    [Fact]
    public void Windowsize_4_acknowledges_every_fourth_block_without_retries()
    {
        var scenario = new BootScenario().Dhcp(1, 0)
            .At(1).ReadRequest(2070, "ARDBP32.bin", "blksize", "1468", "windowsize", "4")
            .At(1.001).OptionAck(40000, 2070, "blksize", "1468", "windowsize", "4")
            .At(1.002).TftpAck(2070, 40000, 0);
        var t = 1.003;
        for (ushort block = 1; block <= 10; block++)
        {
            scenario.At(t += 0.001).Data(40000, 2070, block, block == 10 ? 10 : 1468);
            if (block % 4 == 0 || block == 10)
            {
                scenario.At(t += 0.001).TftpAck(2070, 40000, block);
            }
        }

        var session = Only(scenario.Run());

        Assert.Equal(BootPhase.PvsLogon, session.Phase);
        Assert.Equal(0, Phase(session, BootPhase.BootstrapDownload).Retries);
        Assert.Equal(new BootstrapReport(10, 1468, 4, null, true), session.Bootstrap);
    }

    [Fact]
    public void Retransmitted_blocks_and_repeated_acks_are_retries_not_progress()
    {
        var scenario = new BootScenario().Dhcp(1, 0)
            .At(1).ReadRequest(2070, "ARDBP32.bin", "blksize", "1432")
            .At(1.001).OptionAck(40000, 2070, "blksize", "1432")
            .At(1.002).TftpAck(2070, 40000, 0)
            .At(1.003).Data(40000, 2070, 1, 1432)
            .At(6.003).Data(40000, 2070, 1, 1432) // the ACK was lost: the server sends block 1 again
            .At(6.004).TftpAck(2070, 40000, 1)
            .At(6.005).Data(40000, 2070, 2, 1432)
            .At(11).TftpAck(2070, 40000, 1)       // ... and the client re-acknowledges block 1
            .At(40);                              // silence: only retransmits since 6.005

        var report = scenario.Add(FrameBuilder.Arp(1, BootScenario.Server, BootScenario.ServerIp, default, BootScenario.DeviceIp)).Run();

        var session = Only(report);
        Assert.Equal(2, Phase(session, BootPhase.BootstrapDownload).Retries);
        Assert.Equal(BootOutcome.Stuck, session.Outcome);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phase);
        Assert.Null(session.End);
        Assert.Contains(session.Issues, i => i.Kind == BootIssueKind.Stuck && i.Detail.Contains("BootstrapDownload", StringComparison.Ordinal));
    }

    [Fact]
    public void Server_tftp_error_fails_the_session_with_the_servers_message()
    {
        var scenario = new BootScenario().Dhcp(1, 0, bootFile: "ARDBP64.bin")
            .At(1).ReadRequest(2070, "ARDBP64.bin", "blksize", "1432")
            .At(1.001).TftpError(fromDevice: false, 1, "File not found", 2070, 40000);

        var session = Only(scenario.Run());

        Assert.Equal(BootOutcome.Failed, session.Outcome);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phase);
        Assert.Equal(scenario.Time(1.001), session.End);
        var issue = Assert.Single(session.Issues);
        Assert.Equal(BootIssueKind.TftpError, issue.Kind);
        Assert.Contains("10.1.1.1", issue.Detail, StringComparison.Ordinal);
        Assert.Contains("ARDBP64.bin", issue.Detail, StringComparison.Ordinal);
        Assert.Contains("File not found", issue.Detail, StringComparison.Ordinal);
        Assert.Contains("option 67", issue.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void New_pxe_discover_after_the_bootstrap_download_fails_the_session_and_starts_another()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).Dhcp(2, 5);

        var report = scenario.Run();

        var sessions = Assert.Single(report.Devices).Sessions;
        Assert.Equal(2, sessions.Count);
        Assert.Equal(BootOutcome.Failed, sessions[0].Outcome);
        Assert.Equal(BootPhase.PvsLogon, sessions[0].Phase);
        Assert.Equal(scenario.Time(5), sessions[0].End);
        var issue = Assert.Single(sessions[0].Issues);
        Assert.Equal(BootIssueKind.PxeRestarted, issue.Kind);
        Assert.Equal("bootstrap downloaded but the device restarted PXE", issue.Detail);
        Assert.Equal(scenario.Time(5), sessions[1].Start);
        Assert.Equal(BootPhase.IpAcquisition, sessions[1].Phase);
    }

    [Fact]
    public void The_streaming_server_is_the_one_whose_data_answers_not_the_login_server()
    {
        var stream = Ipv4Address.Parse("10.1.1.2");
        var scenario = new BootScenario().Dhcp(1, 0).Download(1);
        var logonAt = BootScenario.DownloadEnd(1) + 0.5;
        scenario.At(logonAt).Logon(1).At(logonAt + 0.01).Logon(2);
        for (var i = 0; i < 20; i++)
        {
            scenario.At(logonAt + 1 + (i * 0.1)).ReadFrom(stream, i).At(logonAt + 1.01 + (i * 0.1)).BurstFrom(stream, i);
        }

        var session = Only(scenario.Run(captureEnd: 10));

        Assert.Equal(BootPhase.SingleReadMode, Phase(session, BootPhase.SingleReadMode).Name);
        Assert.Equal("10.1.1.1", session.PvsServer);
        Assert.Equal("10.1.1.2", session.StreamServer);
    }

    [Fact]
    public void Windows_dhcp_after_logon_is_bnistack_and_the_boot_is_booted()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1);
        var logonAt = BootScenario.DownloadEnd(1) + 0.5;
        scenario.At(logonAt).Logon(1).At(logonAt + 0.01).Logon(2);
        for (var i = 0; i < 20; i++)
        {
            scenario.At(logonAt + 1 + (i * 0.1)).Read(i).At(logonAt + 1.01 + (i * 0.1)).Burst(i);
        }

        scenario.At(10).WindowsRequest(99).At(11).Read(100, devicePort: 6902).At(12).Burst(100, devicePort: 6902);

        var session = Only(scenario.Run(captureEnd: 30));

        Assert.Equal(BootOutcome.Booted, session.Outcome);
        Assert.Equal(BootPhase.BniStack, session.Phase);
        Assert.Equal("VDA-0001", session.HostName);
        Assert.Equal(Enum.GetValues<BootPhase>(), session.Phases.Select(p => p.Name));
        Assert.Equal(scenario.Time(logonAt + 1), Phase(session, BootPhase.SingleReadMode).Start);
        Assert.Equal(scenario.Time(10), Phase(session, BootPhase.BniStack).Start);
        Assert.Equal(scenario.Time(12), session.End);
        Assert.Equal("10.1.1.1", session.PvsServer);
        Assert.Equal("10.1.1.1", session.StreamServer);
        for (var i = 1; i < session.Phases.Count; i++)
        {
            Assert.Equal(session.Phases[i - 1].End, session.Phases[i].Start);
        }
    }

    [Fact]
    public void Identical_stream_requests_are_retries_and_a_long_stall_in_single_read_mode_is_stuck()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(3).Read(1).At(3.01).Burst(1).At(4).Read(2);
        foreach (var t in new[] { 9.0, 19, 39, 79 })
        {
            scenario.At(t).Read(2); // read timeout 5 s doubling: the same request again
        }

        var at63 = scenario.Run(captureEnd: 63.9);
        var at65 = scenario.Run(captureEnd: 65);

        Assert.Equal(BootOutcome.InProgress, Only(at63).Outcome);
        var stuck = Only(at65);
        Assert.Equal(BootOutcome.Stuck, stuck.Outcome);
        Assert.Equal(BootPhase.SingleReadMode, stuck.Phase);
        Assert.Equal(3, Phase(stuck, BootPhase.SingleReadMode).Retries); // 9, 19 and 39 s; the 79 s one is past the end
    }

    [Fact]
    public void No_offer_is_stuck_in_ip_acquisition_after_30_seconds_even_with_retries()
    {
        var scenario = new BootScenario();
        foreach (var t in new[] { 0.0, 4, 12, 28 })
        {
            scenario.At(t).Discover(5, secs: (ushort)t);
        }

        Assert.Equal(BootOutcome.InProgress, Only(scenario.Run(captureEnd: 29.5)).Outcome);
        var stuck = Only(scenario.Run(captureEnd: 31));
        Assert.Equal(BootOutcome.Stuck, stuck.Outcome);
        Assert.Equal(BootPhase.IpAcquisition, stuck.Phase);
        Assert.Equal(3, Phase(stuck, BootPhase.IpAcquisition).Retries);
        Assert.Contains("option 60", stuck.Issues.Single(i => i.Kind == BootIssueKind.Stuck).Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Dhcp_nak_fails_the_session()
    {
        var scenario = new BootScenario().At(0).Discover(3).At(0.5).Offer(3).At(0.6).Request(3).At(0.7).Nak(3);

        var session = Only(scenario.Run());

        Assert.Equal(BootOutcome.Failed, session.Outcome);
        Assert.Equal(BootIssueKind.DhcpNak, Assert.Single(session.Issues).Kind);
    }

    [Fact]
    public void Progress_after_a_stall_longer_than_the_threshold_is_reported_and_the_session_goes_on()
    {
        var scenario = new BootScenario().Dhcp(1, 0).Download(1).At(2).Logon(1).At(40).Logon(2);

        var session = Only(scenario.Run());

        Assert.Equal(BootOutcome.InProgress, session.Outcome);
        var stall = Assert.Single(session.Issues);
        Assert.Equal(BootIssueKind.Stall, stall.Kind);
        Assert.Equal(BootPhase.PvsLogon, stall.Phase);
        Assert.Contains("38 s", stall.Detail, StringComparison.Ordinal);
    }
}
