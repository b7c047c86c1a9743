using System.Text;
using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>
/// Reads frames in time order and follows every device's boot through the phases of DESIGN.md.
/// One active session per device (DHCP chaddr); an IP index attributes TFTP and PVS traffic to it.
/// Finished sessions are handed to the observer and forgotten, so memory holds only boots in flight.
/// </summary>
public sealed class BootTracker
{
    private const ushort DhcpServerPort = 67;
    private const ushort DhcpClientPort = 68;
    private const ushort ProxyDhcpPort = 4011;
    private const ushort TftpPort = 69;

    /// <summary>Distinct device requests with no server datagram between them: in SingleReadMode at most two (the ack, the next read).</summary>
    private const int ConcurrentRequests = 3;

    private readonly TrackerOptions options;
    private readonly Action<BootSession, SessionChangeKind> observer;
    private readonly Dictionary<MacAddress, BootSession> sessionsByMac = [];
    private readonly Dictionary<uint, BootSession> sessionsByIp = [];
    private readonly List<BootSession> sweep = [];

    // For boots joined mid-way: the MAC an ARP or DHCP frame showed for an address, and devices' PXE restarts while streaming.
    private readonly Dictionary<uint, MacAddress> macsByIp = [];
    private readonly Dictionary<MacAddress, int> loopsByMac = [];

    // Addresses of devices that booted: Windows keeps streaming its vDisk for as long as it runs, which is no new boot.
    private readonly HashSet<uint> bootedAddresses = [];
    private readonly byte[] pxeVendorPrefix;
    private readonly CopyDetector copies;

    public BootTracker(TrackerOptions options, Action<BootSession, SessionChangeKind> observer)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        this.observer = observer;
        pxeVendorPrefix = Encoding.ASCII.GetBytes(options.PxeVendorClassPrefix);
        copies = new CopyDetector(options.CopyWindow);
    }

    public TrackerCounters Counters { get; } = new();
    public int SessionsInFlight => sessionsByMac.Count;
    public IEnumerable<BootSession> ActiveSessions => sessionsByMac.Values;

    /// <summary>The session the frame just processed belonged to, if any (for a walk-through of one device's frames).</summary>
    public BootSession? LastFrameSession { get; private set; }

    /// <summary>Whether the frame just processed was counted as a retry or retransmit.</summary>
    public bool LastFrameWasRetry { get; private set; }

    /// <summary>The ordinal of the frame being processed in the recording: Wireshark's frame.number for a single file.</summary>
    private long Frame => Counters.Packets;

    /// <summary>Decodes one captured frame and applies it. Never throws on bad bytes: they are counted as malformed.</summary>
    /// <param name="linkType">The link layer of the frame's capture interface (pcapng files may mix several).</param>
    public void Process(DateTime at, ReadOnlySpan<byte> frame, LinkType linkType = LinkType.Ethernet)
    {
        Counters.Packets++;
        LastFrameSession = null;
        LastFrameWasRetry = false;
        if (!LinkFrame.TryParse(linkType, frame, out var link))
        {
            Counters.Malformed++;
            return;
        }

        if (link.EtherType == LinkFrame.EtherTypeArp)
        {
            if (ArpPacket.TryParse(link.Payload, out var arp))
            {
                Counters.Arp++;
                LearnAddress(arp.SenderIp, arp.SenderMac);
            }
            else
            {
                Counters.Malformed++;
            }

            return;
        }

        if (link.EtherType != LinkFrame.EtherTypeIPv4)
        {
            return;
        }

        if (!Ipv4Packet.TryParse(link.Payload, out var ip))
        {
            Counters.Malformed++;
            return;
        }

        if (copies.IsCopy(at, ip.Datagram))
        {
            Counters.DuplicateFrames++;
            return;
        }

        if (ip.IsNonFirstFragment)
        {
            Counters.NonFirstFragments++;
            return;
        }

        if (ip.Protocol != Ipv4Packet.ProtocolUdp)
        {
            return;
        }

        if (!UdpDatagram.TryParse(ip.Payload, out var udp, allowTruncated: ip.IsFirstFragment))
        {
            Counters.Malformed++;
            return;
        }

        if (ip.IsFirstFragment)
        {
            // The rest of this datagram is in later fragments; a partial DHCP or TFTP message is not evidence.
            OnFirstFragment(at, in ip, in udp);
            return;
        }

        ProcessUdp(at, in ip, in udp, link.HasSourceMac ? link.SourceMac : default);
    }

    private void ProcessUdp(DateTime at, in Ipv4Packet ip, in UdpDatagram udp, MacAddress linkSource)
    {
        var src = udp.SourcePort;
        var dst = udp.DestinationPort;
        if (IsDhcp(src, dst))
        {
            if (DhcpMessage.TryParse(udp.Payload, out var dhcp))
            {
                Counters.Dhcp++;
                Counters.MalformedDhcpOptions += dhcp.Options.MalformedOptions;
                OnDhcp(at, in ip, in udp, in dhcp);
            }
            else
            {
                Counters.Malformed++;
            }

            return;
        }

        if (dst == TftpPort)
        {
            if (TftpPacket.TryParse(udp.Payload, out var packet))
            {
                Counters.Tftp++;
                OnTftpToPort69(at, in ip, src, in packet, linkSource);
            }
            else
            {
                Counters.Malformed++;
            }

            return;
        }

        // Everything else is attributed by address: the device is whichever end an active session owns.
        if (sessionsByIp.TryGetValue(ip.Source, out var session))
        {
            OnDevicePacket(at, session, ip.Destination, src, dst, udp.Payload);
        }
        else if (sessionsByIp.TryGetValue(ip.Destination, out session))
        {
            OnServerPacket(at, session, ip.Source, src, dst, udp.Payload);
        }
        else if (options.Ports.IsStreamService(dst) && TryJoinMidBoot(at, ip.Source, linkSource, BootPhase.PvsLogon, out session))
        {
            OnDevicePacket(at, session, ip.Destination, src, dst, udp.Payload);
        }
        else if (options.Ports.Classify(dst) != PvsPortKind.None || options.Ports.Classify(src) != PvsPortKind.None)
        {
            Counters.Unattributed++;
        }
    }

    private static bool IsDhcp(ushort src, ushort dst) =>
        (dst is DhcpServerPort or DhcpClientPort or ProxyDhcpPort && src is DhcpServerPort or DhcpClientPort or ProxyDhcpPort)
        || (dst == ProxyDhcpPort && src != TftpPort);

    // ---------------------------------------------------------------- DHCP

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

    // ---------------------------------------------------------------- TFTP

    /// <summary>
    /// A packet to UDP 69: a read request, or — with a server that answers from port 69 instead of a new TID port —
    /// the client's ACKs and errors of the transfer on its client port.
    /// </summary>
    private void OnTftpToPort69(DateTime at, in Ipv4Packet ip, ushort clientPort, in TftpPacket packet, MacAddress linkSource)
    {
        sessionsByIp.TryGetValue(ip.Source, out var session);
        if (packet.Opcode == TftpOpcode.ReadRequest)
        {
            if (session is null
                && (!options.IsBootstrapFile(packet.FileName)
                    || !TryJoinMidBoot(at, ip.Source, linkSource, BootPhase.BootstrapDownload, out session)))
            {
                return;
            }

            LastFrameSession = session;
            OnTftpRequest(at, session, ip.Destination, clientPort, in packet);
        }
        else if (session is not null && session.Transfer.Matches(clientPort))
        {
            LastFrameSession = session;
            session.LastActivity = at;
            OnTftp(at, session, fromDevice: true, ip.Destination, TftpPort, in packet);
        }
    }

    private void OnTftpRequest(DateTime at, BootSession session, uint server, ushort clientPort, in TftpPacket request)
    {
        if (session.Phase > BootPhase.BootstrapDownload)
        {
            return;
        }

        session.LastActivity = at;
        if (session.Phase == BootPhase.IpAcquisition)
        {
            Enter(session, BootPhase.BootstrapDownload, at);
        }

        if (session.Transfer.Matches(clientPort) && !session.Transfer.Answered)
        {
            CountRetry(session, at);
            return;
        }

        if (!session.FirmwareMismatchReported && options.IsBootstrapOfOtherFirmware(request.FileName, session.Firmware))
        {
            session.FirmwareMismatchReported = true;
            AddIssue(session, IssueCatalog.BootstrapFirmwareMismatch(at, Text(request.FileName) ?? "", session.Firmware, server));
        }

        // A first read, or a new RRQ from the same client port once the server had answered: the transfer restarts.
        session.Transfer = TftpTransfer.Start(clientPort, server);
        session.TransferStarted = true;
        session.BootstrapComplete = false;
        session.BootFile = Text(request.FileName);
        session.TftpServer = server;
        Progress(session, at);
    }

    private void OnTftp(DateTime at, BootSession session, bool fromDevice, uint peer, ushort peerPort, in TftpPacket packet)
    {
        ref var transfer = ref session.Transfer;
        switch (packet.Opcode)
        {
            case TftpOpcode.OptionAcknowledgment when !fromDevice:
                transfer.Answered = true;
                transfer.ServerPort = peerPort;
                transfer.BlockSize = packet.Options.BlockSize ?? TftpTransfer.DefaultBlockSize;
                transfer.WindowSize = packet.Options.WindowSize ?? 1;
                transfer.TransferSize = packet.Options.TransferSize;
                Progress(session, at);
                break;

            case TftpOpcode.Data when !fromDevice:
                transfer.Answered = true;
                transfer.ServerPort = peerPort;
                if (transfer.AcceptData(packet.Block, packet.Data.Length))
                {
                    Progress(session, at);
                }
                else
                {
                    CountRetry(session, at);
                }

                break;

            case TftpOpcode.Acknowledgment when fromDevice:
                if (!transfer.AcceptAck(packet.Block))
                {
                    CountRetry(session, at);
                }
                else if (transfer.IsComplete && !session.BootstrapComplete)
                {
                    session.BootstrapComplete = true;
                    transfer.Active = false;
                    Enter(session, BootPhase.PvsLogon, at);
                }

                break;

            case TftpOpcode.Error when fromDevice:
                // A client that asked for tsize and aborts once the OACK told it is probing the size: normal, whatever the
                // code (UEFI firmware sends 8, some Intel BIOS ROMs 0).
                var sizeProbe = transfer.BlocksReceived == 0 && transfer.TransferSize is not null;
                transfer.Active = false;
                if (packet.ErrorCode != TftpPacket.ErrorOptionNegotiation && !sizeProbe)
                {
                    AddIssue(session, IssueCatalog.TftpClientAbort(at, session.BootFile, packet.ErrorCode, Text(packet.ErrorMessage) ?? ""));
                }

                break;

            case TftpOpcode.Error:
                Fail(session, at, IssueCatalog.TftpError(at, peer, session.BootFile, packet.ErrorCode, Text(packet.ErrorMessage) ?? "no message"));
                break;
        }
    }

    private void OnTftpDatagram(DateTime at, BootSession session, bool fromDevice, uint peer, ushort peerPort, ReadOnlySpan<byte> payload)
    {
        if (!TftpPacket.TryParse(payload, out var packet))
        {
            Counters.Malformed++;
            return;
        }

        Counters.Tftp++;
        OnTftp(at, session, fromDevice, peer, peerPort, in packet);
    }

    /// <summary>A boot's TFTP or PVS datagram split into IP fragments: the block size or the PVS MTU exceeds the path's (hygiene).</summary>
    private void OnFirstFragment(DateTime at, in Ipv4Packet ip, in UdpDatagram udp)
    {
        var fromDevice = sessionsByIp.TryGetValue(ip.Source, out var session);
        if (session is null && !sessionsByIp.TryGetValue(ip.Destination, out session))
        {
            return;
        }

        var devicePort = fromDevice ? udp.SourcePort : udp.DestinationPort;
        var serverPort = fromDevice ? udp.DestinationPort : udp.SourcePort;
        var what = session.Transfer.Matches(devicePort) || serverPort == TftpPort ? "TFTP"
            : options.Ports.IsStreamService(serverPort) ? "PVS"
            : null;
        if (what is null)
        {
            return;
        }

        if (!session.FragmentationReported)
        {
            session.FragmentationReported = true;
            AddIssue(session, IssueCatalog.Fragmentation(at, session.Phase, what, fromDevice ? ip.Destination : ip.Source));
        }

        // A fragmented DATA block still moves the download: its first fragment holds the opcode and the block number,
        // and the UDP length says how long the block is — all the transfer needs.
        if (!fromDevice && session.Transfer.Matches(devicePort) && udp.Payload.Length >= 4
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(udp.Payload) == (ushort)TftpOpcode.Data)
        {
            LastFrameSession = session;
            session.LastActivity = at;
            ref var transfer = ref session.Transfer;
            transfer.Answered = true;
            transfer.ServerPort = serverPort;
            if (transfer.AcceptData(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(udp.Payload[2..]), udp.DeclaredPayloadLength - 4))
            {
                Progress(session, at);
            }
            else
            {
                CountRetry(session, at);
            }
        }
    }

    // ---------------------------------------------------------------- PVS and TFTP data ports

    private void OnDevicePacket(DateTime at, BootSession session, uint server, ushort devicePort, ushort serverPort, ReadOnlySpan<byte> payload)
    {
        LastFrameSession = session;
        session.LastActivity = at;
        if (session.Transfer.Matches(devicePort))
        {
            OnTftpDatagram(at, session, fromDevice: true, server, serverPort, payload);
            return;
        }

        var kind = options.Ports.Classify(serverPort);
        if (kind == PvsPortKind.None)
        {
            return;
        }

        Counters.Pvs++;
        var retry = session.IsRepeatedPayload(serverPort, payload);
        if (kind == PvsPortKind.TwoStageBoot)
        {
            if (session.Phase == BootPhase.IpAcquisition)
            {
                Enter(session, BootPhase.BootstrapDownload, at);
            }
        }
        else
        {
            // Logon and streaming share the Stream Service's ports: the phase follows the traffic (see OnServerPacket). The
            // login server is the one the device asks on the logon port before its first read (the first read itself is
            // still counted in PvsLogon until its data comes, and may go to another server); a boot joined later takes the
            // first server it sees.
            if ((kind == PvsPortKind.Logon && session.Phase <= BootPhase.PvsLogon) || session.PvsServer == 0)
            {
                session.PvsServer = server;
            }
            if (session.Phase < BootPhase.PvsLogon)
            {
                Enter(session, BootPhase.PvsLogon, at);
            }

            if (session.Phase >= BootPhase.SingleReadMode)
            {
                session.LastStreamActivity = at;
            }

            var resent = session.NoteStreamRequest(at, Frame, serverPort, payload.Length);
            retry |= resent && session.Phase == BootPhase.SingleReadMode;
            if (retry)
            {
                session.PendingRequestRetries++;
            }

            if (session is { JoinedMidBoot: true, Phase: BootPhase.SingleReadMode, RequestsSinceServerSpoke: >= ConcurrentRequests })
            {
                // Several I/Os outstanding at once: only Windows' BNIStack driver does that, so a boot joined after its
                // DHCP marker has booted — it must not end as stuck in SingleReadMode when its streaming settles.
                Enter(session, BootPhase.BniStack, at);
                session.MarkBooted();
                Notify(session, SessionChangeKind.OutcomeChanged);
            }
        }

        if (retry)
        {
            CountRetry(session, at);
        }
        else
        {
            Progress(session, at);
        }
    }

    private void OnServerPacket(DateTime at, BootSession session, uint server, ushort serverPort, ushort devicePort, ReadOnlySpan<byte> payload)
    {
        LastFrameSession = session;
        session.LastActivity = at;
        if (session.Transfer.Matches(devicePort))
        {
            OnTftpDatagram(at, session, fromDevice: false, server, serverPort, payload);
            return;
        }

        if (!options.Ports.IsStreamService(serverPort))
        {
            return;
        }

        Counters.Pvs++;
        session.ServerSpokeSinceDevice = true;
        if (session.Phase == BootPhase.PvsLogon && payload.Length >= options.ReadDataMinPayload)
        {
            // vDisk data answers the first read: SingleReadMode began with the request it answers; what came before was the
            // logon. The data moves the boot on, so a long wait for it is a stall of the logon phase.
            Progress(session, at);
            Enter(session, BootPhase.SingleReadMode, session.PendingRequestAt ?? at, session.PendingRequestAt is null ? Frame : session.PendingRequestFrame);
            session.MoveRetriesIntoCurrentPhase(session.PendingRequestRetries);
        }

        if (session.Phase >= BootPhase.SingleReadMode)
        {
            session.LastStreamActivity = at;
            if (payload.Length >= options.ReadDataMinPayload)
            {
                // vDisk data: whoever sends it is the streaming server (the login server may have handed the device to another).
                session.StreamServer = server;
            }
        }
    }

    // ---------------------------------------------------------------- session life

    private BootSession StartSession(MacAddress mac, DateTime at, BootPhase firstPhase)
    {
        var session = new BootSession(mac, at, firstPhase, Frame);
        sessionsByMac[mac] = session;
        Counters.PeakSessionsInFlight = Math.Max(Counters.PeakSessionsInFlight, sessionsByMac.Count);
        Notify(session, SessionChangeKind.Started);
        return session;
    }

    /// <summary>
    /// A boot already past DHCP when the collector started (or restarted): a session from this frame, in the phase its
    /// traffic implies. The device's MAC is the one an ARP or DHCP frame showed for the address, else the frame's link-layer
    /// source — which on a routed segment is the router, so a MAC that already boots at another address is not taken.
    /// </summary>
    private bool TryJoinMidBoot(DateTime at, uint address, MacAddress linkSource, BootPhase phase, out BootSession session)
    {
        session = null!;
        if (!options.JoinMidBoot || address == 0)
        {
            return false;
        }

        if (bootedAddresses.Contains(address))
        {
            return false;
        }

        var mac = macsByIp.TryGetValue(address, out var learned) ? learned : linkSource;
        if (mac == default || sessionsByMac.ContainsKey(mac))
        {
            return false;
        }

        session = StartSession(mac, at, phase);
        Assign(session, address);
        Counters.JoinedMidBoot++;
        return true;
    }

    private void LearnAddress(uint address, MacAddress mac)
    {
        if (address == 0 || mac == default)
        {
            return;
        }

        if (macsByIp.Count >= options.MaxLearnedAddresses && !macsByIp.ContainsKey(address))
        {
            macsByIp.Clear();
        }

        macsByIp[address] = mac;
    }

    private void Assign(BootSession session, uint address)
    {
        if (session.Ip != 0 && sessionsByIp.TryGetValue(session.Ip, out var owner) && owner == session)
        {
            sessionsByIp.Remove(session.Ip);
        }

        session.Ip = address;
        bootedAddresses.Remove(address);

        // A stale owner of the address (a device that left without a trace) loses it to the newest lease.
        sessionsByIp[address] = session;
    }

    /// <summary>
    /// Moves the session into <paramref name="phase"/>. A pause longer than the threshold of the phase being left is
    /// a Stall too: the commonest ones (waiting for the logon server, for the first read) end with a phase change.
    /// </summary>
    private void Enter(BootSession session, BootPhase phase, DateTime at) => Enter(session, phase, at, Frame);

    private void Enter(BootSession session, BootPhase phase, DateTime at, long frame)
    {
        var pause = at - session.LastProgress;
        if (pause > options.StuckThreshold(session.Phase))
        {
            AddIssue(session, IssueCatalog.Stall(at, session.Phase, pause));
        }

        var wasStuck = session.Outcome == BootOutcome.Stuck;
        session.EnterPhase(phase, at, frame);
        Notify(session, SessionChangeKind.PhaseEntered);
        if (wasStuck)
        {
            Notify(session, SessionChangeKind.OutcomeChanged);
        }
    }

    private void Progress(BootSession session, DateTime at)
    {
        var wasStuck = session.Outcome == BootOutcome.Stuck;
        var pause = session.Progress(at, Frame);
        if (pause > options.StuckThreshold(session.Phase))
        {
            AddIssue(session, IssueCatalog.Stall(at, session.Phase, pause));
        }

        if (wasStuck)
        {
            Notify(session, SessionChangeKind.OutcomeChanged);
        }
    }

    private void CountRetry(BootSession session, DateTime at)
    {
        LastFrameWasRetry = true;
        var retries = session.AddRetry();
        if (retries >= options.RetransmitStormThreshold && !session.RetransmitStormReported)
        {
            session.RetransmitStormReported = true;
            AddIssue(session, IssueCatalog.RetransmitStorm(at, session.Phase, retries));
        }
    }

    private void AddIssue(BootSession session, BootIssue issue) => AddIssue(session, issue, Frame);

    private void AddIssue(BootSession session, BootIssue issue, long frame)
    {
        session.AddIssue(issue with { Frame = frame });
        Notify(session, SessionChangeKind.IssueRaised);
    }

    private void EndForPxeRestart(BootSession session, DateTime at)
    {
        if (session.Phase == BootPhase.BniStack)
        {
            session.Settle();
            End(session);
            return;
        }

        if (session.Phase == BootPhase.SingleReadMode)
        {
            // The bootstrap streamed, Windows started loading, and the device came back to PXE: a boot loop.
            if (loopsByMac.Count >= options.MaxLearnedAddresses && !loopsByMac.ContainsKey(session.Mac))
            {
                loopsByMac.Clear();
            }

            var loops = loopsByMac.GetValueOrDefault(session.Mac) + 1;
            loopsByMac[session.Mac] = loops;
            session.LoopCount = loops;
            Fail(session, at, IssueCatalog.BootLoop(at, loops));
            return;
        }

        Fail(session, at, IssueCatalog.PxeRestarted(at, session.Phase));
    }

    private void Fail(BootSession session, DateTime at, BootIssue issue)
    {
        session.LastActivity = at;
        AddIssue(session, issue);
        session.Fail(at);
        Notify(session, SessionChangeKind.OutcomeChanged);
        End(session);
    }

    private void End(BootSession session)
    {
        sessionsByMac.Remove(session.Mac);
        if (session.Outcome == BootOutcome.Booted && session.Ip != 0)
        {
            if (bootedAddresses.Count >= options.MaxLearnedAddresses)
            {
                bootedAddresses.Clear();
            }

            bootedAddresses.Add(session.Ip);
        }

        if (session.Ip != 0 && sessionsByIp.TryGetValue(session.Ip, out var owner) && owner == session)
        {
            sessionsByIp.Remove(session.Ip);
        }

        Notify(session, SessionChangeKind.Ended);
    }

    private void Notify(BootSession session, SessionChangeKind change) => observer(session, change);

    /// <summary>
    /// Applies the clock: marks sessions stuck, ends booted sessions whose streaming settled, and gives up on
    /// sessions silent for long. Offline, "now" is the capture's time; live, the wall clock.
    /// </summary>
    public void Advance(DateTime now)
    {
        sweep.Clear();
        foreach (var session in sessionsByMac.Values)
        {
            if (session.Outcome == BootOutcome.Booted)
            {
                var bniStackStart = session[BootPhase.BniStack].Start;
                var lastStream = session.LastStreamActivity is { } last && last > bniStackStart ? last : bniStackStart;
                if (now - lastStream > options.BniStackSettleTime)
                {
                    sweep.Add(session);
                }
            }
            else if (now - session.LastProgress > options.StuckThreshold(session.Phase))
            {
                if (session.Outcome != BootOutcome.Stuck)
                {
                    session.MarkStuck();
                    // Dated when the threshold ran out, not when the sweep noticed: the same moment live and offline.
                    var stuckSince = session.LastProgress + options.StuckThreshold(session.Phase);
                    AddIssue(session, IssueCatalog.Stuck(stuckSince, session, now - session.LastProgress), session.LastProgressFrame);
                    Notify(session, SessionChangeKind.OutcomeChanged);
                }

                if (now - session.LastActivity > options.EvictStuckAfter)
                {
                    sweep.Add(session);
                }
            }
        }

        foreach (var session in sweep)
        {
            if (session.Outcome == BootOutcome.Booted)
            {
                session.Settle();
            }

            End(session);
        }
    }

    /// <summary>The capture is over: judges every session still open against its end, then hands them all out.</summary>
    public void Finish(DateTime captureEnd)
    {
        Advance(captureEnd);
        foreach (var session in sessionsByMac.Values.ToList())
        {
            if (session.Outcome == BootOutcome.Booted)
            {
                session.Settle();
            }

            End(session);
        }
    }

    private static string? Text(ReadOnlySpan<byte> value) => WireText.Clean(value);
}
