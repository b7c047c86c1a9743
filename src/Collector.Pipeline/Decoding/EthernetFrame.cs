namespace PvsFleet.Collector.Decoding;

/// <summary>
/// An Ethernet II frame, with up to <see cref="LinkFrame.MaxVlanTags"/> stacked 802.1Q / 802.1ad VLAN tags stripped.
/// <code>
///  0                   6                  12        14
/// +-------------------+------------------+---------+-----------
/// | destination (6)   | source (6)       | type(2) | payload ...
/// +-------------------+------------------+---------+-----------
///   a tag inserts [TPID 0x8100 / 0x88A8 / 0x9100 (2) | TCI (2)] before the type
/// </code>
/// The tags are read by <see cref="LinkFrame"/>, the decoder for every link type; this view adds the destination.
/// </summary>
public readonly ref struct EthernetFrame
{
    public const ushort EtherTypeIPv4 = LinkFrame.EtherTypeIPv4;
    public const ushort EtherTypeArp = LinkFrame.EtherTypeArp;
    public const ushort EtherTypeVlan = LinkFrame.EtherTypeVlan;
    public const ushort EtherTypeQinQ = LinkFrame.EtherTypeQinQ;
    public const ushort EtherTypeQinQLegacy = LinkFrame.EtherTypeQinQLegacy;

    public MacAddress Destination { get; init; }
    public MacAddress Source { get; init; }
    public ushort EtherType { get; init; }

    /// <summary>The innermost VLAN id, 0 when untagged.</summary>
    public ushort VlanId { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    public static bool TryParse(ReadOnlySpan<byte> frame, out EthernetFrame result)
    {
        if (!LinkFrame.TryParse(LinkType.Ethernet, frame, out var link))
        {
            result = default;
            return false;
        }

        result = new EthernetFrame
        {
            Destination = MacAddress.Read(frame),
            Source = link.SourceMac,
            EtherType = link.EtherType,
            VlanId = link.VlanId,
            Payload = link.Payload,
        };
        return true;
    }
}
