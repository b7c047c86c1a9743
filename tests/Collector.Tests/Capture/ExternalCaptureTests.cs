using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>
/// Real PXE, DHCP and TFTP traffic recorded by other open-source projects (../shared/captures/external, read in place):
/// what each file's README says it holds is what the tracker must read from it.
/// </summary>
public class ExternalCaptureTests
{
    private static AnalysisReport Analyze(TrackerOptions options, params string[] names) =>
        new CaptureAnalyzer(options).Analyze(names.Select(Repository.External).ToList());

    private static AnalysisReport Analyze(params string[] names) => Analyze(new TrackerOptions(), names);

    private static PhaseReport Phase(SessionReport session, BootPhase phase) => session.Phases.Single(p => p.Name == phase);

    [Fact]
    public void Pixiecore_uefi_boot_names_the_router_that_only_offers_without_pxe_information_then_downloads_646_blocks()
    {
        var report = Analyze("rs_pxe-uefi_tftp_pixiecore.pcapng");

        Assert.Equal(0, report.Malformed);
        var device = Assert.Single(report.Devices);
        Assert.Equal("a8:a1:59:b7:4c:3b", device.Mac);
        Assert.Equal(2, device.Sessions.Count);
        var firmware = device.Sessions[0];
        Assert.Equal(Firmware.Uefi, firmware.Firmware);
        Assert.Equal("192.168.178.84", firmware.Ip);

        // ~72 s of DISCOVER retries answered only by the router (192.168.178.1), which names itself as next server.
        var noPxe = Assert.Single(firmware.Issues, i => i.Kind == BootIssueKind.NoPxeOffer);
        Assert.Contains("only offers without PXE boot information, from 192.168.178.1", noPxe.Detail, StringComparison.Ordinal);
        Assert.Contains("PXE service", noPxe.Hint, StringComparison.Ordinal);
        Assert.Contains("IP helper", noPxe.Hint, StringComparison.Ordinal);
        Assert.Contains(firmware.Issues, i => i.Kind == BootIssueKind.Stuck && i.Detail.Contains("only offers without PXE", StringComparison.Ordinal));
        Assert.True(Phase(firmware, BootPhase.IpAcquisition).Retries >= 6);

        // The proxyDHCP exchange on 4011 is still IpAcquisition; the tsize probe's RRQ starts the download and its ERROR 8 is normal.
        Assert.DoesNotContain(firmware.Issues, i => i.Kind is BootIssueKind.TftpClientAbort or BootIssueKind.TftpError);
        Assert.Equal("a8:a1:59:b7:4c:3b/2", firmware.BootFile);
        Assert.Equal("192.168.178.97", firmware.TftpServer);
        Assert.Equal(new BootstrapReport(646, 1450, 1, firmware.Bootstrap!.TransferSize, true), firmware.Bootstrap); // windowsize 4 asked, not granted
        Assert.Equal(Phase(firmware, BootPhase.BootstrapDownload).End, Phase(firmware, BootPhase.PvsLogon).Start);

        // Then iPXE asks DHCP again (its boot file is an HTTP URL): the downloaded bootstrap did not log on to PVS.
        Assert.Equal(BootOutcome.Failed, firmware.Outcome);
        Assert.Contains(firmware.Issues, i => i.Kind == BootIssueKind.PxeRestarted);
        Assert.StartsWith("http://192.168.178.97:80/", device.Sessions[1].BootFile, StringComparison.Ordinal);
    }

    [Fact]
    public void Intel_bios_rom_with_proxy_dhcp_on_4011_starts_its_download_at_the_rrq_and_its_size_probe_abort_is_normal()
    {
        var report = Analyze("rs_pxe-intel_bios_dhcp.pcapng", "rs_pxe-intel_bios_tftp.pcapng");

        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        Assert.Equal("00:01:2e:91:f7:fe", Assert.Single(report.Devices).Mac);
        Assert.Equal(Firmware.Bios, session.Firmware);
        Assert.Equal("ipxe.pxe", session.BootFile);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phase);
        Assert.Equal(BootOutcome.InProgress, session.Outcome);
        var firstRrq = Phase(session, BootPhase.BootstrapDownload).Start;
        Assert.Equal(firstRrq, Phase(session, BootPhase.IpAcquisition).End);
        Assert.True(firstRrq > report.CaptureStart!.Value.AddSeconds(4), "the proxy exchange on 4011 stays in IpAcquisition");
        Assert.Empty(session.Issues); // tsize probe, abort (ERROR 0), RRQ again: normal
        Assert.Equal(1456, session.Bootstrap!.BlockSize);
    }

    [Fact]
    public void Intel_uefi_rom_asks_windowsize_4_and_gets_1_and_its_error_8_is_the_normal_size_probe()
    {
        var report = Analyze("rs_pxe-intel_efi_dhcp.pcapng", "rs_pxe-intel_efi_tftp.pcapng");

        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        Assert.Equal(Firmware.Uefi, session.Firmware);
        Assert.Equal("ipxe.efi", session.BootFile);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phase);
        Assert.Empty(session.Issues);
        Assert.Equal((1468, 1), (session.Bootstrap!.BlockSize, session.Bootstrap.WindowSize));
    }

    [Fact]
    public void Amd_uefi_discover_alone_is_a_uefi_device_in_ip_acquisition()
    {
        var report = Analyze("rs_pxe-amd_efi_dhcp.pcapng");

        var device = Assert.Single(report.Devices);
        Assert.Equal("e8:80:88:78:ce:af", device.Mac);
        var session = Assert.Single(device.Sessions);
        Assert.Equal((Firmware.Uefi, BootPhase.IpAcquisition, BootOutcome.InProgress), (session.Firmware, session.Phase, session.Outcome));
    }

    [Fact]
    public void Netboot_proxy_offer_with_option_43_and_no_address_is_pxe_information_and_the_relayed_request_is_not_a_retry()
    {
        var report = Analyze("netboot-dhcp.pcap");

        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        Assert.Equal("d0:50:99:4e:05:57", Assert.Single(report.Devices).Mac);
        Assert.Equal(BootPhase.IpAcquisition, session.Phase);
        Assert.Equal(0, session.Phases[0].Retries);
        Assert.DoesNotContain(session.Issues, i => i.Kind == BootIssueKind.NoPxeOffer || i.Detail.Contains("only offers", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("suricata-verify-dhcp-option-52-overload.pcap")]
    [InlineData("suricata-verify-dhcp-option-52-overload-both.pcap")]
    [InlineData("tcpdump-dhcp-mud.pcap")]
    [InlineData("tcpdump-dhcp-option-108.pcapng")]
    [InlineData("tcpdump-dhcp-rfc3004.pcap")]
    [InlineData("zeek-dhcp_time_and_nameserver.pcap")]
    [InlineData("zeek-hw-type0.pcap")]
    public void Dhcp_that_is_not_pxe_decodes_cleanly_and_makes_no_device(string file)
    {
        var report = Analyze(file);

        Assert.True(report.Packets > 0);
        Assert.Equal(0, report.Malformed);
        Assert.Empty(report.Devices); // no PXEClient vendor class: relays, overload, user classes, a pxelinux.0 ACK — none is a PVS boot
    }

    [Fact]
    public void Plain_tftp_transfers_and_writes_never_become_devices()
    {
        foreach (var file in new[] { "ndpi-tftp.pcap", "suricata-verify-tftp-rrq-rfc1350.pcap" })
        {
            Assert.Empty(Analyze(file).Devices);
        }
    }

    [Fact]
    public void A_read_of_a_configured_bootstrap_name_joins_mid_boot_and_completes_its_rfc1350_download()
    {
        // The same RFC 1350 read, with its file named as a bootstrap: a boot whose DHCP the collector did not see.
        var options = new TrackerOptions { BootstrapFileNames = ["rfc1350.txt"] };
        var report = Analyze(options, "suricata-verify-tftp-rrq-rfc1350.pcap");

        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        Assert.True(session.JoinedMidBoot);
        Assert.Equal("192.168.0.253", session.Ip);
        Assert.Equal(report.CaptureStart, session.Start);
        Assert.Equal(BootPhase.BootstrapDownload, session.Phases[0].Name);
        Assert.Equal(new BootstrapReport(49, 512, 1, null, true), session.Bootstrap);
        Assert.Equal(BootPhase.PvsLogon, session.Phase);
        Assert.Equal(0, session.Phases.Sum(p => p.Retries));
    }
}
