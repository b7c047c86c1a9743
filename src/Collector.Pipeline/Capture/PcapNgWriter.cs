using System.Buffers.Binary;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Capture;

/// <summary>
/// Writes frames as a pcapng file: one little-endian section, one interface (Ethernet unless told otherwise) or the
/// interfaces given, Enhanced Packet Blocks.
/// </summary>
/// <remarks>
/// Layout (pcapng, draft-ietf-opsawg-pcapng):
/// <code>
/// Section Header Block      type 0x0A0D0D0A | len 28 | BOM 0x1A2B3C4D | major 1 | minor 0 | section length -1 | len 28
/// Interface Description     type 1          | len 20 | linktype (1 Ethernet, 276 SLL2) | reserved | snaplen | len 20
/// Enhanced Packet Block     type 6          | len    | interface 0 | ts high | ts low | captured | original | data (padded to 4) | len
/// </code>
/// The single-interface form writes no if_tsresol option, so readers use the default resolution of microseconds. The
/// interface-list form (evidence clips) writes if_name and if_tsresol per interface, and EPBs may carry an opt_comment.
/// The writer is on the simulator's hot path (millions of frames), so it never allocates per packet.
/// </remarks>
public sealed class PcapNgWriter : IDisposable
{
    public const int DefaultSnapLength = 262_144;

    private const uint SectionHeaderBlockType = 0x0A0D0D0A;
    private const uint ByteOrderMagic = 0x1A2B3C4D;
    private const uint InterfaceDescriptionBlockType = 1;
    private const uint EnhancedPacketBlockType = 6;
    private const int SectionHeaderLength = 28;
    private const int InterfaceDescriptionLength = 20;
    private const int EnhancedPacketHeaderLength = 28;
    private const int BlockTrailerLength = 4;
    private const ushort OptionEnd = 0;
    private const ushort OptionComment = 1;
    private const ushort OptionIfName = 2;
    private const ushort OptionIfTsResol = 9;

    private readonly Stream stream;
    private readonly bool leaveOpen;
    private readonly int snapLength;
    private readonly LinkType linkType;

    public PcapNgWriter(string path, int snapLength = DefaultSnapLength, LinkType linkType = LinkType.Ethernet)
        : this(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 20, FileOptions.SequentialScan), leaveOpen: false, snapLength, linkType)
    {
    }

    public PcapNgWriter(Stream stream, bool leaveOpen, int snapLength = DefaultSnapLength, LinkType linkType = LinkType.Ethernet)
    {
        this.linkType = linkType;
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(snapLength);
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        this.snapLength = snapLength;
        WriteSectionHeader();
        WriteInterfaceDescription();
    }

    /// <summary>
    /// A section with the given interfaces (ids 0, 1, … in order), each with its own link type, name and timestamp
    /// resolution; frames are written with <see cref="WritePacket(int, ulong, ReadOnlySpan{byte}, int, string?)"/>.
    /// </summary>
    public PcapNgWriter(Stream stream, bool leaveOpen, IReadOnlyList<PcapNgInterface> interfaces)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(interfaces);
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        snapLength = DefaultSnapLength;
        WriteSectionHeader();
        foreach (var i in interfaces)
        {
            WriteInterfaceDescription(i);
        }
    }

    /// <summary>Frames written so far.</summary>
    public long Packets { get; private set; }

    /// <summary>Bytes written so far, headers included.</summary>
    public long Bytes { get; private set; }

    /// <summary>Appends one frame; <paramref name="unixMicroseconds"/> is microseconds since 1970-01-01 UTC.</summary>
    public void WritePacket(long unixMicroseconds, ReadOnlySpan<byte> frame)
    {
        // Frames longer than the snap length are cut, as a capturing NIC would; the original length stays.
        var captured = Math.Min(frame.Length, snapLength);
        var padding = (4 - (captured & 3)) & 3;
        var blockLength = EnhancedPacketHeaderLength + captured + padding + BlockTrailerLength;

        Span<byte> header = stackalloc byte[EnhancedPacketHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, EnhancedPacketBlockType);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], blockLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0); // interface id
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)((ulong)unixMicroseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)unixMicroseconds);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], captured);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], frame.Length);
        stream.Write(header);
        stream.Write(frame[..captured]);

        Span<byte> trailer = stackalloc byte[3 + BlockTrailerLength];
        trailer.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(trailer[padding..], blockLength);
        stream.Write(trailer[..(padding + BlockTrailerLength)]);

        Packets++;
        Bytes += blockLength;
    }

    /// <summary>
    /// Appends one frame of interface <paramref name="interfaceId"/>: <paramref name="timestamp"/> in that interface's
    /// units since 1970, the bytes kept (perhaps cut short), the length the frame had on the wire, and an optional comment
    /// (Wireshark shows it as <c>frame.comment</c>). Not for hot paths: the comment is encoded per call.
    /// </summary>
    public void WritePacket(int interfaceId, ulong timestamp, ReadOnlySpan<byte> captured, int originalLength, string? comment = null)
    {
        var padding = (4 - (captured.Length & 3)) & 3;
        var commentBytes = string.IsNullOrEmpty(comment) ? [] : System.Text.Encoding.UTF8.GetBytes(comment);
        var commentPadding = (4 - (commentBytes.Length & 3)) & 3;
        var optionsLength = commentBytes.Length == 0 ? 0 : 4 + commentBytes.Length + commentPadding + 4;
        var blockLength = EnhancedPacketHeaderLength + captured.Length + padding + optionsLength + BlockTrailerLength;

        Span<byte> header = stackalloc byte[EnhancedPacketHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, EnhancedPacketBlockType);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], blockLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], interfaceId);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)(timestamp >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], captured.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], Math.Max(originalLength, captured.Length));
        stream.Write(header);
        stream.Write(captured);
        Span<byte> zeros = stackalloc byte[4];
        zeros.Clear();
        stream.Write(zeros[..padding]);
        if (commentBytes.Length > 0)
        {
            WriteOption(OptionComment, commentBytes);
            WriteOption(OptionEnd, []);
        }

        Span<byte> trailer = stackalloc byte[BlockTrailerLength];
        BinaryPrimitives.WriteInt32LittleEndian(trailer, blockLength);
        stream.Write(trailer);
        Packets++;
        Bytes += blockLength;
    }

    public void Flush() => stream.Flush();

    public void Dispose()
    {
        stream.Flush();
        if (!leaveOpen)
            stream.Dispose();
    }

    private void WriteSectionHeader()
    {
        Span<byte> block = stackalloc byte[SectionHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(block, SectionHeaderBlockType);
        BinaryPrimitives.WriteInt32LittleEndian(block[4..], SectionHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], ByteOrderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(block[12..], 1); // major
        BinaryPrimitives.WriteUInt16LittleEndian(block[14..], 0); // minor
        BinaryPrimitives.WriteInt64LittleEndian(block[16..], -1); // section length: not known while streaming
        BinaryPrimitives.WriteInt32LittleEndian(block[24..], SectionHeaderLength);
        stream.Write(block);
        Bytes += SectionHeaderLength;
    }

    private void WriteInterfaceDescription(PcapNgInterface description)
    {
        var name = string.IsNullOrEmpty(description.Name) ? [] : System.Text.Encoding.UTF8.GetBytes(description.Name);
        var namePadding = (4 - (name.Length & 3)) & 3;
        var optionsLength = (name.Length == 0 ? 0 : 4 + name.Length + namePadding) + 8 /* if_tsresol */ + 4 /* opt_endofopt */;
        var blockLength = InterfaceDescriptionLength + optionsLength;
        Span<byte> block = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(block, InterfaceDescriptionBlockType);
        BinaryPrimitives.WriteInt32LittleEndian(block[4..], blockLength);
        BinaryPrimitives.WriteUInt16LittleEndian(block[8..], (ushort)description.LinkType);
        BinaryPrimitives.WriteUInt16LittleEndian(block[10..], 0); // reserved
        BinaryPrimitives.WriteInt32LittleEndian(block[12..], description.SnapLength);
        stream.Write(block);
        if (name.Length > 0)
        {
            WriteOption(OptionIfName, name);
        }

        WriteOption(OptionIfTsResol, [description.TimestampResolution]);
        WriteOption(OptionEnd, []);
        Span<byte> trailer = stackalloc byte[BlockTrailerLength];
        BinaryPrimitives.WriteInt32LittleEndian(trailer, blockLength);
        stream.Write(trailer);
        Bytes += blockLength;
    }

    private void WriteOption(ushort code, ReadOnlySpan<byte> value)
    {
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(head, code);
        BinaryPrimitives.WriteUInt16LittleEndian(head[2..], (ushort)value.Length);
        stream.Write(head);
        stream.Write(value);
        Span<byte> zeros = stackalloc byte[4];
        zeros.Clear();
        stream.Write(zeros[..((4 - (value.Length & 3)) & 3)]);
    }

    private void WriteInterfaceDescription()
    {
        Span<byte> block = stackalloc byte[InterfaceDescriptionLength];
        BinaryPrimitives.WriteUInt32LittleEndian(block, InterfaceDescriptionBlockType);
        BinaryPrimitives.WriteInt32LittleEndian(block[4..], InterfaceDescriptionLength);
        BinaryPrimitives.WriteUInt16LittleEndian(block[8..], (ushort)linkType);
        BinaryPrimitives.WriteUInt16LittleEndian(block[10..], 0); // reserved
        BinaryPrimitives.WriteInt32LittleEndian(block[12..], snapLength);
        BinaryPrimitives.WriteInt32LittleEndian(block[16..], InterfaceDescriptionLength);
        stream.Write(block);
        Bytes += InterfaceDescriptionLength;
    }
}

/// <summary>
/// One interface of a pcapng section. <paramref name="TimestampResolution"/> is if_tsresol: a power of ten (6:
/// microseconds, 9: nanoseconds), the unit of the interface's EPB timestamps.
/// </summary>
public readonly record struct PcapNgInterface(LinkType LinkType, string? Name, int SnapLength, byte TimestampResolution);
