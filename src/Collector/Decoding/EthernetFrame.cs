using System.Buffers.Binary;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// An Ethernet II frame, with up to two 802.1Q / 802.1ad VLAN tags stripped.
/// <code>
///  0                   6                  12        14
/// +-------------------+------------------+---------+-----------
/// | destination (6)   | source (6)       | type(2) | payload ...
/// +-------------------+------------------+---------+-----------
///   a tag inserts [TPID 0x8100 / 0x88A8 (2) | TCI (2)] before the type
/// </code>
/// </summary>
public readonly ref struct EthernetFrame
{
    public const ushort EtherTypeIPv4 = 0x0800;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeQinQ = 0x88A8;
    public const ushort EtherTypeQinQLegacy = 0x9100;

    private const int DestinationOffset = 0;
    private const int SourceOffset = 6;
    private const int TypeOffset = 12;
    private const int HeaderLength = 14;
    private const int TagLength = 4;
    private const int MaxTags = 2;

    public MacAddress Destination { get; init; }
    public MacAddress Source { get; init; }
    public ushort EtherType { get; init; }

    /// <summary>The innermost VLAN id, 0 when untagged.</summary>
    public ushort VlanId { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    public static bool TryParse(ReadOnlySpan<byte> frame, out EthernetFrame result)
    {
        result = default;
        if (frame.Length < HeaderLength)
        {
            return false;
        }

        var typeOffset = TypeOffset;
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        ushort vlanId = 0;
        for (var tags = 0; IsVlanTag(etherType); tags++)
        {
            if (tags == MaxTags || frame.Length < typeOffset + TagLength + 2)
            {
                return false;
            }

            vlanId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame[(typeOffset + 2)..]) & 0x0FFF);
            typeOffset += TagLength;
            etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        }

        result = new EthernetFrame
        {
            Destination = MacAddress.Read(frame[DestinationOffset..]),
            Source = MacAddress.Read(frame[SourceOffset..]),
            EtherType = etherType,
            VlanId = vlanId,
            Payload = frame[(typeOffset + 2)..],
        };
        return true;
    }

    private static bool IsVlanTag(ushort etherType) =>
        etherType is EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy;
}
