using System.Buffers.Binary;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Capture;

/// <summary>
/// Writes frames as a pcapng file: one little-endian section, one interface (Ethernet unless told otherwise),
/// Enhanced Packet Blocks.
/// </summary>
/// <remarks>
/// Layout (pcapng, draft-ietf-opsawg-pcapng):
/// <code>
/// Section Header Block      type 0x0A0D0D0A | len 28 | BOM 0x1A2B3C4D | major 1 | minor 0 | section length -1 | len 28
/// Interface Description     type 1          | len 20 | linktype (1 Ethernet, 276 SLL2) | reserved | snaplen | len 20
/// Enhanced Packet Block     type 6          | len    | interface 0 | ts high | ts low | captured | original | data (padded to 4) | len
/// </code>
/// No if_tsresol option is written, so readers use the default resolution of microseconds.
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
