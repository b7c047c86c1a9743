using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>The tracker's TFTP rules: the bootstrap download, its transfers, retransmits and fragments.</summary>
public sealed partial class BootTracker
{
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
}
