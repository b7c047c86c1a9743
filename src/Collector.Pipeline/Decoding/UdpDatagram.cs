using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// A UDP header (RFC 768).
/// <code>
///  0              16             31
/// |  Source Port  |  Dest Port    |
/// |    Length     |   Checksum    |
/// </code>
/// </summary>
public readonly ref struct UdpDatagram
{
    private const int HeaderLength = 8;

    public ushort SourcePort { get; init; }
    public ushort DestinationPort { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    /// <summary>The payload length the header declares: more than <see cref="Payload"/> holds in a first fragment.</summary>
    public int DeclaredPayloadLength { get; init; }

    /// <param name="segment">The IPv4 payload.</param>
    /// <param name="allowTruncated">For a first fragment the length field covers bytes that arrive later.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(ReadOnlySpan<byte> segment, out UdpDatagram result, bool allowTruncated = false)
    {
        result = default;
        if (segment.Length < HeaderLength)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
        if (length < HeaderLength || (length > segment.Length && !allowTruncated))
        {
            return false;
        }

        result = new UdpDatagram
        {
            SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment),
            DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]),
            Payload = segment[HeaderLength..Math.Min(length, segment.Length)],
            DeclaredPayloadLength = length - HeaderLength,
        };
        return true;
    }
}
