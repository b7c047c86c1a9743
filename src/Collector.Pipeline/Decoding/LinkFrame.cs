using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// The network-layer payload of a captured frame, whatever link layer carried it: its EtherType (IPv4 and ARP
/// matter), the innermost VLAN id, and the sender's MAC where the link layer records one.
/// <code>
/// Ethernet (1)     | dst (6) | src (6) | type (2) | payload            (VLAN tags may follow src, see below)
/// SLL (113)        | packet type (2) | ARPHRD (2) | address length (2) | address (8) | protocol (2) | payload
/// SLL2 (276)       | protocol (2) | reserved (2) | ifindex (4) | ARPHRD (2) | packet type (1) | address length (1) | address (8) | payload
/// Null (0)         | address family (4, capturing host's byte order; AF_INET = 2) | payload
/// Raw (101), IPv4 (228)  | IP header ...
/// VLAN tag         | TPID 0x8100 / 0x88A8 / 0x9100 (2) | TCI: PCP, DEI, VLAN id (2) |   up to 8 stacked
/// </code>
/// The SLL address is the link-layer source of the frame (for outgoing frames, the capturing host's own).
/// </summary>
public readonly ref struct LinkFrame
{
    public const ushort EtherTypeIPv4 = 0x0800;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeVlan = 0x8100;
    public const ushort EtherTypeQinQ = 0x88A8;
    public const ushort EtherTypeQinQLegacy = 0x9100;

    /// <summary>802.1Q/802.1ad stacks deeper than this are treated as damage.</summary>
    public const int MaxVlanTags = 8;

    private const int SllHeaderLength = 16;
    private const int SllAddressLengthOffset = 4;
    private const int SllAddressOffset = 6;
    private const int SllProtocolOffset = 14;
    private const int SllArphrdOffset = 2;
    private const int Sll2HeaderLength = 20;
    private const int Sll2ArphrdOffset = 8;
    private const int Sll2AddressLengthOffset = 11;
    private const int Sll2AddressOffset = 12;
    private const ushort ArphrdEthernet = 1;
    private const int NullHeaderLength = 4;
    private const uint AddressFamilyInet = 2;
    private const int VlanTagLength = 4;

    public ushort EtherType { get; init; }

    /// <summary>The innermost VLAN id, 0 when untagged.</summary>
    public ushort VlanId { get; init; }

    /// <summary>How many VLAN tags were stripped.</summary>
    public int VlanTags { get; init; }

    /// <summary>The sender's MAC: the Ethernet source, or the address of a cooked capture; only when <see cref="HasSourceMac"/>.</summary>
    public MacAddress SourceMac { get; init; }
    public bool HasSourceMac { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    /// <summary>False when the frame is too short for its link header or its VLAN stack is cut or too deep.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(LinkType linkType, ReadOnlySpan<byte> frame, out LinkFrame result) => linkType switch
    {
        LinkType.Ethernet => TryParseEthernet(frame, out result),
        LinkType.LinuxSll => TryParseSll(frame, out result),
        LinkType.LinuxSll2 => TryParseSll2(frame, out result),
        LinkType.Null => TryParseNull(frame, out result),
        LinkType.Raw or LinkType.Ipv4 => TryParseRaw(frame, out result),
        _ => Fail(out result),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseEthernet(ReadOnlySpan<byte> frame, out LinkFrame result)
    {
        if (frame.Length < 14)
        {
            return Fail(out result);
        }

        return TryStripTags(frame, 12, MacAddress.Read(frame[6..]), hasSource: true, out result);
    }

    private static bool TryParseSll(ReadOnlySpan<byte> frame, out LinkFrame result)
    {
        if (frame.Length < SllHeaderLength)
        {
            return Fail(out result);
        }

        var hasSource = IsEthernetAddress(BinaryPrimitives.ReadUInt16BigEndian(frame[SllArphrdOffset..]),
            BinaryPrimitives.ReadUInt16BigEndian(frame[SllAddressLengthOffset..]));
        var source = hasSource ? MacAddress.Read(frame[SllAddressOffset..]) : default;
        return TryStripTags(frame, SllProtocolOffset, source, hasSource, out result);
    }

    private static bool TryParseSll2(ReadOnlySpan<byte> frame, out LinkFrame result)
    {
        if (frame.Length < Sll2HeaderLength)
        {
            return Fail(out result);
        }

        var hasSource = IsEthernetAddress(BinaryPrimitives.ReadUInt16BigEndian(frame[Sll2ArphrdOffset..]), frame[Sll2AddressLengthOffset]);
        var source = hasSource ? MacAddress.Read(frame[Sll2AddressOffset..]) : default;
        var protocol = BinaryPrimitives.ReadUInt16BigEndian(frame);
        return TryStripTags(frame[Sll2HeaderLength..], protocol, source, hasSource, out result);
    }

    private static bool TryParseNull(ReadOnlySpan<byte> frame, out LinkFrame result)
    {
        if (frame.Length < NullHeaderLength)
        {
            return Fail(out result);
        }

        // Written in the capturing host's byte order, which the file does not record: AF_INET is 2 everywhere.
        var family = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        var isIpv4 = family == AddressFamilyInet || BinaryPrimitives.ReverseEndianness(family) == AddressFamilyInet;
        result = new LinkFrame { EtherType = isIpv4 ? EtherTypeIPv4 : (ushort)0, Payload = frame[NullHeaderLength..] };
        return true;
    }

    private static bool TryParseRaw(ReadOnlySpan<byte> frame, out LinkFrame result)
    {
        if (frame.IsEmpty)
        {
            return Fail(out result);
        }

        result = new LinkFrame { EtherType = frame[0] >> 4 == 4 ? EtherTypeIPv4 : (ushort)0, Payload = frame };
        return true;
    }

    /// <summary>Reads the EtherType at <paramref name="typeOffset"/> and any VLAN tags after it.</summary>
    private static bool TryStripTags(ReadOnlySpan<byte> frame, int typeOffset, MacAddress source, bool hasSource, out LinkFrame result)
    {
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[typeOffset..]);
        return TryStripTags(frame[(typeOffset + 2)..], etherType, source, hasSource, out result);
    }

    /// <summary><paramref name="afterType"/> starts right after an EtherType field holding <paramref name="etherType"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryStripTags(ReadOnlySpan<byte> afterType, ushort etherType, MacAddress source, bool hasSource, out LinkFrame result)
    {
        ushort vlanId = 0;
        var tags = 0;
        while (IsVlanTag(etherType))
        {
            if (tags == MaxVlanTags || afterType.Length < VlanTagLength)
            {
                return Fail(out result);
            }

            vlanId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(afterType) & 0x0FFF);
            etherType = BinaryPrimitives.ReadUInt16BigEndian(afterType[2..]);
            afterType = afterType[VlanTagLength..];
            tags++;
        }

        result = new LinkFrame
        {
            EtherType = etherType,
            VlanId = vlanId,
            VlanTags = tags,
            SourceMac = source,
            HasSourceMac = hasSource,
            Payload = afterType,
        };
        return true;
    }

    public static bool IsVlanTag(ushort etherType) =>
        etherType is EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy;

    private static bool IsEthernetAddress(ushort arphrd, int addressLength) =>
        arphrd == ArphrdEthernet && addressLength == MacAddress.Length;

    private static bool Fail(out LinkFrame result)
    {
        result = default;
        return false;
    }
}
