using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// An IPv4 header (RFC 791), options skipped by IHL. Non-first fragments carry no transport header and are
/// reported as such rather than parsed; the payload is cut to the total length so Ethernet padding never leaks.
/// <code>
///  0       4       8              16      19                    31
/// |Version|  IHL  |    TOS       |         Total Length          |
/// |        Identification        |Flags|    Fragment Offset      |
/// |  TTL          |  Protocol    |       Header Checksum         |
/// |                       Source Address                         |
/// |                    Destination Address                       |
/// |                    Options (IHL > 5)                         |
/// </code>
/// </summary>
public readonly ref struct Ipv4Packet
{
    public const byte ProtocolUdp = 17;

    private const int MinHeaderLength = 20;
    private const int TotalLengthOffset = 2;
    private const int FlagsFragmentOffset = 6;
    private const int ProtocolOffset = 9;
    private const int SourceOffset = 12;
    private const int DestinationOffset = 16;
    private const ushort MoreFragmentsFlag = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    public byte Protocol { get; init; }
    public uint Source { get; init; }
    public uint Destination { get; init; }

    /// <summary>True for the second and later fragments: no transport header to read.</summary>
    public bool IsNonFirstFragment { get; init; }

    /// <summary>True for the first fragment of a fragmented datagram: the transport payload is incomplete.</summary>
    public bool IsFirstFragment { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    /// <summary>The whole datagram, header included, cut to the total length (no link-layer padding).</summary>
    public ReadOnlySpan<byte> Datagram { get; init; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(ReadOnlySpan<byte> packet, out Ipv4Packet result)
    {
        result = default;
        if (packet.Length < MinHeaderLength || packet[0] >> 4 != 4)
        {
            return false;
        }

        var headerLength = (packet[0] & 0x0F) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[TotalLengthOffset..]);
        if (headerLength < MinHeaderLength || totalLength < headerLength || totalLength > packet.Length)
        {
            return false;
        }

        var flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[FlagsFragmentOffset..]);
        var fragmentOffset = flagsAndOffset & FragmentOffsetMask;
        result = new Ipv4Packet
        {
            Protocol = packet[ProtocolOffset],
            Source = BinaryPrimitives.ReadUInt32BigEndian(packet[SourceOffset..]),
            Destination = BinaryPrimitives.ReadUInt32BigEndian(packet[DestinationOffset..]),
            IsNonFirstFragment = fragmentOffset != 0,
            IsFirstFragment = fragmentOffset == 0 && (flagsAndOffset & MoreFragmentsFlag) != 0,
            Payload = packet[headerLength..totalLength],
            Datagram = packet[..totalLength],
        };
        return true;
    }
}
