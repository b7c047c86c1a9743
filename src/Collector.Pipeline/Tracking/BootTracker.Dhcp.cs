using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>The tracker's DHCP and proxyDHCP rules: sessions begin, retry and learn their address, boot file and servers.</summary>
public sealed partial class BootTracker
{
    private void OnDhcp(DateTime at, in Ipv4Packet ip, in UdpDatagram udp, in DhcpMessage dhcp)
    {
        if (dhcp.ClientMac == default)
        {
            return;
        }

        if (dhcp.Op == DhcpMessage.OpRequest)
        {
            LearnAddress(dhcp.ClientAddress, dhcp.ClientMac);
            OnDhcpFromClient(at, in ip, in udp, in dhcp);
        }
        else
        {
            OnDhcpFromServer(at, in ip, in udp, in dhcp);
        }
    }

    private void OnDhcpFromClient(DateTime at, in Ipv4Packet ip, in UdpDatagram udp, in DhcpMessage dhcp)
    {
        var type = dhcp.Options.MessageType;
        var isPxe = dhcp.Options.VendorClass.StartsWith(pxeVendorPrefix);
        sessionsByMac.TryGetValue(dhcp.ClientMac, out var session);
        LastFrameSession = session;

        if (!isPxe)
        {
            // The OS's own DHCP after logon: Windows' network stack (BNIStack) has taken over from UNDI.
            if (session is not null && session.Phase is BootPhase.PvsLogon or BootPhase.SingleReadMode
                && type is DhcpMessageType.Discover or DhcpMessageType.Request or DhcpMessageType.Inform)
            {
                session.LastActivity = at;
                session.HostName ??= Text(dhcp.Options.HostName);
                Enter(session, BootPhase.BniStack, at);
                session.MarkBooted();
                loopsByMac.Remove(session.Mac);
                Notify(session, SessionChangeKind.OutcomeChanged);
            }
            else if (session is not null && session.Phase == BootPhase.BniStack)
            {
                session.HostName ??= Text(dhcp.Options.HostName);
            }

            return;
        }

        if (session is not null && IsSameMessageSeenAgain(session, in dhcp))
        {
            return;
        }

        if (session is not null && type == DhcpMessageType.Discover && dhcp.Xid != session.LastClientXid
            && session.Phase >= BootPhase.BootstrapDownload)
        {
            EndForPxeRestart(session, at);
            session = null;
        }

        if (session is null)
        {
            if (type is not (DhcpMessageType.Discover or DhcpMessageType.Request))
            {
                return;
            }

            session = StartSession(dhcp.ClientMac, at, BootPhase.IpAcquisition);
            LastFrameSession = session;
        }
        else if (udp.DestinationPort == ProxyDhcpPort && type == DhcpMessageType.Request)
        {
            // Boot server discovery: the REQUEST after the address REQUEST is a new step, its repeat a retry.
            if (++session.ProxyRequests > 1 && !session.ProxyAnswered)
            {
                CountRetry(session, at);
            }
        }
        else if (session.Phase == BootPhase.IpAcquisition && type == session.LastClientMessage)
        {
            CountRetry(session, at);
            if (type == DhcpMessageType.Discover && session is { PxeOfferSeen: false, NoPxeOfferReported: false, PlainOfferServers: { } plain })
            {
                session.NoPxeOfferReported = true;
                AddIssue(session, IssueCatalog.NoPxeOffer(at, plain));
            }
        }

        if (udp.DestinationPort == ProxyDhcpPort && type == DhcpMessageType.Request && session.Phase == BootPhase.IpAcquisition)
        {
            session.ProxyServer = ip.Destination;
        }

        session.LastActivity = at;
        session.LastClientMessage = type;
        session.LastClientXid = dhcp.Xid;
        session.LastClientSecs = dhcp.Secs;
        session.LastClientHops = dhcp.Hops;
        session.LastClientRelay = dhcp.RelayAddress;
        if (dhcp.Options.ClientArchitecture is { } arch)
        {
            session.Firmware = FirmwareOf(arch);
        }
        else if (session.Firmware == Firmware.Unknown)
        {
            session.Firmware = FirmwareOfVendorClass(dhcp.Options.VendorClass);
        }
    }

    /// <summary>
    /// A relay forwards the client's broadcast: the same message (type, xid, secs) with other hops or giaddr is
    /// one message seen twice on the mirror, not a retry.
    /// </summary>
    private static bool IsSameMessageSeenAgain(BootSession session, in DhcpMessage dhcp) =>
        dhcp.Options.MessageType == session.LastClientMessage
        && dhcp.Xid == session.LastClientXid
        && dhcp.Secs == session.LastClientSecs
        && (dhcp.Hops != session.LastClientHops || dhcp.RelayAddress != session.LastClientRelay);

    private void OnDhcpFromServer(DateTime at, in Ipv4Packet ip, in UdpDatagram udp, in DhcpMessage dhcp)
    {
        if (dhcp.Options.MessageType == DhcpMessageType.Ack)
        {
            LearnAddress(dhcp.YourAddress, dhcp.ClientMac);
        }

        if (!sessionsByMac.TryGetValue(dhcp.ClientMac, out var session))
        {
            return;
        }

        LastFrameSession = session;
        if (session.Phase != BootPhase.IpAcquisition)
        {
            return;
        }

        var server = dhcp.Options.ServerIdentifier != 0 ? dhcp.Options.ServerIdentifier : ip.Source;
        switch (dhcp.Options.MessageType)
        {
            case DhcpMessageType.Offer:
                session.LastActivity = at;
                if (!HasPxeBootInformation(in dhcp, server))
                {
                    // A PXE client ignores it and asks again: not progress, but the evidence when it never gets another.
                    session.AddPlainOffer(server);
                    break;
                }

                TakeBootFile(session, in dhcp);
                NotePxeInformationServer(session, server, at);
                if (!session.PxeOfferSeen)
                {
                    session.PxeOfferSeen = true;
                    session.DhcpServer = dhcp.YourAddress != 0 ? server : session.DhcpServer;
                    Progress(session, at);
                }

                break;

            case DhcpMessageType.Ack when udp.SourcePort == ProxyDhcpPort || (dhcp.YourAddress == 0 && session.AddressAcknowledged):
                // proxyDHCP's answer on 4011 completes the address exchange; the bootstrap download begins with the RRQ.
                session.LastActivity = at;
                TakeBootFile(session, in dhcp);
                if (!session.ProxyAnswered)
                {
                    session.ProxyAnswered = true;
                    Progress(session, at);
                }

                break;

            case DhcpMessageType.Ack when dhcp.YourAddress != 0 && session.AddressAcknowledged && dhcp.YourAddress == session.Ip:
                // The same ACK again: the relay's copy on the client segment, or a duplicated reply. Not progress.
                session.LastActivity = at;
                break;

            case DhcpMessageType.Ack when dhcp.YourAddress != 0:
                session.LastActivity = at;
                TakeBootFile(session, in dhcp);
                session.AddressAcknowledged = true;
                session.DhcpServer = server;
                Assign(session, dhcp.YourAddress);
                Progress(session, at);
                break;

            case DhcpMessageType.Nak:
                Fail(session, at, IssueCatalog.DhcpNak(at, server));
                break;
        }
    }

    /// <summary>A second server giving boot information to the same client is a rogue or a second PXE service (hygiene).</summary>
    private void NotePxeInformationServer(BootSession session, uint server, DateTime at)
    {
        if (session.PxeInformationServer == 0)
        {
            session.PxeInformationServer = server;
        }
        else if (session.PxeInformationServer != server && !session.MultiplePxeServersReported)
        {
            session.MultiplePxeServersReported = true;
            AddIssue(session, IssueCatalog.MultiplePxeServers(at, session.PxeInformationServer, server));
        }
    }

    /// <summary>
    /// What makes an offer usable to a PXE client: PXEClient (option 60), a boot file, PXE options (43), or a next server
    /// other than the offering server itself — many routers and small DHCP servers fill siaddr with their own address.
    /// </summary>
    private bool HasPxeBootInformation(in DhcpMessage dhcp, uint server) =>
        dhcp.Options.VendorClass.StartsWith(pxeVendorPrefix)
        || !dhcp.BootFileName.IsEmpty
        || !dhcp.Options.VendorSpecific.IsEmpty
        || (dhcp.ServerAddress != 0 && dhcp.ServerAddress != server);

    private static void TakeBootFile(BootSession session, in DhcpMessage dhcp)
    {
        if (!session.TransferStarted && !dhcp.BootFileName.IsEmpty)
        {
            session.BootFile = Text(dhcp.BootFileName);
        }

        if (session.TftpServer == 0 && dhcp.ServerAddress != 0)
        {
            session.TftpServer = dhcp.ServerAddress;
        }
    }

    private static Firmware FirmwareOf(ushort architecture) =>
        architecture == 0 ? Firmware.Bios : Firmware.Uefi;

    /// <summary>"PXEClient:Arch:00007:UNDI:003016": the architecture number of RFC 4578 inside the vendor class.</summary>
    private static Firmware FirmwareOfVendorClass(ReadOnlySpan<byte> vendorClass)
    {
        var marker = ":Arch:"u8;
        var index = vendorClass.IndexOf(marker);
        if (index < 0 || vendorClass.Length < index + marker.Length + 5
            || !System.Buffers.Text.Utf8Parser.TryParse(vendorClass.Slice(index + marker.Length, 5), out ushort arch, out _))
        {
            return Firmware.Unknown;
        }

        return FirmwareOf(arch);
    }
}
