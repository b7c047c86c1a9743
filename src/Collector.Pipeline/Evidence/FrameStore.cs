using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Evidence;

/// <summary>
/// The evidence frames of every device in flight, in one preallocated arena: frame bytes in fixed 128-byte chunks
/// chained per frame, frame records in a preallocated array, and free lists of both. Appending a frame copies its bytes
/// and allocates nothing. Per device, each <see cref="EvidenceKind"/> is a FIFO of records; every record is also on a
/// collector-wide list in arrival order (one for bulk frames, one for control frames), so when the budget is full the
/// oldest bulk frame, or failing that the oldest control frame, is found in O(1).
/// </summary>
/// <remarks>
/// Single-threaded, like the tracker it follows. Since each device's FIFO is in arrival order, the collector-wide oldest
/// frame of a list is always the head of its device's FIFO of its kind: eviction pops heads only.
/// </remarks>
public sealed class FrameStore
{
    public const int ChunkSize = 128;
    private const int None = -1;

    private readonly byte[] arena;
    private readonly int[] nextChunk;
    private readonly Record[] records;
    private readonly EvidenceCounters counters;

    // Records name their device by slot, not by reference: a table of references the size of the budget would be
    // scanned by every young-generation collection once frames were written into it.
    private DeviceFrames?[] devices;
    private readonly Stack<int> freeDeviceSlots = new();
    private int unusedDeviceSlot;
    private int freeChunk;
    private int freeChunks;
    private int freeRecord;

    // Slots never used yet: taken in order once the free lists are empty.
    private int unusedChunk;
    private int unusedRecord;

    // Two collector-wide lists in arrival order, oldest first: [0] the bulk records (Transfer, Stream), which go first when
    // the budget is full, and [1] the control records, which go (oldest first) only when no bulk record is left.
    private readonly int[] oldest = [None, None];
    private readonly int[] newest = [None, None];

    public FrameStore(long maxBytes, EvidenceCounters counters)
    {
        this.counters = counters;
        var chunks = (int)Math.Min(maxBytes / ChunkSize, Array.MaxLength / ChunkSize);
        // Nothing is written at construction: pages of the arena and the tables are touched only as frames arrive, so an
        // idle collector does not hold the whole budget resident. Free lists start empty; unused slots are taken in order.
        arena = GC.AllocateUninitializedArray<byte>(chunks * ChunkSize);
        nextChunk = GC.AllocateUninitializedArray<int>(chunks);
        freeChunk = None;
        freeChunks = chunks;

        // A kept frame takes at least one chunk, most two or more: this many records rarely run out before the chunks do.
        records = new Record[Math.Max(16, chunks / 2)];
        devices = new DeviceFrames?[64];
        freeRecord = None;
    }

    public long CapacityBytes => arena.LongLength;

    /// <summary>
    /// Copies one frame of <paramref name="device"/> into the store. To make room it lets go of the device's own oldest
    /// frames past <paramref name="maxDeviceBytes"/>, then of the collector-wide oldest streaming and TFTP data frames, then
    /// of the oldest control frames; only a frame larger than the whole budget is dropped (counted).
    /// </summary>
    public void Append(DeviceFrames device, EvidenceKind kind, int keepOfKind, int maxDeviceBytes, DateTime timestamp, long ordinal,
        ReadOnlySpan<byte> bytes, int originalLength, LinkType linkType, byte interfaceId)
    {
        var chunks = (bytes.Length + ChunkSize - 1) / ChunkSize;
        if ((long)chunks * ChunkSize > arena.LongLength)
        {
            counters.FramesDropped++;
            return;
        }

        if (kind != EvidenceKind.Control)
        {
            if (keepOfKind == 0)
            {
                return;
            }

            while (device.Count(kind) >= keepOfKind)
            {
                Remove(device, kind);
            }
        }

        while ((device.Chunks + chunks) * ChunkSize > maxDeviceBytes && device.TotalFrames > 0)
        {
            Remove(device, device.Count(EvidenceKind.Stream) > 0 ? EvidenceKind.Stream
                : device.Count(EvidenceKind.Transfer) > 0 ? EvidenceKind.Transfer : EvidenceKind.Control);
            counters.FramesEvictedForDevice++;
        }

        // The newest frames are the evidence of how a boot ends: to make room, the oldest go — bulk first, then control.
        while (freeChunks < chunks || !HasFreeRecord)
        {
            var victim = oldest[0] != None ? oldest[0] : oldest[1];
            if (victim == None)
            {
                break;
            }

            Remove(devices[records[victim].Device]!, records[victim].Kind);
            counters.FramesEvictedForBudget++;
        }

        if (freeChunks < chunks || !HasFreeRecord)
        {
            counters.FramesDropped++;
            return;
        }

        int index;
        if (freeRecord != None)
        {
            index = freeRecord;
            freeRecord = records[index].Next;
        }
        else
        {
            index = unusedRecord++;
        }

        ref var r = ref records[index];
        r = new Record
        {
            Ticks = timestamp.Ticks,
            Ordinal = ordinal,
            CapturedLength = bytes.Length,
            OriginalLength = Math.Max(originalLength, bytes.Length),
            LinkType = linkType,
            Interface = interfaceId,
            Kind = kind,
            Device = Slot(device),
            Next = None,
            PreviousEvictable = None,
            NextEvictable = None,
            FirstChunk = TakeChunks(bytes),
        };

        device.Add(kind, index, records, chunks);
        var list = ListOf(kind);
        r.PreviousEvictable = newest[list];
        if (newest[list] != None)
        {
            records[newest[list]].NextEvictable = index;
        }
        else
        {
            oldest[list] = index;
        }

        newest[list] = index;

        counters.FramesKept++;
        counters.BytesInUse += chunks * ChunkSize;
        counters.PeakBytesInUse = Math.Max(counters.PeakBytesInUse, counters.BytesInUse);
    }

    /// <summary>Lets go of every frame of the device, and of its slot.</summary>
    public void Release(DeviceFrames device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var kind in DeviceFrames.Kinds)
        {
            while (device.Count(kind) > 0)
            {
                Remove(device, kind);
            }
        }

        if (device.Slot >= 0)
        {
            devices[device.Slot] = null;
            freeDeviceSlots.Push(device.Slot);
            device.Slot = -1;
        }
    }

    private int Slot(DeviceFrames device)
    {
        if (device.Slot < 0)
        {
            if (!freeDeviceSlots.TryPop(out var slot))
            {
                slot = unusedDeviceSlot++;
                if (slot == devices.Length)
                {
                    Array.Resize(ref devices, devices.Length * 2);
                }
            }

            devices[slot] = device;
            device.Slot = slot;
        }

        return device.Slot;
    }

    /// <summary>The device's frames in capture order (merged across kinds by their ordinals).</summary>
    public void ForEach(DeviceFrames device, Action<StoredFrame> visit)
    {
        Span<int> next = [device.Head(EvidenceKind.Control), device.Head(EvidenceKind.Transfer), device.Head(EvidenceKind.Stream)];
        var buffer = new byte[ChunkSize * 8];
        while (true)
        {
            var pick = -1;
            for (var k = 0; k < next.Length; k++)
            {
                if (next[k] != None && (pick < 0 || records[next[k]].Ordinal < records[next[pick]].Ordinal))
                {
                    pick = k;
                }
            }

            if (pick < 0)
            {
                return;
            }

            ref var r = ref records[next[pick]];
            if (buffer.Length < r.CapturedLength)
            {
                buffer = new byte[r.CapturedLength];
            }

            var length = CopyOut(r.FirstChunk, r.CapturedLength, buffer);
            visit(new StoredFrame(new DateTime(r.Ticks, DateTimeKind.Utc), r.Ordinal, buffer.AsMemory(0, length), r.OriginalLength, r.LinkType, r.Interface, r.Kind));
            next[pick] = r.Next;
        }
    }

    private static int ListOf(EvidenceKind kind) => kind == EvidenceKind.Control ? 1 : 0;

    private bool HasFreeRecord => freeRecord != None || unusedRecord < records.Length;

    private int TakeChunks(ReadOnlySpan<byte> bytes)
    {
        var first = None;
        var previous = None;
        for (var offset = 0; offset < bytes.Length; offset += ChunkSize)
        {
            int chunk;
            if (freeChunk != None)
            {
                chunk = freeChunk;
                freeChunk = nextChunk[chunk];
            }
            else
            {
                chunk = unusedChunk++;
            }

            freeChunks--;
            var part = bytes.Slice(offset, Math.Min(ChunkSize, bytes.Length - offset));
            part.CopyTo(arena.AsSpan(chunk * ChunkSize, ChunkSize));
            nextChunk[chunk] = None;
            if (previous == None)
            {
                first = chunk;
            }
            else
            {
                nextChunk[previous] = chunk;
            }

            previous = chunk;
        }

        return first;
    }

    private int CopyOut(int chunk, int length, byte[] into)
    {
        var copied = 0;
        while (copied < length && chunk != None)
        {
            var part = Math.Min(ChunkSize, length - copied);
            arena.AsSpan(chunk * ChunkSize, part).CopyTo(into.AsSpan(copied));
            copied += part;
            chunk = nextChunk[chunk];
        }

        return copied;
    }

    /// <summary>Removes the oldest record of one kind of the device.</summary>
    private void Remove(DeviceFrames device, EvidenceKind kind)
    {
        var index = device.Head(kind);
        ref var r = ref records[index];
        var chunks = (r.CapturedLength + ChunkSize - 1) / ChunkSize;
        device.RemoveHead(kind, r.Next, chunks);
        var list = ListOf(kind);
        if (r.PreviousEvictable != None)
        {
            records[r.PreviousEvictable].NextEvictable = r.NextEvictable;
        }
        else
        {
            oldest[list] = r.NextEvictable;
        }

        if (r.NextEvictable != None)
        {
            records[r.NextEvictable].PreviousEvictable = r.PreviousEvictable;
        }
        else
        {
            newest[list] = r.PreviousEvictable;
        }

        // The frame's chunks go back to the free list, as a chain.
        var last = r.FirstChunk;
        if (last != None)
        {
            while (nextChunk[last] != None)
            {
                last = nextChunk[last];
            }

            nextChunk[last] = freeChunk;
            freeChunk = r.FirstChunk;
            freeChunks += chunks;
        }

        r.Next = freeRecord;
        freeRecord = index;
        counters.BytesInUse -= chunks * ChunkSize;
    }

    internal struct Record
    {
        public long Ticks;
        public long Ordinal;
        public int FirstChunk;
        public int CapturedLength;
        public int OriginalLength;
        public int Next;
        public int PreviousEvictable;
        public int NextEvictable;
        public int Device;
        public LinkType LinkType;
        public byte Interface;
        public EvidenceKind Kind;
    }

    /// <summary>The per-device heads and tails of a store's record lists, and what they hold.</summary>
    public sealed class DeviceFrames
    {
        internal static readonly EvidenceKind[] Kinds = [EvidenceKind.Control, EvidenceKind.Transfer, EvidenceKind.Stream];
        private readonly int[] heads = [None, None, None];
        private readonly int[] tails = [None, None, None];
        private readonly int[] counts = new int[3];

        /// <summary>The device's place in the store's device table; -1 until its first frame.</summary>
        internal int Slot { get; set; } = -1;

        public int Chunks { get; private set; }
        public int TotalFrames => counts[0] + counts[1] + counts[2];
        public int Count(EvidenceKind kind) => counts[(int)kind];
        internal int Head(EvidenceKind kind) => heads[(int)kind];

        internal void Add(EvidenceKind kind, int index, Record[] records, int chunks)
        {
            var k = (int)kind;
            if (tails[k] != None)
            {
                records[tails[k]].Next = index;
            }
            else
            {
                heads[k] = index;
            }

            tails[k] = index;
            counts[k]++;
            Chunks += chunks;
        }

        internal void RemoveHead(EvidenceKind kind, int next, int chunks)
        {
            var k = (int)kind;
            heads[k] = next;
            if (next == None)
            {
                tails[k] = None;
            }

            counts[k]--;
            Chunks -= chunks;
        }
    }
}

/// <summary>One kept frame as read back for a clip; <see cref="Bytes"/> is valid only during the visit.</summary>
public readonly record struct StoredFrame(DateTime Timestamp, long Ordinal, ReadOnlyMemory<byte> Bytes, int OriginalLength,
    LinkType LinkType, byte Interface, EvidenceKind Kind);
