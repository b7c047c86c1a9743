using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>Every problem the tracker reports, worded for a PVS admin, with the first thing to check.</summary>
internal static class IssueCatalog
{
    /// <summary>Offers without PXE information only: the same advice whether the device asks again or is stuck.</summary>
    private const string NoPxeAnswerHint =
        "no PXE answer reaches the device: check the PVS PXE service (or DHCP options 66/67 and option 60 PXEClient on the DHCP server) and, on routed subnets, an IP helper towards the PXE server";

    public static BootIssue TftpError(DateTime at, uint server, string? file, ushort code, string message) => new(
        BootIssueKind.TftpError, at, BootPhase.BootstrapDownload,
        $"TFTP server {Ipv4Address.Format(server)}: {Describe(file)} — {message} (TFTP error {code})",
        code == TftpPacket.ErrorFileNotFound
            ? "check DHCP option 67 or the PXE service's bootstrap (ARDBP32.bin for BIOS, pvsnbpx64.efi for UEFI) and the TFTP root"
            : "check the TFTP service on that server and its access rights to the bootstrap file");

    public static BootIssue TftpClientAbort(DateTime at, string? file, ushort code, string message) => new(
        BootIssueKind.TftpClientAbort, at, BootPhase.BootstrapDownload,
        $"the device aborted the download of {Describe(file)}: {message} (TFTP error {code})",
        "check the negotiated block size against the path MTU and the firmware's TFTP support");

    public static BootIssue DhcpNak(DateTime at, uint server) => new(
        BootIssueKind.DhcpNak, at, BootPhase.IpAcquisition,
        $"DHCP server {Ipv4Address.Format(server)} refused the device's request (DHCPNAK)",
        "check the scope, its reservations for this MAC and competing DHCP servers on the subnet");

    public static BootIssue PxeRestarted(DateTime at, BootPhase phase) => new(
        BootIssueKind.PxeRestarted, at, phase,
        phase switch
        {
            BootPhase.IpAcquisition or BootPhase.BootstrapDownload => "the device restarted PXE before the bootstrap download finished",
            BootPhase.PvsLogon => "bootstrap downloaded but the device restarted PXE",
            _ => $"the device restarted PXE during {phase}",
        },
        phase switch
        {
            BootPhase.IpAcquisition or BootPhase.BootstrapDownload => "check the TFTP path (UDP 69 and its data ports) and the boot file the DHCP answer names",
            BootPhase.PvsLogon => "the bootstrap did not start or could not log on: check it matches the firmware (ARDBP32.bin for BIOS, pvsnbpx64.efi for UEFI), Secure Boot, and the login servers in the bootstrap",
            _ => "the device rebooted while streaming: check the vDisk, the NIC driver and the console of the device",
        });

    public static BootIssue BootLoop(DateTime at, int loops) => new(
        BootIssueKind.BootLoop, at, BootPhase.SingleReadMode,
        loops > 1
            ? $"the device restarted PXE while streaming through UNDI, {loops} boots in a row: the hand-off to BNIStack fails"
            : "the device restarted PXE while streaming through UNDI: the hand-off to BNIStack failed",
        "Windows lost the PVS network stack as it loaded: check that no NIC driver or VM tools (VMware Tools, Xen/Citrix tools) replaced the NIC the vDisk was built with, "
        + "remove hidden (ghost) NICs from the vDisk, and look for STOP 0x7B on the console");

    public static BootIssue MultiplePxeServers(DateTime at, uint first, uint second) => new BootIssue(
        BootIssueKind.MultiplePxeServers, at, BootPhase.IpAcquisition,
        $"two servers gave this PXE client boot information: {Ipv4Address.Format(first)} and {Ipv4Address.Format(second)}",
        "a rogue or second PXE service (WDS, another PVS PXE service, a DHCP scope with options 66/67) races the PVS one: keep one per segment, or scope the other away from target devices")
    { Server = Servers([first, second]) };

    public static BootIssue Fragmentation(DateTime at, BootPhase phase, string what, uint server) => new BootIssue(
        BootIssueKind.Fragmentation, at, phase,
        $"the device's {what} datagrams arrive in IP fragments",
        phase == BootPhase.BootstrapDownload
            ? "the TFTP block size is above what the path carries: lower the PXE service's or TFTP server's maximum blksize (1432 fits a 1500-byte MTU with VLAN tags), or fix the path MTU"
            : "the PVS MTU setting is above what the path carries: set the Stream Service MTU to the path's (1506 default = 1464-byte payload), or fix the path MTU / jumbo frames end to end")
    { Server = Servers([server]) };

    public static BootIssue BootstrapFirmwareMismatch(DateTime at, string file, Firmware firmware, uint server) => new BootIssue(
        BootIssueKind.BootstrapFirmwareMismatch, at, BootPhase.BootstrapDownload,
        $"a {firmware} client asked for {file}, the bootstrap of the other firmware",
        "point DHCP option 67 (or the PXE service) at ARDBP32.bin for BIOS and pvsnbpx64.efi for UEFI, for example with a vendor-class (option 60/93) policy")
    { Server = Servers([server]) };

    public static BootIssue NoPxeOffer(DateTime at, IReadOnlyList<uint> servers) => new BootIssue(
        BootIssueKind.NoPxeOffer, at, BootPhase.IpAcquisition,
        $"only offers without PXE boot information, from {Servers(servers)}: the device asks again",
        NoPxeAnswerHint)
    { Server = Servers(servers) };

    public static BootIssue Stuck(DateTime at, BootSession session, TimeSpan silence)
    {
        var phase = session.Phase;
        var seconds = silence.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
        if (phase == BootPhase.IpAcquisition && session.ProxyServer != 0 && !session.ProxyAnswered)
        {
            return new(BootIssueKind.Stuck, at, phase,
                $"proxyDHCP server {Ipv4Address.Format(session.ProxyServer)} did not answer the device's boot-server REQUEST on UDP 4011 (no progress for {seconds} s in {phase})",
                "check the PXE service on that server is running and that UDP 4011 reaches it (firewall, IP helper); the device has an address but no bootstrap to load");
        }

        if (phase == BootPhase.IpAcquisition && !session.PxeOfferSeen && session.PlainOfferServers is { } plain)
        {
            return new(BootIssueKind.Stuck, at, phase,
                $"only offers without PXE boot information, from {Servers(plain)} (no progress for {seconds} s in {phase})",
                NoPxeAnswerHint);
        }

        if (phase == BootPhase.IpAcquisition && session.AddressAcknowledged)
        {
            return new(BootIssueKind.Stuck, at, phase,
                $"the device got its address but never asked for the bootstrap (no progress for {seconds} s in {phase})",
                "check the boot file and next server the DHCP or PXE answer names (options 66/67), and that TFTP (UDP 69) is reachable");
        }

        return new(BootIssueKind.Stuck, at, phase, $"no progress for {seconds} s in {phase}", HintFor(phase));
    }

    public static BootIssue Stall(DateTime at, BootPhase phase, TimeSpan pause) => new(
        BootIssueKind.Stall, at, phase,
        $"the boot paused {pause.TotalSeconds:0.#} s in {phase} before it went on",
        HintFor(phase));

    public static BootIssue RetransmitStorm(DateTime at, BootPhase phase, int retries) => new(
        BootIssueKind.RetransmitStorm, at, phase,
        $"{retries} retransmits in {phase}",
        phase is BootPhase.IpAcquisition
            ? "the device repeats DHCP: check that DHCP/proxyDHCP answers reach it (IP helpers, option 60)"
            : "disable Large Send Offload on the PVS servers' NICs and check the path for loss or an MTU mismatch");

    private static string HintFor(BootPhase phase) => phase switch
    {
        BootPhase.IpAcquisition => "no usable DHCP answer: check the scope, IP helpers on the router for routed subnets, and the PXE service / option 60",
        BootPhase.BootstrapDownload => "TFTP stalled: check the TFTP service, UDP 69 and its data ports through firewalls, and the block size against the MTU",
        BootPhase.PvsLogon => "no logon or no first read: check the Stream Service is running, UDP 6910–6930 are reachable, and the device is in a collection",
        BootPhase.SingleReadMode => "streaming through UNDI stalled: check vDisk store access and Large Send Offload; a hang just before Windows loads points at BNIStack (VMware/Xen tools, antivirus filter drivers)",
        _ => "check the device's console",
    };

    // Sorted, so every device that sees the same pair of servers names them alike.
    private static string Servers(IReadOnlyList<uint> servers) =>
        string.Join(", ", servers.Where(s => s != 0).Distinct().Order().Select(Ipv4Address.Format));

    private static string Describe(string? file) => file is null ? "the bootstrap" : $"file {file}";
}
