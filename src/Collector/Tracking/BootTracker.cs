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

    private readonly TrackerOptions options;
    private readonly Action<BootSession, SessionChange> observer;
    private readonly Dictionary<MacAddress, BootSession> sessionsByMac = [];
    private readonly Dictionary<uint, BootSession> sessionsByIp = [];
    private readonly List<BootSession> sweep = [];
    private readonly byte[] pxeVendorPrefix;
    private readonly CopyDetector copies;

    public BootTracker(TrackerOptions options, Action<BootSession, SessionChange> observer)
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

    /// <summary>Decodes one captured frame and applies it. Never throws on bad bytes: they are counted as malformed.</summary>
    /// <param name="linkType">The link layer of the frame's capture interface (pcapng files may mix several).</param>
    public void Process(DateTime at, ReadOnlySpan<byte> frame, LinkType linkType = LinkType.Ethernet)
    {
        Counters.Packets++;
        if (!LinkFrame.TryParse(linkType, frame, out var link))
        {
            Counters.Malformed++;
            return;
        }

        if (link.EtherType == LinkFrame.EtherTypeArp)
        {
            if (ArpPacket.TryParse(link.Payload, out _))
            {
                Counters.Arp++;
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
            return;
        }

        ProcessUdp(at, in ip, in udp);
    }

    private void ProcessUdp(DateTime at, in Ipv4Packet ip, in UdpDatagram udp)
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
            if (TftpPacket.TryParse(udp.Payload, out var request))
            {
                Counters.Tftp++;
                OnTftpRequest(at, ip.Source, ip.Destination, src, in request);
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
            OnDhcpFromClient(at, in udp, in dhcp);
        }
        else
        {
            OnDhcpFromServer(at, in ip, in udp, in dhcp);
        }
    }

    private void OnDhcpFromClient(DateTime at, in UdpDatagram udp, in DhcpMessage dhcp)
    {
        var type = dhcp.Options.MessageType;
        var isPxe = dhcp.Options.VendorClass.StartsWith(pxeVendorPrefix);
        sessionsByMac.TryGetValue(dhcp.ClientMac, out var session);

        if (!isPxe)
        {
            // The OS's own DHCP after logon: Windows' network stack (BNIStack) has taken over from UNDI.
            if (session is not null && session.Phase is BootPhase.PvsLogon or BootPhase.SingleReadMode
                && type is DhcpMessageType.Discover or DhcpMessageType.Request or DhcpMessageType.Inform)
            {
                session.LastActivity = at;
                session.HostName ??= Text(dhcp.Options.HostName);
                session.EnterPhase(BootPhase.BniStack, at);
                session.MarkBooted();
                Notify(session, SessionChange.PhaseEntered);
                Notify(session, SessionChange.OutcomeChanged);
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

            session = StartSession(dhcp.ClientMac, at);
        }
        else if (session.Phase == BootPhase.IpAcquisition && type == session.LastClientMessage
            && udp.DestinationPort != ProxyDhcpPort)
        {
            CountRetry(session, at);
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
        if (!sessionsByMac.TryGetValue(dhcp.ClientMac, out var session))
        {
            return;
        }

        var server = dhcp.Options.ServerIdentifier != 0 ? dhcp.Options.ServerIdentifier : ip.Source;
        switch (dhcp.Options.MessageType)
        {
            case DhcpMessageType.Offer when session.Phase == BootPhase.IpAcquisition:
                session.LastActivity = at;
                TakeBootFile(session, in dhcp);
                if (!session.Offered && dhcp.YourAddress != 0)
                {
                    session.Offered = true;
                    session.DhcpServer = server;
                    Progress(session, at);
                }

                break;

            case DhcpMessageType.Ack when session.Phase == BootPhase.IpAcquisition && dhcp.YourAddress != 0:
                session.LastActivity = at;
                TakeBootFile(session, in dhcp);
                session.AddressAcknowledged = true;
                session.DhcpServer = server;
                Assign(session, dhcp.YourAddress);
                session.EnterPhase(BootPhase.BootstrapDownload, at);
                Notify(session, SessionChange.PhaseEntered);
                break;

            case DhcpMessageType.Ack when udp.SourcePort == ProxyDhcpPort
                && session.Phase == BootPhase.BootstrapDownload && !session.TransferStarted:
                // proxyDHCP on 4011 completes the address exchange: it still belongs to IpAcquisition.
                session.LastActivity = at;
                TakeBootFile(session, in dhcp);
                session.MovePhaseStart(at);
                Progress(session, at);
                break;

            case DhcpMessageType.Nak when session.Phase == BootPhase.IpAcquisition:
                Fail(session, at, IssueCatalog.DhcpNak(at, server));
                break;
        }
    }

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

    private void OnTftpRequest(DateTime at, uint client, uint server, ushort clientPort, in TftpPacket request)
    {
        if (request.Opcode != TftpOpcode.ReadRequest || !sessionsByIp.TryGetValue(client, out var session)
            || session.Phase > BootPhase.BootstrapDownload)
        {
            return;
        }

        session.LastActivity = at;
        if (session.Phase == BootPhase.IpAcquisition)
        {
            session.EnterPhase(BootPhase.BootstrapDownload, at);
            Notify(session, SessionChange.PhaseEntered);
        }

        if (session.Transfer.Matches(clientPort) && !session.Transfer.Answered)
        {
            CountRetry(session, at);
            return;
        }

        session.Transfer = TftpTransfer.Start(clientPort, server);
        session.TransferStarted = true;
        session.BootstrapComplete = false;
        session.BootFile = Text(request.FileName);
        session.TftpServer = server;
        Progress(session, at);
    }

    private void OnTftp(DateTime at, BootSession session, bool fromDevice, uint peer, ushort peerPort, ReadOnlySpan<byte> payload)
    {
        if (!TftpPacket.TryParse(payload, out var packet))
        {
            Counters.Malformed++;
            return;
        }

        Counters.Tftp++;
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
                    session.EnterPhase(BootPhase.PvsLogon, at);
                    Notify(session, SessionChange.PhaseEntered);
                }

                break;

            case TftpOpcode.Error when fromDevice:
                transfer.Active = false;
                if (packet.ErrorCode != TftpPacket.ErrorOptionNegotiation)
                {
                    AddIssue(session, IssueCatalog.TftpClientAbort(at, session.BootFile, packet.ErrorCode, Text(packet.ErrorMessage) ?? ""));
                }

                break;

            case TftpOpcode.Error:
                Fail(session, at, IssueCatalog.TftpError(at, peer, session.BootFile, packet.ErrorCode, Text(packet.ErrorMessage) ?? "no message"));
                break;
        }
    }

    // ---------------------------------------------------------------- PVS and TFTP data ports

    private void OnDevicePacket(DateTime at, BootSession session, uint server, ushort devicePort, ushort serverPort, ReadOnlySpan<byte> payload)
    {
        session.LastActivity = at;
        if (session.Transfer.Matches(devicePort))
        {
            OnTftp(at, session, fromDevice: true, server, serverPort, payload);
            return;
        }

        var kind = options.Ports.Classify(serverPort);
        if (kind == PvsPortKind.None)
        {
            return;
        }

        Counters.Pvs++;
        var phaseBefore = session.Phase;
        switch (kind)
        {
            case PvsPortKind.TwoStageBoot when session.Phase <= BootPhase.BootstrapDownload:
                if (session.Phase == BootPhase.IpAcquisition)
                {
                    session.EnterPhase(BootPhase.BootstrapDownload, at);
                }

                break;
            case PvsPortKind.Logon when session.Phase < BootPhase.PvsLogon:
                session.EnterPhase(BootPhase.PvsLogon, at);
                break;
            case PvsPortKind.Stream:
                session.LastStreamActivity = at;
                if (session.Phase < BootPhase.SingleReadMode)
                {
                    session.EnterPhase(BootPhase.SingleReadMode, at);
                }

                break;
        }

        if (kind is PvsPortKind.Logon or PvsPortKind.Stream)
        {
            session.PvsServer = server;
        }

        if (session.IsRepeatedPayload(serverPort, payload))
        {
            CountRetry(session, at);
        }
        else
        {
            Progress(session, at);
        }

        if (session.Phase != phaseBefore)
        {
            Notify(session, SessionChange.PhaseEntered);
        }
    }

    private void OnServerPacket(DateTime at, BootSession session, uint server, ushort serverPort, ushort devicePort, ReadOnlySpan<byte> payload)
    {
        session.LastActivity = at;
        if (session.Transfer.Matches(devicePort))
        {
            OnTftp(at, session, fromDevice: false, server, serverPort, payload);
            return;
        }

        if (options.Ports.Classify(serverPort) == PvsPortKind.Stream)
        {
            Counters.Pvs++;
            session.LastStreamActivity = at;
        }
    }

    // ---------------------------------------------------------------- session life

    private BootSession StartSession(MacAddress mac, DateTime at)
    {
        var session = new BootSession(mac, at);
        sessionsByMac[mac] = session;
        Counters.PeakSessionsInFlight = Math.Max(Counters.PeakSessionsInFlight, sessionsByMac.Count);
        Notify(session, SessionChange.Started);
        return session;
    }

    private void Assign(BootSession session, uint address)
    {
        if (session.Ip != 0 && sessionsByIp.TryGetValue(session.Ip, out var owner) && owner == session)
        {
            sessionsByIp.Remove(session.Ip);
        }

        session.Ip = address;

        // A stale owner of the address (a device that left without a trace) loses it to the newest lease.
        sessionsByIp[address] = session;
    }

    private void Progress(BootSession session, DateTime at)
    {
        var wasStuck = session.Outcome == BootOutcome.Stuck;
        var pause = session.Progress(at);
        if (pause > options.StuckThreshold(session.Phase))
        {
            AddIssue(session, IssueCatalog.Stall(at, session.Phase, pause));
        }

        if (wasStuck)
        {
            Notify(session, SessionChange.OutcomeChanged);
        }
    }

    private void CountRetry(BootSession session, DateTime at)
    {
        var retries = session.AddRetry();
        if (retries >= options.RetransmitStormThreshold && !session.RetransmitStormReported)
        {
            session.RetransmitStormReported = true;
            AddIssue(session, IssueCatalog.RetransmitStorm(at, session.Phase, retries));
        }
    }

    private void AddIssue(BootSession session, BootIssue issue)
    {
        session.AddIssue(issue);
        Notify(session, SessionChange.IssueRaised);
    }

    private void EndForPxeRestart(BootSession session, DateTime at)
    {
        if (session.Phase == BootPhase.BniStack)
        {
            session.Settle();
            End(session);
            return;
        }

        Fail(session, at, IssueCatalog.PxeRestarted(at, session.Phase));
    }

    private void Fail(BootSession session, DateTime at, BootIssue issue)
    {
        session.LastActivity = at;
        AddIssue(session, issue);
        session.Fail(at);
        Notify(session, SessionChange.OutcomeChanged);
        End(session);
    }

    private void End(BootSession session)
    {
        sessionsByMac.Remove(session.Mac);
        if (session.Ip != 0 && sessionsByIp.TryGetValue(session.Ip, out var owner) && owner == session)
        {
            sessionsByIp.Remove(session.Ip);
        }

        Notify(session, SessionChange.Ended);
    }

    private void Notify(BootSession session, SessionChange change) => observer(session, change);

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
                var lastStream = session.LastStreamActivity ?? session[BootPhase.BniStack].Start;
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
                    AddIssue(session, IssueCatalog.Stuck(stuckSince, session.Phase, now - session.LastProgress));
                    Notify(session, SessionChange.OutcomeChanged);
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
