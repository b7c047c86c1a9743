using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Capture;

/// <summary>
/// Reads pcap and pcapng files straight from a memory mapping: no copy and no allocation per frame. SharpPcap's
/// file loop allocates a header object per frame and copies through libpcap, which leaves too little headroom
/// for <c>analyze</c>'s speed target (see README, "Benchmarks"); libpcap stays the reader for live capture
/// and for any other format.
/// <code>
/// pcap:    global header (24) | record header (16: sec, usec|nsec, caplen, origlen) | frame | ...
/// pcapng:  blocks of | type (4) | total length (4) | body ... | total length (4) |
///          SHB 0x0A0D0D0A (byte-order magic 0x1A2B3C4D), IDB 1 (link type, if_tsresol option 9),
///          EPB 6 (interface, ts high, ts low, caplen, origlen, frame), SPB 3 (origlen, frame), PB 2 (obsolete)
/// </code>
/// </summary>
public sealed unsafe partial class MappedCaptureReader : ICaptureFileReader
{
    public const uint PcapMagicMicro = 0xA1B2C3D4;
    public const uint PcapMagicNano = 0xA1B23C4D;
    public const uint PcapMagicMicroSwapped = 0xD4C3B2A1;
    public const uint PcapMagicNanoSwapped = 0x4D3CB2A1;
    public const uint PcapNgSectionHeader = 0x0A0D0D0A;

    private const int PcapGlobalHeaderLength = 24;
    private const int PcapRecordHeaderLength = 16;
    private const uint PcapNgByteOrderMagic = 0x1A2B3C4D;
    private const uint BlockInterfaceDescription = 1;
    private const uint BlockPacketObsolete = 2;
    private const uint BlockSimplePacket = 3;
    private const uint BlockEnhancedPacket = 6;
    private const int BlockMinimumLength = 12;
    private const ushort OptionEnd = 0;
    private const ushort OptionTimestampResolution = 9;

    /// <summary>Larger than any frame a NIC delivers (jumbo frames, TSO aggregates); a bigger length means damage.</summary>
    private const int MaxFrameLength = 262_144;

    /// <summary>
    /// Pages behind the read position are handed back to the kernel in steps of this size: a mapped multi-gigabyte
    /// capture would otherwise count whole towards resident memory, though the kernel could drop those pages at will.
    /// </summary>
    private const long ReleaseStep = 64L << 20;
    private const int MadviseDontNeed = 4;

    private readonly MemoryMappedFile? file;
    private long releasedUpTo;
    private readonly MemoryMappedViewAccessor? view;
    private readonly byte* start;
    private readonly bool isPcapNg;
    private readonly List<InterfaceDescription> interfaces = [];
    private bool bigEndian;
    private long pcapTicksPerUnitDivisor;
    private long position;
    private long frames;
    private DateTime lastTimestamp;
    private bool pointerAcquired;
    private LinkType pcapLinkType;

    public MappedCaptureReader(string path)
    {
        Path = path;
        FileStream stream;
        try
        {
            // The length of the file the path leads to: FileInfo.Length of a symbolic link is the link's own few bytes.
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CaptureException($"{path}: cannot be read: {e.Message}", e);
        }

        Length = stream.Length;
        if (Length < 4)
        {
            stream.Dispose();
            throw new CaptureException($"{path}: too short to be a capture file ({Length} bytes)");
        }

        try
        {
            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointerAcquired = true;
            start = pointer + view.PointerOffset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Dispose();
            throw new CaptureException($"{path}: cannot be read: {e.Message}", e);
        }

        var magic = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(0, 4));
        isPcapNg = magic == PcapNgSectionHeader;
        if (!isPcapNg)
        {
            ReadPcapGlobalHeader(magic);
        }
    }

    public string Path { get; }
    public long Length { get; }
    public long Position => position;
    public string? Damage { get; private set; }

    /// <summary>Frames of pcapng interfaces whose link type the decoder does not read are skipped and counted here.</summary>
    public long SkippedFrames { get; private set; }

    /// <summary>The link type of the skipped frames' interface (the last one seen).</summary>
    public int SkippedLinkType { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryRead(out DateTime timestamp, out ReadOnlySpan<byte> frame, out LinkType linkType)
    {
        if (position - releasedUpTo >= ReleaseStep)
        {
            ReleaseReadPages();
        }

        linkType = pcapLinkType;
        var found = isPcapNg ? TryReadPcapNg(out timestamp, out frame, out linkType) : TryReadPcap(out timestamp, out frame);
        if (found)
        {
            frames++;
            lastTimestamp = timestamp;
        }

        return found;
    }

    // ---------------------------------------------------------------- pcap

    private void ReadPcapGlobalHeader(uint magic)
    {
        if (Length < PcapGlobalHeaderLength)
        {
            throw new CaptureException($"{Path}: the pcap header is cut short ({Length} of {PcapGlobalHeaderLength} bytes)");
        }

        bigEndian = magic is PcapMagicMicroSwapped or PcapMagicNanoSwapped;
        var nanoseconds = magic is PcapMagicNano or PcapMagicNanoSwapped;
        pcapTicksPerUnitDivisor = nanoseconds ? 100 : -10;
        // The top bits may carry the FCS length (pcap's LINKTYPE_FCS_LEN): not part of the type.
        var linkType = (int)(ReadUInt32(Bytes(20, 4)) & 0x0FFFFFFF);
        if (!LinkTypes.IsSupported(linkType))
        {
            throw new CaptureException($"{Path}: {LinkTypes.Unsupported(linkType)}");
        }

        pcapLinkType = (LinkType)linkType;

        position = PcapGlobalHeaderLength;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadPcap(out DateTime timestamp, out ReadOnlySpan<byte> frame)
    {
        timestamp = default;
        frame = default;
        if (position == Length)
        {
            return false;
        }

        if (Length - position < PcapRecordHeaderLength)
        {
            return Stop($"the file ends inside the header of frame {frames + 1} (truncated capture)");
        }

        var header = Bytes(position, PcapRecordHeaderLength);
        var seconds = ReadUInt32(header);
        var fraction = ReadUInt32(header[4..]);
        var capturedLength = ReadUInt32(header[8..]);
        if (capturedLength > MaxFrameLength)
        {
            return Stop($"frame {frames + 1} declares {capturedLength} bytes (corrupt record)");
        }

        if (Length - position - PcapRecordHeaderLength < capturedLength)
        {
            return Stop($"the file ends inside frame {frames + 1} (truncated capture)");
        }

        var fractionTicks = pcapTicksPerUnitDivisor > 0 ? fraction / pcapTicksPerUnitDivisor : fraction * 10L;
        timestamp = DateTime.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + fractionTicks);
        frame = Bytes(position + PcapRecordHeaderLength, (int)capturedLength);
        position += PcapRecordHeaderLength + capturedLength;
        PrefetchNextRecord();
        return true;
    }

    // ---------------------------------------------------------------- pcapng

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadPcapNg(out DateTime timestamp, out ReadOnlySpan<byte> frame, out LinkType linkType)
    {
        timestamp = default;
        frame = default;
        linkType = default;
        while (position < Length)
        {
            if (Length - position < BlockMinimumLength)
            {
                return Stop($"the file ends inside a block after frame {frames} (truncated capture)");
            }

            var type = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(position, 4));
            if (type == PcapNgSectionHeader && !ReadSectionByteOrder())
            {
                return false;
            }

            var blockLength = ReadUInt32(Bytes(position + 4, 4));
            type = ReadUInt32(Bytes(position, 4));
            if (blockLength < BlockMinimumLength || blockLength % 4 != 0)
            {
                return Stop($"a block after frame {frames} declares {blockLength} bytes (corrupt file)");
            }

            if (blockLength > Length - position)
            {
                return Stop($"the file ends inside a block after frame {frames} (truncated capture)");
            }

            var body = Bytes(position + 8, (int)blockLength - BlockMinimumLength);
            position += blockLength;
            PrefetchNextRecord();
            switch (type)
            {
                case PcapNgSectionHeader:
                    interfaces.Clear();
                    break;
                case BlockInterfaceDescription:
                    if (!TryAddInterface(body))
                    {
                        return Stop($"an interface description after frame {frames} is corrupt");
                    }

                    break;
                case BlockEnhancedPacket or BlockPacketObsolete:
                    if (TryReadPacketBlock(type, body, out timestamp, out frame, out linkType, out var corrupt))
                    {
                        return true;
                    }

                    if (corrupt)
                    {
                        return Stop($"frame {frames + 1} has a corrupt packet block");
                    }

                    break;
                case BlockSimplePacket:
                    if (TryReadSimplePacket(body, out frame))
                    {
                        linkType = (LinkType)interfaces[0].LinkType;
                        // Simple packet blocks carry no time: the previous frame's time is the best we know.
                        timestamp = lastTimestamp;
                        return true;
                    }

                    break;
            }
        }

        return false;
    }

    private bool ReadSectionByteOrder()
    {
        if (Length - position < 12)
        {
            return Stop("the file ends inside a section header (truncated capture)");
        }

        var byteOrder = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(position + 8, 4));
        if (byteOrder == PcapNgByteOrderMagic)
        {
            bigEndian = false;
        }
        else if (BinaryPrimitives.ReverseEndianness(byteOrder) == PcapNgByteOrderMagic)
        {
            bigEndian = true;
        }
        else
        {
            if (position == 0)
            {
                throw new CaptureException($"{Path}: the pcapng section header has no valid byte-order magic (corrupt file)");
            }

            return Stop($"a section header after frame {frames} is corrupt");
        }

        return true;
    }

    private bool TryAddInterface(ReadOnlySpan<byte> body)
    {
        if (body.Length < 8)
        {
            return false;
        }

        var linkType = ReadUInt16(body);
        long unitsPerSecond = 1_000_000;
        var options = body[8..];
        while (options.Length >= 4)
        {
            var code = ReadUInt16(options);
            var length = ReadUInt16(options[2..]);
            if (code == OptionEnd)
            {
                break;
            }

            var padded = (length + 3) & ~3;
            if (options.Length < 4 + padded)
            {
                return false;
            }

            if (code == OptionTimestampResolution && length >= 1)
            {
                var resolution = options[4];
                var exponent = resolution & 0x7F;
                if (exponent > 18)
                {
                    return false;
                }

                unitsPerSecond = (resolution & 0x80) == 0 ? (long)Math.Pow(10, exponent) : 1L << Math.Min(exponent, 62);
            }

            options = options[(4 + padded)..];
        }

        interfaces.Add(new InterfaceDescription(linkType, unitsPerSecond));
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryReadPacketBlock(uint type, ReadOnlySpan<byte> body, out DateTime timestamp, out ReadOnlySpan<byte> frame, out LinkType linkType, out bool corrupt)
    {
        timestamp = default;
        frame = default;
        linkType = default;
        corrupt = true;
        if (body.Length < 20)
        {
            return false;
        }

        var interfaceId = type == BlockEnhancedPacket ? (int)ReadUInt32(body) : ReadUInt16(body);
        var high = ReadUInt32(body[4..]);
        var low = ReadUInt32(body[8..]);
        var capturedLength = ReadUInt32(body[12..]);
        if (interfaceId >= interfaces.Count || capturedLength > body.Length - 20)
        {
            return false;
        }

        corrupt = false;
        var link = interfaces[interfaceId];
        if (!link.IsSupported)
        {
            Skip(link.LinkType);
            return false;
        }

        linkType = (LinkType)link.LinkType;

        if (!link.TryGetTimestamp(((ulong)high << 32) | low, out timestamp))
        {
            corrupt = true;
            return false;
        }

        frame = body.Slice(20, (int)capturedLength);
        return true;
    }

    private bool TryReadSimplePacket(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        if (body.Length < 4 || interfaces.Count == 0 || !interfaces[0].IsSupported)
        {
            Skip(interfaces.Count == 0 ? -1 : interfaces[0].LinkType);
            return false;
        }

        var originalLength = ReadUInt32(body);
        frame = body.Slice(4, (int)Math.Min(originalLength, (uint)(body.Length - 4)));
        return true;
    }

    private void Skip(int linkType)
    {
        SkippedFrames++;
        SkippedLinkType = linkType;
    }

    // ---------------------------------------------------------------- bytes

    private ReadOnlySpan<byte> Bytes(long offset, int length) => new(start + offset, length);

    /// <summary>
    /// Asks the CPU for the next record's first lines (its header and the frame's protocol headers) while the
    /// caller works on this one: records are about 1.5 KB apart, too far for the hardware prefetcher, so each
    /// would otherwise start with a wait for memory.
    /// </summary>
    private void PrefetchNextRecord()
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            var next = start + position;
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(next);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(next + 64);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(next + 128);
        }
    }

    /// <summary>Drops the mapping's pages before the current record from this process; the page cache keeps them.</summary>
    private void ReleaseReadPages()
    {
        var upTo = position & ~(Environment.SystemPageSize - 1L);
        var from = releasedUpTo & ~(Environment.SystemPageSize - 1L);
        if (OperatingSystem.IsLinux() && upTo > from)
        {
            // The view starts at file offset 0 on a page boundary, so page-aligned file offsets are page-aligned addresses.
            _ = Madvise(start + from, (nuint)(upTo - from), MadviseDontNeed);
        }

        releasedUpTo = upTo;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(byte* address, nuint length, int advice);

    private uint ReadUInt32(ReadOnlySpan<byte> bytes) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private ushort ReadUInt16(ReadOnlySpan<byte> bytes) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes);

    private bool Stop(string damage)
    {
        Damage = damage;
        position = Length;
        return false;
    }

    public void Dispose()
    {
        if (pointerAcquired)
        {
            view!.SafeMemoryMappedViewHandle.ReleasePointer();
            pointerAcquired = false;
        }

        view?.Dispose();
        file?.Dispose();
    }

    private readonly record struct InterfaceDescription(ushort LinkType, long UnitsPerSecond)
    {
        private static readonly ulong MaxSeconds = (ulong)((DateTime.MaxValue - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerSecond);

        public bool IsSupported { get; } = LinkTypes.IsSupported(LinkType);

        // Every frame's time is converted: for the resolutions captures use (micro-, nanoseconds) one multiplication
        // or division by a constant gives the same ticks as the general path, which needs two divisions and a 128-bit one.
        private ulong TicksPerUnit { get; } = TimeSpan.TicksPerSecond % UnitsPerSecond == 0 ? (ulong)(TimeSpan.TicksPerSecond / UnitsPerSecond) : 0;
        private ulong UnitsPerTick { get; } = UnitsPerSecond % TimeSpan.TicksPerSecond == 0 ? (ulong)(UnitsPerSecond / TimeSpan.TicksPerSecond) : 0;

        /// <summary>The first unit count past DateTime's range (saturated: a resolution so fine no count reaches it).</summary>
        private ulong UnitsLimit { get; } = (ulong)UnitsPerSecond > ulong.MaxValue / MaxSeconds ? ulong.MaxValue : MaxSeconds * (ulong)UnitsPerSecond;

        /// <summary>False for a time past DateTime's range: only damaged files hold one.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool TryGetTimestamp(ulong units, out DateTime timestamp)
        {
            if (units >= UnitsLimit && (ulong)UnitsPerSecond <= ulong.MaxValue / MaxSeconds)
            {
                timestamp = default;
                return false;
            }

            long ticks;
            if (TicksPerUnit != 0)
            {
                ticks = (long)(units * TicksPerUnit);
            }
            else if (UnitsPerTick != 0)
            {
                ticks = (long)(units / UnitsPerTick);
            }
            else
            {
                var seconds = units / (ulong)UnitsPerSecond;
                var remainder = (UInt128)(units % (ulong)UnitsPerSecond);
                ticks = (long)(seconds * TimeSpan.TicksPerSecond) + (long)(remainder * TimeSpan.TicksPerSecond / (ulong)UnitsPerSecond);
            }

            timestamp = DateTime.UnixEpoch.AddTicks(ticks);
            return true;
        }
    }
}
