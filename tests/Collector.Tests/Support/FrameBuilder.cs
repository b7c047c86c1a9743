using System.Buffers.Binary;
using System.Text;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Tests.Support;

/// <summary>Builds wire-exact Ethernet/IPv4/UDP frames for tests, the way a NIC would put them on the wire.</summary>
internal static class FrameBuilder
{
    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFF);

    public static byte[] Udp(MacAddress srcMac, MacAddress dstMac, uint srcIp, uint dstIp, ushort srcPort, ushort dstPort,
        ReadOnlySpan<byte> payload, params ushort[] vlanTags)
    {
        var udp = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(udp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        payload.CopyTo(udp.AsSpan(8));
        return Ethernet(srcMac, dstMac, EthernetFrame.EtherTypeIPv4, Ipv4(srcIp, dstIp, Ipv4Packet.ProtocolUdp, udp), vlanTags);
    }

    private static int identification;

    /// <summary>
    /// Each datagram built gets the next IP id, as a sending stack numbers them: two datagrams built alike are two
    /// datagrams (a retransmit), and only the same bytes seen again are a copy of one.
    /// </summary>
    private static ushort NextIdentification() => (ushort)Interlocked.Increment(ref identification);

    public static byte[] Ipv4(uint src, uint dst, byte protocol, ReadOnlySpan<byte> payload, ushort flagsAndFragment = 0, int optionWords = 0)
    {
        var headerLength = 20 + (optionWords * 4);
        var packet = new byte[headerLength + payload.Length];
        packet[0] = (byte)(0x40 | (headerLength / 4));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), NextIdentification());
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), flagsAndFragment);
        packet[8] = 64;
        packet[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(12), src);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(16), dst);
        for (var i = 20; i < headerLength; i++)
        {
            packet[i] = 1; // NOP options
        }

        payload.CopyTo(packet.AsSpan(headerLength));
        return packet;
    }

    public static byte[] Ethernet(MacAddress src, MacAddress dst, ushort etherType, ReadOnlySpan<byte> payload, params ushort[] vlanTags)
    {
        var frame = new byte[14 + (4 * vlanTags.Length) + payload.Length];
        dst.WriteTo(frame);
        src.WriteTo(frame.AsSpan(6));
        var offset = 12;
        for (var i = 0; i < vlanTags.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), i == 0 && vlanTags.Length > 1 ? EthernetFrame.EtherTypeQinQ : EthernetFrame.EtherTypeVlan);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset + 2), vlanTags[i]);
            offset += 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), etherType);
        payload.CopyTo(frame.AsSpan(offset + 2));
        return frame;
    }

    /// <summary>The frame with VLAN tags inserted after the source MAC: 802.1ad outermost when stacked, 802.1Q below.</summary>
    public static byte[] Tagged(byte[] frame, params ushort[] vlans)
    {
        var tagged = new byte[frame.Length + (4 * vlans.Length)];
        frame.AsSpan(0, 12).CopyTo(tagged);
        for (var i = 0; i < vlans.Length; i++)
        {
            var tpid = i == 0 && vlans.Length > 1 ? LinkFrame.EtherTypeQinQ : LinkFrame.EtherTypeVlan;
            BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12 + (4 * i)), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14 + (4 * i)), vlans[i]);
        }

        frame.AsSpan(12).CopyTo(tagged.AsSpan(12 + (4 * vlans.Length)));
        return tagged;
    }

    /// <summary>A Linux cooked v1 frame: packet type, ARPHRD type, address length, address (8), protocol, payload.</summary>
    public static byte[] Sll(ushort packetType, ushort arphrd, ushort addressLength, MacAddress address, ushort protocol, byte[] payload)
    {
        var frame = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, packetType);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), arphrd);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), addressLength);
        address.WriteTo(frame.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), protocol);
        payload.CopyTo(frame.AsSpan(16));
        return frame;
    }

    /// <summary>A Linux cooked v2 frame on interface 3: protocol, ifindex, ARPHRD type, address length, address (8), payload.</summary>
    public static byte[] Sll2(ushort protocol, ushort arphrd, byte addressLength, MacAddress address, byte[] payload)
    {
        var frame = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, protocol);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), 3);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(8), arphrd);
        frame[11] = addressLength;
        address.WriteTo(frame.AsSpan(12));
        payload.CopyTo(frame.AsSpan(20));
        return frame;
    }

    /// <summary>An Ethernet frame as Linux cooked v2 records it.</summary>
    public static byte[] Sll2(byte[] ethernet) =>
        Sll2(BinaryPrimitives.ReadUInt16BigEndian(ethernet.AsSpan(12)), 1, 6, MacAddress.Read(ethernet.AsSpan(6)), ethernet[14..]);

    public static byte[] Arp(ushort operation, MacAddress senderMac, uint senderIp, MacAddress targetMac, uint targetIp)
    {
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), operation);
        senderMac.WriteTo(arp.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(arp.AsSpan(14), senderIp);
        targetMac.WriteTo(arp.AsSpan(18));
        BinaryPrimitives.WriteUInt32BigEndian(arp.AsSpan(24), targetIp);
        return Ethernet(senderMac, targetMac == default ? Broadcast : targetMac, EthernetFrame.EtherTypeArp, arp);
    }

    public static byte[] Tftp(ushort opcode, params object[] parts)
    {
        var bytes = new List<byte> { (byte)(opcode >> 8), (byte)opcode };
        foreach (var part in parts)
        {
            switch (part)
            {
                case string text:
                    bytes.AddRange(Encoding.ASCII.GetBytes(text));
                    bytes.Add(0);
                    break;
                case ushort number:
                    bytes.Add((byte)(number >> 8));
                    bytes.Add((byte)number);
                    break;
                case byte[] raw:
                    bytes.AddRange(raw);
                    break;
                default:
                    throw new ArgumentException($"unsupported TFTP part {part}");
            }
        }

        return [.. bytes];
    }
}

/// <summary>A DHCP/BOOTP message under construction (RFC 2131 layout), options appended in order.</summary>
internal sealed class DhcpBuilder
{
    private readonly byte[] fixedPart = new byte[240];
    private readonly List<byte> options = [];

    public DhcpBuilder(byte op, MacAddress chaddr, uint xid, DhcpMessageType type)
    {
        fixedPart[0] = op;
        fixedPart[1] = 1;
        fixedPart[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(4), xid);
        chaddr.WriteTo(fixedPart.AsSpan(28));
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(236), 0x63825363);
        if (type != DhcpMessageType.None)
        {
            Option(53, (byte)type);
        }
    }

    public DhcpBuilder Secs(ushort secs) { BinaryPrimitives.WriteUInt16BigEndian(fixedPart.AsSpan(8), secs); return this; }
    public DhcpBuilder Hops(byte hops) { fixedPart[3] = hops; return this; }
    public DhcpBuilder YourAddress(uint address) { BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(16), address); return this; }
    public DhcpBuilder ServerAddress(uint address) { BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(20), address); return this; }
    public DhcpBuilder RelayAddress(uint address) { BinaryPrimitives.WriteUInt32BigEndian(fixedPart.AsSpan(24), address); return this; }
    public DhcpBuilder File(string name) { Encoding.ASCII.GetBytes(name).CopyTo(fixedPart.AsSpan(108)); return this; }
    public DhcpBuilder ServerName(string name) { Encoding.ASCII.GetBytes(name).CopyTo(fixedPart.AsSpan(44)); return this; }
    public DhcpBuilder FileArea(byte[] raw) { raw.CopyTo(fixedPart.AsSpan(108)); return this; }
    public DhcpBuilder ServerNameArea(byte[] raw) { raw.CopyTo(fixedPart.AsSpan(44)); return this; }

    public DhcpBuilder Option(byte code, params byte[] value)
    {
        options.Add(code);
        options.Add((byte)value.Length);
        options.AddRange(value);
        return this;
    }

    public DhcpBuilder Option(byte code, string value) => Option(code, Encoding.ASCII.GetBytes(value));

    public DhcpBuilder Address(byte code, uint address)
    {
        var value = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, address);
        return Option(code, value);
    }

    public DhcpBuilder Pxe(ushort architecture)
    {
        Option(93, (byte)(architecture >> 8), (byte)architecture);
        return Option(60, $"PXEClient:Arch:{architecture:D5}:UNDI:002001");
    }

    public byte[] Build(bool end = true) => [.. fixedPart, .. options, .. (end ? new byte[] { 255 } : [])];
}
