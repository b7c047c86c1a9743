using System.Buffers.Binary;

namespace PvsFleet.Collector.Decoding;

/// <summary>DHCP message types (RFC 2132 option 53, RFC 4388 and RFC 6926 for the lease-query family).</summary>
public enum DhcpMessageType : byte
{
    None = 0,
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
    ForceRenew = 9,
    LeaseQuery = 10,
    LeaseUnassigned = 11,
    LeaseUnknown = 12,
    LeaseActive = 13,
    BulkLeaseQuery = 14,
    LeaseQueryDone = 15,
    ActiveLeaseQuery = 16,
    LeaseQueryStatus = 17,
    Tls = 18,
}

/// <summary>
/// A DHCP or BOOTP message (RFC 2131) with the options PXE and PVS boots use (RFC 2132, 3046, 4578).
/// Every value is a slice of the packet: nothing is copied or allocated.
/// <code>
///  0        8        16       24       31
/// |  op    | htype  |  hlen  |  hops  |
/// |              xid (4)              |
/// |   secs (2)      |   flags (2)     |
/// |  ciaddr (4) | yiaddr (4) | siaddr (4) | giaddr (4) |
/// |  chaddr (16)  |  sname (64)  |  file (128)  |
/// |  magic cookie 99.130.83.99 (4)  |  options ...  |
/// </code>
/// </summary>
public readonly ref struct DhcpMessage
{
    public const byte OpRequest = 1;
    public const byte OpReply = 2;

    private const int HtypeOffset = 1;
    private const int HlenOffset = 2;
    private const int HopsOffset = 3;
    private const int XidOffset = 4;
    private const int SecsOffset = 8;
    private const int FlagsOffset = 10;
    private const int CiaddrOffset = 12;
    private const int YiaddrOffset = 16;
    private const int SiaddrOffset = 20;
    private const int GiaddrOffset = 24;
    private const int ChaddrOffset = 28;
    private const int SnameOffset = 44;
    private const int SnameLength = 64;
    private const int FileOffset = 108;
    private const int FileLength = 128;
    private const int MagicOffset = 236;
    private const int OptionsOffset = 240;
    private const uint MagicCookie = 0x63825363;
    private const byte HardwareEthernet = 1;

    public byte Op { get; init; }
    public byte Hops { get; init; }
    public uint Xid { get; init; }
    public ushort Secs { get; init; }
    public ushort Flags { get; init; }
    public uint ClientAddress { get; init; }
    public uint YourAddress { get; init; }
    public uint ServerAddress { get; init; }
    public uint RelayAddress { get; init; }

    /// <summary>chaddr: the device's own MAC, also when a relay sent the frame.</summary>
    public MacAddress ClientMac { get; init; }

    /// <summary>sname, unless option 52 reuses it for options.</summary>
    public ReadOnlySpan<byte> ServerName { get; init; }

    /// <summary>file, unless option 52 reuses it for options.</summary>
    public ReadOnlySpan<byte> File { get; init; }

    /// <summary>False for plain BOOTP (no magic cookie): then no options were read.</summary>
    public bool HasOptions { get; init; }
    public DhcpOptions Options { get; init; }

    /// <summary>The boot file name from option 67, else from the file field.</summary>
    public ReadOnlySpan<byte> BootFileName => Options.BootFileName.IsEmpty ? File : Options.BootFileName;

    public static bool TryParse(ReadOnlySpan<byte> payload, out DhcpMessage result)
    {
        result = default;
        if (payload.Length < MagicOffset || payload[0] is not (OpRequest or OpReply))
        {
            return false;
        }

        // Only Ethernet hardware addresses identify a PXE device; others are valid DHCP but not ours to key on.
        var isEthernet = payload[HtypeOffset] == HardwareEthernet && payload[HlenOffset] == MacAddress.Length;
        var sname = payload.Slice(SnameOffset, SnameLength);
        var file = payload.Slice(FileOffset, FileLength);
        var options = default(DhcpOptions);
        var hasOptions = payload.Length >= OptionsOffset
            && BinaryPrimitives.ReadUInt32BigEndian(payload[MagicOffset..]) == MagicCookie;
        if (hasOptions)
        {
            if (!DhcpOptions.TryParse(payload[OptionsOffset..], file, sname, out options))
            {
                return false;
            }

            if ((options.Overload & DhcpOptions.OverloadFile) != 0)
            {
                file = default;
            }

            if ((options.Overload & DhcpOptions.OverloadServerName) != 0)
            {
                sname = default;
            }
        }

        result = new DhcpMessage
        {
            Op = payload[0],
            Hops = payload[HopsOffset],
            Xid = BinaryPrimitives.ReadUInt32BigEndian(payload[XidOffset..]),
            Secs = BinaryPrimitives.ReadUInt16BigEndian(payload[SecsOffset..]),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(payload[FlagsOffset..]),
            ClientAddress = BinaryPrimitives.ReadUInt32BigEndian(payload[CiaddrOffset..]),
            YourAddress = BinaryPrimitives.ReadUInt32BigEndian(payload[YiaddrOffset..]),
            ServerAddress = BinaryPrimitives.ReadUInt32BigEndian(payload[SiaddrOffset..]),
            RelayAddress = BinaryPrimitives.ReadUInt32BigEndian(payload[GiaddrOffset..]),
            ClientMac = isEthernet ? MacAddress.Read(payload[ChaddrOffset..]) : default,
            ServerName = TrimAtNul(sname),
            File = TrimAtNul(file),
            HasOptions = hasOptions,
            Options = options,
        };
        return true;
    }

    /// <summary>Fixed-size BOOTP fields and DHCP string options are NUL-padded.</summary>
    public static ReadOnlySpan<byte> TrimAtNul(ReadOnlySpan<byte> value)
    {
        var end = value.IndexOf((byte)0);
        return end < 0 ? value : value[..end];
    }
}
