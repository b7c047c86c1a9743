using System.IO.Hashing;

namespace PvsFleet.Collector.Tracking;

/// <summary>
/// Recognises copies: the same IP datagram captured again within a few milliseconds, as a capture on a bridge and
/// its ports, a bond and its slaves, or <c>-i any</c> records every frame 2–6 times within microseconds. Copies
/// are byte-identical at the IP layer (the link layers may differ: a VLAN tag on the trunk, none on the access
/// port, another interface index in a cooked header); a router's forwarded copy is not, since its TTL dropped.
/// </summary>
/// <remarks>
/// A direct-mapped table of (hash, time) slots, indexed by the datagram's XxHash3: constant memory, no
/// allocation, one hash and one slot per frame. Two datagrams meeting in one slot evict each other, so a copy can
/// be missed (counted as a frame of its own) but never invented; with copies microseconds apart and thousands of
/// slots that is rare. A slot keeps the time of the first sighting, so the window runs from the original.
/// </remarks>
internal sealed class CopyDetector
{
    private const int SlotBits = 12;
    private const int SlotCount = 1 << SlotBits;
    private const int SlotShift = 64 - SlotBits;

    private readonly Slot[] slots = new Slot[SlotCount];
    private readonly long windowTicks;

    public CopyDetector(TimeSpan window) => windowTicks = window.Ticks;

    /// <summary>True when <paramref name="datagram"/> was seen within the window before <paramref name="at"/>.</summary>
    public bool IsCopy(DateTime at, ReadOnlySpan<byte> datagram)
    {
        if (windowTicks <= 0)
        {
            return false;
        }

        // An empty slot holds time zero, which no capture is near: it never matches.
        var hash = XxHash3.HashToUInt64(datagram);
        ref var slot = ref slots[(int)(hash >> SlotShift)];
        var ticks = at.Ticks;
        if (slot.Hash == hash && Math.Abs(ticks - slot.Ticks) <= windowTicks)
        {
            return true;
        }

        slot.Hash = hash;
        slot.Ticks = ticks;
        return false;
    }

    private struct Slot
    {
        public ulong Hash;
        public long Ticks;
    }
}
