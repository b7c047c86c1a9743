using System.Buffers.Binary;

namespace PvsFleet.Collector.Simulation;

/// <summary>Who sends a UDP datagram to whom, down to the Ethernet addresses seen on the mirror port.</summary>
internal readonly record struct UdpEndpoints(
    ulong SourceMac,
    ulong DestinationMac,
    uint SourceIp,
    uint DestinationIp,
    int SourcePort,
    int DestinationPort,
    byte Ttl);

/// <summary>
/// Wraps a UDP payload (already written at <see cref="PayloadOffset"/>) in UDP, IPv4 and Ethernet II headers.
/// </summary>
/// <remarks>
/// <code>
///  0      6      12   14                         34        42
///  | dst  | src  |type| IPv4 (20, no options)    | UDP (8) | payload …  | pad to 60
/// </code>
/// The UDP checksum is left 0 (allowed for IPv4); the IPv4 header checksum is real, because decoders may check it.
/// Frames are padded to the 60-byte Ethernet minimum as a mirror port delivers them, so decoders must honour the
/// IP and UDP lengths rather than the frame length.
/// </remarks>
internal static class EthernetUdpFrame
{
    public const int EthernetHeaderLength = 14;
    public const int Ipv4HeaderLength = 20;
    public const int UdpHeaderLength = 8;
    public const int PayloadOffset = EthernetHeaderLength + Ipv4HeaderLength + UdpHeaderLength;
    public const int MinimumFrameLength = 60;

    private const ushort EtherTypeIpv4 = 0x0800;
    private const ushort EtherTypeArp = 0x0806;
    private const byte ProtocolUdp = 17;
    private const ushort DontFragment = 0x4000;

    /// <summary>Writes the headers in front of a payload of <paramref name="payloadLength"/> bytes; returns the frame length.</summary>
    public static int Finish(Span<byte> frame, in UdpEndpoints endpoints, ushort ipIdentification, int payloadLength)
    {
        WriteMac(frame, endpoints.DestinationMac);
        WriteMac(frame[6..], endpoints.SourceMac);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeIpv4);

        var ip = frame.Slice(EthernetHeaderLength, Ipv4HeaderLength);
        ip[0] = 0x45; // version 4, 5 words
        ip[1] = 0;    // DSCP/ECN
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderLength + UdpHeaderLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipIdentification);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], DontFragment);
        ip[8] = endpoints.Ttl;
        ip[9] = ProtocolUdp;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], endpoints.SourceIp);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], endpoints.DestinationIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], HeaderChecksum(ip));

        var udp = frame.Slice(EthernetHeaderLength + Ipv4HeaderLength, UdpHeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)endpoints.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)endpoints.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(UdpHeaderLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);

        return PadToMinimum(frame, PayloadOffset + payloadLength);
    }

    /// <summary>An ARP announcement (gratuitous request, RFC 5227 §2.3) from <paramref name="mac"/> for <paramref name="ip"/>.</summary>
    public static int WriteArpAnnouncement(Span<byte> frame, ulong mac, uint ip)
    {
        WriteMac(frame, SimulatedNetwork.BroadcastMac);
        WriteMac(frame[6..], mac);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherTypeArp);
        var arp = frame[EthernetHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);            // hardware: Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);  // protocol: IPv4
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);       // request
        WriteMac(arp[8..], mac);
        BinaryPrimitives.WriteUInt32BigEndian(arp[14..], ip);
        WriteMac(arp[18..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(arp[24..], ip);
        return PadToMinimum(frame, EthernetHeaderLength + 28);
    }

    public static void WriteMac(Span<byte> destination, ulong mac)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(mac >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)mac);
    }

    private static int PadToMinimum(Span<byte> frame, int length)
    {
        if (length >= MinimumFrameLength)
            return length;
        frame[length..MinimumFrameLength].Clear();
        return MinimumFrameLength;
    }

    private static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        while (sum > 0xFFFF)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
