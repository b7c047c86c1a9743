namespace PvsFleet.Collector.Simulation;

/// <summary>What a device's script wants on the wire next; composed into bytes only when the merge reaches it.</summary>
/// <remarks>Small and allocation-free, so a device can hold its next frame while thousands of others wait in the queue.</remarks>
internal readonly record struct PlannedFrame(
    long Micros,
    FrameKind Kind,
    ScriptedDhcpMessage Dhcp = default,
    DhcpLeg Leg = default,
    int DevicePort = 0,
    int ServerPort = 0,
    int Number = 0,
    int Fragment = 0,
    int Length = 0);

internal enum FrameKind : byte
{
    /// <summary>Dhcp, Leg; Number = secs.</summary>
    Dhcp,

    /// <summary>DevicePort = client TID; Number = <see cref="TftpRequest"/>.</summary>
    TftpReadRequest,

    /// <summary>DevicePort, ServerPort = server TID; Number = <see cref="TftpRequest"/> being answered.</summary>
    TftpOptionAck,

    /// <summary>DevicePort, ServerPort; Number = block; Length = data bytes.</summary>
    TftpData,

    /// <summary>DevicePort, ServerPort; Number = block.</summary>
    TftpAck,

    /// <summary>From the device: option negotiation abort after the size probe (code 8).</summary>
    TftpClientError,

    /// <summary>From the server: file not found (code 1).</summary>
    TftpServerError,

    /// <summary>Number = logon step; Length = payload bytes.</summary>
    PvsLogonRequest,
    PvsLogonReply,

    /// <summary>DevicePort, ServerPort; Number = I/O sequence.</summary>
    StreamRead,

    /// <summary>DevicePort, ServerPort; Number = I/O sequence; Fragment = index in the burst; Length = payload bytes.</summary>
    StreamData,

    /// <summary>DevicePort, ServerPort; Number = I/O sequence; Fragment = fragments received.</summary>
    StreamAck,
}

internal enum ScriptedDhcpMessage : byte
{
    PxeDiscover,
    PxeOffer,
    PxeRequest,
    PxeAck,

    /// <summary>PXE's proxyDHCP / boot server exchange on UDP 4011.</summary>
    ProxyRequest,
    ProxyAck,

    /// <summary>Windows renewing the bootstrap's lease once its own stack is up: the BNIStack marker.</summary>
    OsRequest,
    OsAck,
}

/// <summary>Which copy of a DHCP message: on a flat network there is one; through a relay, one per segment.</summary>
internal enum DhcpLeg : byte
{
    /// <summary>Client and server share the segment.</summary>
    Direct,

    /// <summary>Between the client and the relay (broadcasts, giaddr as the relay leaves it).</summary>
    ClientSegment,

    /// <summary>Between the relay and the server (unicast, giaddr = relay, hops = 1).</summary>
    ServerSegment,
}

/// <summary>The TFTP requests a PXE client makes.</summary>
internal enum TftpRequest
{
    /// <summary>BIOS: blksize + tsize, lock-step transfer.</summary>
    LockStep,

    /// <summary>UEFI's first request: tsize only, to learn the size; aborted with ERROR 8 after the OACK.</summary>
    SizeProbe,

    /// <summary>UEFI's real request: blksize + windowsize 4 (RFC 7440).</summary>
    Windowed,
}
