using System.Buffers.Binary;
using System.Numerics;
using PvsFleet.Collector.Capture;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>
/// pcapng interfaces state their clock in <c>if_tsresol</c>: the memory-mapped reader converts micro- and nanosecond
/// clocks on a fast path and every other resolution on the general one; all must give the exact tick.
/// </summary>
public class TimestampResolutionTests
{
    public static TheoryData<byte?, ulong> Resolutions => new()
    {
        { null, 1_767_596_400_123_456UL },             // no option: microseconds
        { 6, 1_767_596_400_123_457UL },
        { 9, 1_767_596_400_123_456_789UL },            // nanoseconds: 89 ns is below a tick and dropped
        { 3, 1_767_596_400_123UL },                     // milliseconds
        { 7, 17_675_964_001_234_567UL },               // exactly ticks
        { 12, 1_767_596_400_123_456_789UL },           // picoseconds (about 3.5 weeks after the epoch at this count)
        { 0x80 | 10, (1_767_596_400UL << 10) + 345 },   // 2^-10 s
    };

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void Every_resolution_gives_the_exact_tick(byte? resolution, ulong units)
    {
        var unitsPerSecond = resolution is null ? 1_000_000 : (resolution & 0x80) == 0 ? BigInteger.Pow(10, resolution.Value) : BigInteger.One << (resolution.Value & 0x7F);
        var expected = DateTime.UnixEpoch.AddTicks((long)(units * (BigInteger)TimeSpan.TicksPerSecond / unitsPerSecond));

        var read = ReadOne(resolution, units, out var damage);

        Assert.Null(damage);
        Assert.Equal(expected, read);
    }

    [Theory]
    [InlineData((byte)6)]
    [InlineData((byte)7)]
    [InlineData((byte)3)]
    public void A_time_past_the_calendar_is_reported_as_damage(byte resolution)
    {
        var read = ReadOne(resolution, ulong.MaxValue, out var damage);

        Assert.Null(read);
        Assert.Contains("corrupt packet block", damage, StringComparison.Ordinal);
    }

    private static DateTime? ReadOne(byte? resolution, ulong units, out string? damage)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pvsfleet-tsresol-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(path, PcapNg(resolution, units));
            using var reader = new MappedCaptureReader(path);
            DateTime? timestamp = reader.TryRead(out var time, out var frame, out _) ? time : null;
            Assert.True(timestamp is null || frame.Length == 60);
            Assert.False(reader.TryRead(out _, out _, out _));
            damage = reader.Damage;
            return timestamp;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One little-endian section, one Ethernet interface with the resolution given, one 60-byte frame.</summary>
    private static byte[] PcapNg(byte? resolution, ulong units)
    {
        using var stream = new MemoryStream();
        void Block(uint type, byte[] body)
        {
            var block = new byte[12 + body.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(block, type);
            BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(4), block.Length);
            body.CopyTo(block.AsSpan(8));
            BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(block.Length - 4), block.Length);
            stream.Write(block);
        }

        var section = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(section, 0x1A2B3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(section.AsSpan(4), 1);
        BinaryPrimitives.WriteInt64LittleEndian(section.AsSpan(8), -1);
        Block(0x0A0D0D0A, section);

        var idb = new byte[resolution is null ? 8 : 20];
        BinaryPrimitives.WriteUInt16LittleEndian(idb, 1); // Ethernet
        BinaryPrimitives.WriteInt32LittleEndian(idb.AsSpan(4), 65535);
        if (resolution is { } value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(idb.AsSpan(8), 9); // if_tsresol, 1 byte, padded to 4; then opt_endofopt
            BinaryPrimitives.WriteUInt16LittleEndian(idb.AsSpan(10), 1);
            idb[12] = value;
        }

        Block(1, idb);

        var epb = new byte[20 + 60];
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(4), (uint)(units >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(8), (uint)units);
        BinaryPrimitives.WriteInt32LittleEndian(epb.AsSpan(12), 60);
        BinaryPrimitives.WriteInt32LittleEndian(epb.AsSpan(16), 60);
        Block(6, epb);
        return stream.ToArray();
    }
}
