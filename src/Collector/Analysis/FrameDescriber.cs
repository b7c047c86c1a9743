using System.Globalization;
using System.Text;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Analysis;

/// <summary>What one frame of a boot is, in the words of a walk-through (<c>analyze --explain</c>). Off the hot path: it allocates.</summary>
internal static class FrameDescriber
{
    /// <summary>Steps that come in long runs and are shown as one line: a TFTP transfer's blocks, a stream of reads.</summary>
    public enum StepKind
    {
        Single,
        TftpBlock,
        Streaming,
    }

    /// <summary>An ARP of the device (it is the sender) or for its address: the tracker keeps none of these in a session.</summary>
    public static bool IsArpOf(ReadOnlySpan<byte> frame, LinkType linkType, MacAddress device, uint address) =>
        LinkFrame.TryParse(linkType, frame, out var link) && link.EtherType == LinkFrame.EtherTypeArp
        && ArpPacket.TryParse(link.Payload, out var arp)
        && (arp.SenderMac == device || (address != 0 && (arp.TargetIp == address || arp.SenderIp == address)));

    public static (string Text, StepKind Kind) Describe(ReadOnlySpan<byte> frame, LinkType linkType, TrackerOptions options)
    {
        if (!LinkFrame.TryParse(linkType, frame, out var link))
        {
            return ("an undecodable frame", StepKind.Single);
        }

        if (link.EtherType == LinkFrame.EtherTypeArp && ArpPacket.TryParse(link.Payload, out var arp))
        {
            return (arp.Operation == ArpPacket.OperationReply
                ? $"ARP reply: {Ipv4Address.Format(arp.SenderIp)} is at {arp.SenderMac}"
                : arp.SenderIp == arp.TargetIp
                    ? $"ARP probe: {arp.SenderMac} announces {Ipv4Address.Format(arp.SenderIp)}"
                    : $"ARP: who has {Ipv4Address.Format(arp.TargetIp)}? asks {Ipv4Address.Format(arp.SenderIp)} ({arp.SenderMac})", StepKind.Single);
        }

        if (link.EtherType != LinkFrame.EtherTypeIPv4 || !Ipv4Packet.TryParse(link.Payload, out var ip)
            || ip.Protocol != Ipv4Packet.ProtocolUdp || !UdpDatagram.TryParse(ip.Payload, out var udp, allowTruncated: true))
        {
            return ("a frame that is not UDP over IPv4", StepKind.Single);
        }

        var route = $"{Ipv4Address.Format(ip.Source)}:{udp.SourcePort} → {Ipv4Address.Format(ip.Destination)}:{udp.DestinationPort}";
        if (ip.IsFirstFragment || ip.IsNonFirstFragment)
        {
            return ($"an IP fragment of a UDP datagram, {route}", StepKind.Single);
        }

        if (udp.SourcePort is 67 or 68 or 4011 || udp.DestinationPort is 67 or 68 or 4011)
        {
            return DhcpMessage.TryParse(udp.Payload, out var dhcp) ? (Dhcp(in dhcp, udp.DestinationPort == 4011 || udp.SourcePort == 4011), StepKind.Single) : ("a malformed DHCP message", StepKind.Single);
        }

        if (TftpPacket.TryParse(udp.Payload, out var tftp) && (udp.DestinationPort == 69 || udp.SourcePort == 69 || IsTftpData(in tftp)))
        {
            return Tftp(in tftp);
        }

        var serverPort = options.Ports.IsStreamService(udp.DestinationPort) ? udp.DestinationPort : udp.SourcePort;
        var fromDevice = serverPort == udp.DestinationPort;
        var length = udp.Payload.Length;
        if (options.Ports.Classify(serverPort) == PvsPortKind.TwoStageBoot)
        {
            return ($"two-stage boot (BDM) traffic, {length} bytes, {route}", StepKind.Single);
        }

        return fromDevice
            ? ($"PVS request, {length} bytes, to {Ipv4Address.Format(ip.Destination)}:{serverPort}", StepKind.Streaming)
            : (length >= options.ReadDataMinPayload
                ? $"vDisk data, {length} bytes, from {Ipv4Address.Format(ip.Source)}:{serverPort}"
                : $"PVS reply, {length} bytes, from {Ipv4Address.Format(ip.Source)}:{serverPort}", StepKind.Streaming);
    }

    private static string Printable(ReadOnlySpan<byte> value) => WireText.Clean(value) ?? "";

    private static bool IsTftpData(in TftpPacket packet) => packet.Opcode is TftpOpcode.Data or TftpOpcode.Acknowledgment or TftpOpcode.OptionAcknowledgment or TftpOpcode.Error;

    private static string Dhcp(in DhcpMessage dhcp, bool proxy)
    {
        var text = new StringBuilder();
        text.Append(proxy ? "proxyDHCP " : "DHCP ").Append(dhcp.Options.MessageType.ToString().ToUpperInvariant())
            .Append(CultureInfo.InvariantCulture, $" xid 0x{dhcp.Xid:x8}");
        if (dhcp.Op == DhcpMessage.OpRequest)
        {
            if (!dhcp.Options.VendorClass.IsEmpty)
            {
                text.Append(", ").Append(Printable(dhcp.Options.VendorClass));
            }

            if (dhcp.Secs > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $", {dhcp.Secs} s since the first");
            }

            if (dhcp.RelayAddress != 0)
            {
                text.Append(", relayed by ").Append(Ipv4Address.Format(dhcp.RelayAddress));
            }

            return text.ToString();
        }

        if (dhcp.YourAddress != 0)
        {
            text.Append(" for ").Append(Ipv4Address.Format(dhcp.YourAddress));
        }

        if (dhcp.Options.ServerIdentifier != 0)
        {
            text.Append(" from ").Append(Ipv4Address.Format(dhcp.Options.ServerIdentifier));
        }

        if (!dhcp.BootFileName.IsEmpty)
        {
            text.Append(", boot file ").Append(Printable(dhcp.BootFileName));
        }

        if (dhcp.ServerAddress != 0)
        {
            text.Append(", next server ").Append(Ipv4Address.Format(dhcp.ServerAddress));
        }

        if (dhcp.Options.VendorClass.StartsWith("PXEClient"u8) || !dhcp.Options.VendorSpecific.IsEmpty)
        {
            text.Append(", PXE options");
        }

        return text.ToString();
    }

    private static (string, StepKind) Tftp(in TftpPacket packet) => packet.Opcode switch
    {
        TftpOpcode.ReadRequest => ($"TFTP RRQ {Printable(packet.FileName)}{Options(packet.Options)}", StepKind.Single),
        TftpOpcode.WriteRequest => ($"TFTP WRQ {Printable(packet.FileName)}", StepKind.Single),
        TftpOpcode.OptionAcknowledgment => ($"TFTP OACK{Options(packet.Options)}", StepKind.Single),
        TftpOpcode.Data => (string.Create(CultureInfo.InvariantCulture, $"TFTP DATA block {packet.Block}, {packet.Data.Length} bytes"), StepKind.TftpBlock),
        TftpOpcode.Acknowledgment => (string.Create(CultureInfo.InvariantCulture, $"TFTP ACK {packet.Block}"), StepKind.TftpBlock),
        _ => (string.Create(CultureInfo.InvariantCulture, $"TFTP ERROR {packet.ErrorCode}: {Printable(packet.ErrorMessage)}"), StepKind.Single),
    };

    private static string Options(TftpOptions options)
    {
        var parts = new List<string>();
        if (options.BlockSize is { } blockSize)
        {
            parts.Add($"blksize {blockSize}");
        }

        if (options.TransferSize is { } size)
        {
            parts.Add($"tsize {size}");
        }

        if (options.WindowSize is { } window)
        {
            parts.Add($"windowsize {window}");
        }

        return parts.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({string.Join(", ", parts)})");
    }
}
