using System.Buffers.Binary;
using System.Text;

namespace PvsFleet.Collector.Simulation;

/// <summary>Writes one BOOTP/DHCP message (RFC 2131 §2, options RFC 2132, PXE options RFC 4578) into a span.</summary>
/// <remarks>
/// <code>
///  0    op | htype | hlen | hops          4   xid
///  8    secs | flags                      12  ciaddr   16 yiaddr   20 siaddr   24 giaddr
///  28   chaddr (16)   44 sname (64)   108 file (128)   236 magic cookie 99.130.83.99   240 options … 255
/// </code>
/// </remarks>
internal ref struct DhcpWriter
{
    public const byte BootRequest = 1;
    public const byte BootReply = 2;

    // Options used by the storm (RFC 2132, RFC 4578).
    public const byte OptionSubnetMask = 1;
    public const byte OptionRouter = 3;
    public const byte OptionHostName = 12;
    public const byte OptionRequestedIp = 50;
    public const byte OptionLeaseTime = 51;
    public const byte OptionMessageType = 53;
    public const byte OptionServerId = 54;
    public const byte OptionParameterList = 55;
    public const byte OptionMaxMessageSize = 57;
    public const byte OptionVendorClass = 60;
    public const byte OptionClientId = 61;
    public const byte OptionTftpServerName = 66;
    public const byte OptionBootFile = 67;
    public const byte OptionClientArchitecture = 93;
    public const byte OptionNetworkInterfaceId = 94;
    public const byte OptionClientUuid = 97;
    private const byte OptionEnd = 255;

    private const int XidOffset = 4;
    private const int SecsOffset = 8;
    private const int FlagsOffset = 10;
    private const int CiaddrOffset = 12;
    private const int YiaddrOffset = 16;
    private const int SiaddrOffset = 20;
    private const int GiaddrOffset = 24;
    private const int ChaddrOffset = 28;
    private const int FileOffset = 108;
    private const int MagicOffset = 236;
    private const int OptionsOffset = 240;
    private const uint MagicCookie = 0x63825363;

    /// <summary>BOOTP's minimum message; PXE ROMs and servers pad up to it.</summary>
    private const int MinimumLength = 300;

    private readonly Span<byte> buffer;
    private int position;

    public DhcpWriter(Span<byte> buffer) => this.buffer = buffer;

    public readonly record struct Header(
        byte Op, byte Hops, uint Xid, int Secs, bool Broadcast,
        uint ClientIp, uint YourIp, uint ServerIp, uint RelayIp, ulong ClientMac, string? File);

    public void WriteHeader(in Header header)
    {
        buffer[..OptionsOffset].Clear();
        buffer[0] = header.Op;
        buffer[1] = 1; // Ethernet
        buffer[2] = 6;
        buffer[3] = header.Hops;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[XidOffset..], header.Xid);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[SecsOffset..], (ushort)Math.Min(header.Secs, ushort.MaxValue));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[FlagsOffset..], header.Broadcast ? (ushort)0x8000 : (ushort)0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[CiaddrOffset..], header.ClientIp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[YiaddrOffset..], header.YourIp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[SiaddrOffset..], header.ServerIp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[GiaddrOffset..], header.RelayIp);
        EthernetUdpFrame.WriteMac(buffer[ChaddrOffset..], header.ClientMac);
        if (header.File is not null)
            Encoding.ASCII.GetBytes(header.File, buffer[FileOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[MagicOffset..], MagicCookie);
        position = OptionsOffset;
    }

    public void Option(byte code, byte value)
    {
        buffer[position] = code;
        buffer[position + 1] = 1;
        buffer[position + 2] = value;
        position += 3;
    }

    public void Option(byte code, ushort value)
    {
        buffer[position] = code;
        buffer[position + 1] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(position + 2)..], value);
        position += 4;
    }

    public void Option(byte code, uint value)
    {
        buffer[position] = code;
        buffer[position + 1] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[(position + 2)..], value);
        position += 6;
    }

    public void Option(byte code, scoped ReadOnlySpan<byte> value)
    {
        buffer[position] = code;
        buffer[position + 1] = (byte)value.Length;
        value.CopyTo(buffer[(position + 2)..]);
        position += 2 + value.Length;
    }

    public void Option(byte code, string ascii)
    {
        buffer[position] = code;
        var length = Encoding.ASCII.GetBytes(ascii, buffer[(position + 2)..]);
        buffer[position + 1] = (byte)length;
        position += 2 + length;
    }

    /// <summary>Terminates the options and pads to the BOOTP minimum; returns the message length.</summary>
    public int End()
    {
        buffer[position++] = OptionEnd;
        if (position < MinimumLength)
        {
            buffer[position..MinimumLength].Clear();
            position = MinimumLength;
        }

        return position;
    }
}
