using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PvsFleet.Collector.Tracking;

/// <summary>
/// Recognises copies: the same IP datagram captured again within a few milliseconds, as a capture on a bridge and
/// its ports, a bond and its slaves, or <c>-i any</c> records every frame 2–6 times within microseconds. Copies
/// are byte-identical at the IP layer (the link layers may differ: a VLAN tag on the trunk, none on the access
/// port, another interface index in a cooked header); a router's forwarded copy is not, since its TTL dropped.
/// </summary>
/// <remarks>
/// <para>
/// A direct-mapped table of (fingerprint, time) slots: constant memory, no allocation, one fingerprint and one
/// slot per frame. Two datagrams meeting in one slot evict each other, so a copy can be missed (counted as a frame
/// of its own) but not invented; with copies microseconds apart and thousands of slots that is rare. A slot keeps
/// the time of the first sighting, so the window runs from the original.
/// </para>
/// <para>
/// The fingerprint is an XxHash3 of the whole datagram up to <see cref="WholeUpTo"/> bytes: every DHCP message,
/// TFTP request and ACK, PVS request — bytes the tracker reads anyway. Of a longer datagram (TFTP DATA, stream
/// bursts) it is the length and the first <see cref="Head"/> bytes: the IP header with its id, TTL and checksum,
/// the UDP header with the checksum over every payload byte, and the TFTP opcode and block number. Reading more of
/// a burst datagram pulls the capture through the CPU's caches where the tracker otherwise touches only headers:
/// hashing all 1,400 bytes cost analyze over a tenth of its speed, 64 bytes still a tenth (CPU time of
/// <c>analyze --json</c> on bench/analyze-throughput.sh's storm, against the same build without copy detection);
/// 32 bytes cost nothing measurable. Two long datagrams alike in all of that within 5 ms are, on a wire, the
/// same datagram: a sender's next datagram has another IP id or, from a stack that sends id 0, another checksum
/// or block number.
/// </para>
/// </remarks>
internal sealed class CopyDetector
{
    /// <summary>Datagrams up to this length are compared by all their bytes.</summary>
    public const int WholeUpTo = 512;

    /// <summary>How much of a longer datagram the fingerprint reads: IP and UDP headers and 4 payload bytes, read anyway.</summary>
    public const int Head = 32;

    private const int SlotBits = 12;
    private const int SlotCount = 1 << SlotBits;
    private const int SlotShift = 64 - SlotBits;

    private readonly Slot[] slots = new Slot[SlotCount];
    private readonly long windowTicks;

    public CopyDetector(TimeSpan window) => windowTicks = window.Ticks;

    /// <summary>True when <paramref name="datagram"/> was seen within the window before <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool IsCopy(DateTime at, ReadOnlySpan<byte> datagram)
    {
        if (windowTicks <= 0)
        {
            return false;
        }

        // An empty slot holds time zero, which no capture is near: it never matches.
        var hash = Fingerprint(datagram);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong Fingerprint(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length <= WholeUpTo)
        {
            return XxHash3.HashToUInt64(datagram);
        }

        // Two interleaved CRC-32C streams (one instruction per 8 bytes on x64 and arm64) over the head: 64 bits.
        var words = MemoryMarshal.Cast<byte, ulong>(datagram[..Head]);
        uint even = 0, odd = (uint)datagram.Length;
        for (var i = 0; i < words.Length; i += 2)
        {
            even = BitOperations.Crc32C(even, words[i]);
            odd = BitOperations.Crc32C(odd, words[i + 1]);
        }

        return ((ulong)even << 32) | odd;
    }

    private struct Slot
    {
        public ulong Hash;
        public long Ticks;
    }
}
