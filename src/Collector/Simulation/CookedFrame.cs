using System.Buffers.Binary;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// Rewrites an Ethernet frame as Linux cooked capture v2 (SLL2), the link type <c>tcpdump -i any</c> writes with
/// libpcap 1.10 and later: the Ethernet header gives way to a 20-byte header naming the interface and the sender.
/// <code>
///  0        2          4            8          10            11             12             20
///  | protocol | reserved | ifindex (4) | ARPHRD (2) | packet type | address length | address (8) | payload …
/// </code>
/// </summary>
internal static class CookedFrame
{
    public const int Sll2HeaderLength = 20;

    private const ushort ArphrdEthernet = 1;
    private const byte PacketBroadcast = 1;
    private const byte PacketMulticast = 2;

    /// <summary>A frame seen by a mirror: addressed to another host (PACKET_OTHERHOST).</summary>
    private const byte PacketOtherHost = 3;

    /// <summary>Writes the SLL2 form of <paramref name="ethernet"/> into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteSll2(ReadOnlySpan<byte> ethernet, Span<byte> destination, int interfaceIndex)
    {
        const int EthernetHeaderLength = 14;
        var payload = ethernet[EthernetHeaderLength..];
        var header = destination[..Sll2HeaderLength];
        ethernet.Slice(12, 2).CopyTo(header);                       // protocol: the EtherType
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], 0);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], interfaceIndex);
        BinaryPrimitives.WriteUInt16BigEndian(header[8..], ArphrdEthernet);
        header[10] = ethernet[..6].IndexOfAnyExcept((byte)0xFF) < 0 ? PacketBroadcast
            : (ethernet[0] & 1) != 0 ? PacketMulticast : PacketOtherHost;
        header[11] = 6;
        ethernet.Slice(6, 6).CopyTo(header[12..]);                  // the sender's MAC
        header[18..20].Clear();
        payload.CopyTo(destination[Sll2HeaderLength..]);
        return Sll2HeaderLength + payload.Length;
    }
}
