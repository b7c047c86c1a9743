namespace PvsFleet.Collector.Simulation;

/// <summary>The failures the simulator plants, each with the tracker verdict it should produce.</summary>
public enum InjectedFailure
{
    /// <summary>A healthy boot that reaches BNIStack.</summary>
    None = 0,

    /// <summary>No DHCP server answers: DISCOVER retries with PXE backoff, then silence (Stuck in IpAcquisition).</summary>
    NoDhcpOffer,

    /// <summary>The TFTP server answers the RRQ with ERROR 1 "File not found" (Failed, TftpError).</summary>
    BootstrapNotFound,

    /// <summary>The TFTP server stops mid-transfer; the client re-sends its last ACK, then gives up (Stuck in BootstrapDownload).</summary>
    TftpTimeout,

    /// <summary>Logon requests are never answered; re-sent every ~5 s, then silence (Stuck in PvsLogon).</summary>
    LogonTimeout,

    /// <summary>A single-mode read is never answered; re-sent at 5, 10, 20, 40 s intervals (Stuck in SingleReadMode).</summary>
    SingleReadStall,

    /// <summary>Many identical read retransmits in BNIStack (Large Send Offload), yet the boot completes (Booted).</summary>
    RetransmitStorm,

    /// <summary>After the bootstrap download the device starts PXE again: first session Failed (PxeRestarted), second boots.</summary>
    PxeRestart,

    /// <summary>The proxyDHCP server never answers the boot-server REQUEST on UDP 4011; re-sent, then silence (Stuck in IpAcquisition).</summary>
    ProxyUnanswered,

    /// <summary>The device restarts PXE twice while streaming through UNDI (Failed, BootLoop, 1 then 2 in a row), then boots.</summary>
    BootLoop,
}
