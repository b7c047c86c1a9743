using PvsFleet.Contracts;

namespace PvsFleet.Collector.Simulation;

/// <summary>Turns a planned frame into bytes: addressing as seen on the mirror port, then the protocol payload.</summary>
internal sealed partial class SimulatedDevice
{
    private const int DhcpServerPort = 67;
    private const int DhcpClientPort = 68;
    private const int ProxyDhcpPort = 4011;
    private const byte DeviceTtl = 64;
    private const byte ServerTtl = 128;

    private static readonly byte[] PxeParameterList = [1, 2, 3, 4, 5, 6, 11, 12, 13, 15, 16, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135];
    private static readonly byte[] WindowsParameterList = [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252];
    private static readonly byte[] BiosUndiVersion = [1, 2, 1];
    private static readonly byte[] UefiUndiVersion = [1, 3, 16];

    private ushort ipIdentification;

    /// <summary>Writes the frame into <paramref name="frame"/> (at least 9,100 bytes) and returns its length.</summary>
    public int Compose(in PlannedFrame planned, Span<byte> frame)
    {
        ipIdentification++;
        var payload = frame[EthernetUdpFrame.PayloadOffset..];
        int length;
        UdpEndpoints endpoints;
        switch (planned.Kind)
        {
            case FrameKind.Dhcp:
                return ComposeDhcp(planned, frame);

            case FrameKind.TftpReadRequest:
                length = WriteReadRequest(payload, (TftpRequest)planned.Number);
                endpoints = DeviceToServer(planned.DevicePort, TftpPort);
                break;

            case FrameKind.TftpOptionAck:
                length = WriteOptionAck(payload, (TftpRequest)planned.Number);
                endpoints = ServerToDevice(planned.ServerPort, planned.DevicePort);
                break;

            case FrameKind.TftpData:
            {
                var writer = new TftpWriter(payload, TftpWriter.OpData);
                writer.Number((ushort)planned.Number);
                writer.Data(PvsPayload.Filler((planned.Number * 13) & 1023, planned.Length));
                length = writer.Length;
                endpoints = ServerToDevice(planned.ServerPort, planned.DevicePort);
                break;
            }

            case FrameKind.TftpAck:
            {
                var writer = new TftpWriter(payload, TftpWriter.OpAck);
                writer.Number((ushort)planned.Number);
                length = writer.Length;
                endpoints = DeviceToServer(planned.DevicePort, planned.ServerPort);
                break;
            }

            case FrameKind.TftpClientError:
            {
                var writer = new TftpWriter(payload, TftpWriter.OpError);
                writer.Number(TftpWriter.ErrorOptionNegotiation);
                writer.Text("User aborted the transfer");
                length = writer.Length;
                endpoints = DeviceToServer(planned.DevicePort, planned.ServerPort);
                break;
            }

            case FrameKind.TftpServerError:
            {
                var writer = new TftpWriter(payload, TftpWriter.OpError);
                writer.Number(TftpWriter.ErrorFileNotFound);
                writer.Text("File not found");
                length = writer.Length;
                endpoints = ServerToDevice(planned.ServerPort, planned.DevicePort);
                break;
            }

            case FrameKind.PvsLogonRequest:
                length = PvsPayload.Write(payload, PvsPayload.OpLogonRequest, sessionNonce, planned.Number, 0, 1, Mac, planned.Length);
                endpoints = DeviceToServer(options.BootstrapTargetPort, options.Tracker.Ports.LogonPort);
                break;

            case FrameKind.PvsLogonReply:
                length = PvsPayload.Write(payload, PvsPayload.OpLogonReply, sessionNonce, planned.Number, 0, 1, Mac, planned.Length);
                endpoints = ServerToDevice(options.Tracker.Ports.LogonPort, options.BootstrapTargetPort);
                break;

            case FrameKind.StreamRead:
                length = PvsPayload.Write(payload, PvsPayload.OpRead, sessionNonce, planned.Number, 0, 1, Mac, PvsPayload.ReadRequestLength);
                endpoints = DeviceToServer(planned.DevicePort, planned.ServerPort);
                break;

            case FrameKind.StreamData:
                length = PvsPayload.Write(payload, PvsPayload.OpReadData, sessionNonce, planned.Number, planned.Fragment, 0, Mac, planned.Length);
                endpoints = ServerToDevice(planned.ServerPort, planned.DevicePort);
                break;

            case FrameKind.StreamAck:
                length = PvsPayload.Write(payload, PvsPayload.OpReadAck, sessionNonce, planned.Number, planned.Fragment, planned.Fragment, Mac, PvsPayload.ReadAckLength);
                endpoints = DeviceToServer(planned.DevicePort, planned.ServerPort);
                break;

            default:
                throw new InvalidOperationException($"unknown frame kind {planned.Kind}");
        }

        return EthernetUdpFrame.Finish(frame, endpoints, ipIdentification, length);
    }

    /// <summary>Unicast from the device; on the routed subnet the mirror sees it after the router (router MAC, TTL − 1).</summary>
    private UdpEndpoints DeviceToServer(int devicePort, int serverPort) => Routed
        ? new(SimulatedNetwork.RelayMac, SimulatedNetwork.ServerMac, Ip, SimulatedNetwork.ServerIp, devicePort, serverPort, DeviceTtl - 1)
        : new(Mac, SimulatedNetwork.ServerMac, Ip, SimulatedNetwork.ServerIp, devicePort, serverPort, DeviceTtl);

    private UdpEndpoints ServerToDevice(int serverPort, int devicePort) => new(
        SimulatedNetwork.ServerMac, Routed ? SimulatedNetwork.RelayMac : Mac, SimulatedNetwork.ServerIp, Ip, serverPort, devicePort, ServerTtl);

    private int WriteReadRequest(Span<byte> payload, TftpRequest request)
    {
        var file = BootstrapFile.For(Firmware);
        var writer = new TftpWriter(payload, TftpWriter.OpReadRequest);
        writer.Text(file.Name);
        writer.Text("octet");
        switch (request)
        {
            case TftpRequest.SizeProbe:
                writer.Option("tsize", 0);
                break;
            case TftpRequest.LockStep:
                writer.Option("blksize", file.BlockSize);
                writer.Option("tsize", 0);
                break;
            case TftpRequest.Windowed:
                writer.Option("blksize", file.BlockSize);
                writer.Option("windowsize", 4);
                break;
        }

        return writer.Length;
    }

    private int WriteOptionAck(Span<byte> payload, TftpRequest request)
    {
        var file = BootstrapFile.For(Firmware);
        var writer = new TftpWriter(payload, TftpWriter.OpOptionAck);
        switch (request)
        {
            case TftpRequest.SizeProbe:
                writer.Option("tsize", file.Size);
                break;
            case TftpRequest.LockStep:
                writer.Option("blksize", file.BlockSize);
                writer.Option("tsize", file.Size);
                break;
            case TftpRequest.Windowed:
                writer.Option("blksize", file.BlockSize);
                writer.Option("windowsize", 4);
                break;
        }

        return writer.Length;
    }

    private int ComposeDhcp(in PlannedFrame planned, Span<byte> frame)
    {
        var message = planned.Dhcp;
        var fromClient = message is ScriptedDhcpMessage.PxeDiscover or ScriptedDhcpMessage.PxeRequest or ScriptedDhcpMessage.ProxyRequest or ScriptedDhcpMessage.OsRequest;
        var relayed = planned.Leg != DhcpLeg.Direct;
        var relayIp = relayed && !(fromClient && planned.Leg == DhcpLeg.ClientSegment) ? SimulatedNetwork.RelayIp : 0;
        var pxe = message is not (ScriptedDhcpMessage.OsRequest or ScriptedDhcpMessage.OsAck);
        var file = BootstrapFile.For(Firmware);
        var xid = message switch
        {
            ScriptedDhcpMessage.OsRequest or ScriptedDhcpMessage.OsAck => osXid,
            ScriptedDhcpMessage.ProxyRequest or ScriptedDhcpMessage.ProxyAck => pxeXid + 1,
            _ => pxeXid,
        };
        var clientIp = message is ScriptedDhcpMessage.ProxyRequest or ScriptedDhcpMessage.ProxyAck ? Ip : 0;
        var yourIp = message is ScriptedDhcpMessage.PxeOffer or ScriptedDhcpMessage.PxeAck or ScriptedDhcpMessage.OsAck ? Ip : 0;
        var serverIp = message is ScriptedDhcpMessage.PxeOffer or ScriptedDhcpMessage.PxeAck or ScriptedDhcpMessage.ProxyAck ? SimulatedNetwork.ServerIp : 0;
        var bootFile = message is ScriptedDhcpMessage.PxeOffer or ScriptedDhcpMessage.PxeAck or ScriptedDhcpMessage.ProxyAck ? file.Name : null;

        var writer = new DhcpWriter(frame[EthernetUdpFrame.PayloadOffset..]);
        writer.WriteHeader(new DhcpWriter.Header(
            fromClient ? DhcpWriter.BootRequest : DhcpWriter.BootReply,
            Hops: fromClient && planned.Leg == DhcpLeg.ServerSegment ? (byte)1 : (byte)0,
            xid,
            fromClient ? planned.Number : 0,
            Broadcast: pxe && message is not (ScriptedDhcpMessage.ProxyRequest or ScriptedDhcpMessage.ProxyAck),
            clientIp, yourIp, serverIp, relayIp, Mac, bootFile));

        switch (message)
        {
            case ScriptedDhcpMessage.PxeDiscover:
            case ScriptedDhcpMessage.PxeRequest:
            case ScriptedDhcpMessage.ProxyRequest:
                writer.Option(DhcpWriter.OptionMessageType, message == ScriptedDhcpMessage.PxeDiscover ? (byte)1 : (byte)3);
                if (message == ScriptedDhcpMessage.PxeRequest)
                {
                    writer.Option(DhcpWriter.OptionRequestedIp, Ip);
                    writer.Option(DhcpWriter.OptionServerId, SimulatedNetwork.ServerIp);
                }

                writer.Option(DhcpWriter.OptionMaxMessageSize, (ushort)1464);
                writer.Option(DhcpWriter.OptionParameterList, PxeParameterList);
                writer.Option(DhcpWriter.OptionClientUuid, clientUuid);
                writer.Option(DhcpWriter.OptionNetworkInterfaceId, Firmware == Firmware.Uefi ? UefiUndiVersion : BiosUndiVersion);
                writer.Option(DhcpWriter.OptionClientArchitecture, BootstrapFile.ClientArchitecture(Firmware));
                writer.Option(DhcpWriter.OptionVendorClass, BootstrapFile.VendorClass(Firmware));
                break;

            case ScriptedDhcpMessage.PxeOffer:
            case ScriptedDhcpMessage.PxeAck:
                writer.Option(DhcpWriter.OptionMessageType, message == ScriptedDhcpMessage.PxeOffer ? (byte)2 : (byte)5);
                writer.Option(DhcpWriter.OptionServerId, SimulatedNetwork.ServerIp);
                writer.Option(DhcpWriter.OptionLeaseTime, 86_400u);
                writer.Option(DhcpWriter.OptionSubnetMask, SimulatedNetwork.SubnetMask);
                writer.Option(DhcpWriter.OptionRouter, Routed ? SimulatedNetwork.RelayIp : SimulatedNetwork.DirectRouterIp);
                writer.Option(DhcpWriter.OptionTftpServerName, SimulatedNetwork.ServerAddress);
                writer.Option(DhcpWriter.OptionBootFile, file.Name);
                writer.Option(DhcpWriter.OptionVendorClass, "PXEClient");
                break;

            case ScriptedDhcpMessage.ProxyAck:
                writer.Option(DhcpWriter.OptionMessageType, 5);
                writer.Option(DhcpWriter.OptionServerId, SimulatedNetwork.ServerIp);
                writer.Option(DhcpWriter.OptionVendorClass, "PXEClient");
                writer.Option(DhcpWriter.OptionClientUuid, clientUuid);
                writer.Option(DhcpWriter.OptionBootFile, file.Name);
                break;

            case ScriptedDhcpMessage.OsRequest:
            {
                writer.Option(DhcpWriter.OptionMessageType, 3);
                Span<byte> clientId = stackalloc byte[7];
                clientId[0] = 1; // hardware type Ethernet, then the MAC
                EthernetUdpFrame.WriteMac(clientId[1..], Mac);
                writer.Option(DhcpWriter.OptionClientId, clientId);
                writer.Option(DhcpWriter.OptionRequestedIp, Ip);
                writer.Option(DhcpWriter.OptionHostName, HostName);
                writer.Option(DhcpWriter.OptionVendorClass, "MSFT 5.0");
                writer.Option(DhcpWriter.OptionParameterList, WindowsParameterList);
                break;
            }

            case ScriptedDhcpMessage.OsAck:
                writer.Option(DhcpWriter.OptionMessageType, 5);
                writer.Option(DhcpWriter.OptionServerId, SimulatedNetwork.ServerIp);
                writer.Option(DhcpWriter.OptionLeaseTime, 86_400u);
                writer.Option(DhcpWriter.OptionSubnetMask, SimulatedNetwork.SubnetMask);
                writer.Option(DhcpWriter.OptionRouter, Routed ? SimulatedNetwork.RelayIp : SimulatedNetwork.DirectRouterIp);
                break;
        }

        var length = writer.End();
        return EthernetUdpFrame.Finish(frame, DhcpEndpoints(message, planned.Leg, fromClient), ipIdentification, length);
    }

    private UdpEndpoints DhcpEndpoints(ScriptedDhcpMessage message, DhcpLeg leg, bool fromClient)
    {
        const uint unspecified = 0;
        if (message == ScriptedDhcpMessage.ProxyRequest)
            return new(Mac, SimulatedNetwork.ServerMac, Ip, SimulatedNetwork.ServerIp, DhcpClientPort, ProxyDhcpPort, DeviceTtl);
        if (message == ScriptedDhcpMessage.ProxyAck)
            return new(SimulatedNetwork.ServerMac, Mac, SimulatedNetwork.ServerIp, Ip, ProxyDhcpPort, DhcpClientPort, ServerTtl);

        // PXE asks for broadcast replies; Windows' INIT-REBOOT does not, so its ACK is unicast to the new address.
        var unicastReply = message == ScriptedDhcpMessage.OsAck;
        return (fromClient, leg) switch
        {
            (true, DhcpLeg.ServerSegment) => new(SimulatedNetwork.RelayMac, SimulatedNetwork.ServerMac, SimulatedNetwork.RelayIp, SimulatedNetwork.ServerIp, DhcpServerPort, DhcpServerPort, DeviceTtl),
            (true, _) => new(Mac, SimulatedNetwork.BroadcastMac, unspecified, SimulatedNetwork.BroadcastIp, DhcpClientPort, DhcpServerPort, DeviceTtl),
            (false, DhcpLeg.ServerSegment) => new(SimulatedNetwork.ServerMac, SimulatedNetwork.RelayMac, SimulatedNetwork.ServerIp, SimulatedNetwork.RelayIp, DhcpServerPort, DhcpServerPort, ServerTtl),
            (false, DhcpLeg.ClientSegment) => new(SimulatedNetwork.RelayMac, unicastReply ? Mac : SimulatedNetwork.BroadcastMac, SimulatedNetwork.RelayIp,
                unicastReply ? Ip : SimulatedNetwork.BroadcastIp, DhcpServerPort, DhcpClientPort, DeviceTtl),
            _ => new(SimulatedNetwork.ServerMac, unicastReply ? Mac : SimulatedNetwork.BroadcastMac, SimulatedNetwork.ServerIp,
                unicastReply ? Ip : SimulatedNetwork.BroadcastIp, DhcpServerPort, DhcpClientPort, ServerTtl),
        };
    }
}
