namespace PvsFleet.Contracts;

/// <summary>The kinds of problem a boot session can show, each explained to the admin with a hint.</summary>
public enum BootIssueKind
{
    /// <summary>The TFTP server answered the bootstrap request with an ERROR packet.</summary>
    TftpError,

    /// <summary>A DHCP server refused the device's request (DHCPNAK).</summary>
    DhcpNak,

    /// <summary>The device started PXE again: the bootstrap never ran, or the boot broke off.</summary>
    PxeRestarted,

    /// <summary>No progress for longer than the phase's threshold.</summary>
    Stuck,

    /// <summary>Progress resumed after a pause longer than the phase's threshold.</summary>
    Stall,

    /// <summary>The device aborted a TFTP transfer with an error other than the normal size probe.</summary>
    TftpClientAbort,

    /// <summary>Many retransmits in one phase: typically Large Send Offload or a lossy path.</summary>
    RetransmitStorm,

    /// <summary>The device repeated its DISCOVER because every offer it got lacked PXE boot information.</summary>
    NoPxeOffer,

    /// <summary>The device restarted PXE while the bootstrap streamed the vDisk: the hand-off to BNIStack failed (a boot loop).</summary>
    BootLoop,

    /// <summary>Network hygiene: more than one server gave this PXE client boot information (a rogue or a second PXE service).</summary>
    MultiplePxeServers,

    /// <summary>Network hygiene: the device's TFTP or PVS datagrams arrive in IP fragments (block size or MTU above the path's).</summary>
    Fragmentation,

    /// <summary>Network hygiene: the device asked for a bootstrap built for the other firmware (ARDBP32.bin on UEFI, pvsnbpx64.efi on BIOS).</summary>
    BootstrapFirmwareMismatch,
}
