using PvsFleet.Collector.Capture;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Tests.Simulation;

public sealed class PcapNgWriterTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"pcapng-{Guid.NewGuid():N}.pcapng");

    public void Dispose() => File.Delete(path);

    [Fact]
    public void Frames_written_are_read_back_by_libpcap_with_bytes_and_microsecond_timestamps()
    {
        var start = new DateTimeOffset(2026, 1, 5, 7, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        // Lengths cover every padding remainder, the Ethernet minimum and a jumbo frame.
        int[] lengths = [60, 61, 62, 63, 64, 1506, 8234];
        var frames = lengths.Select((length, i) => Enumerable.Range(0, length).Select(b => (byte)(b * 7 + i)).ToArray()).ToArray();
        using (var writer = new PcapNgWriter(path))
        {
            for (var i = 0; i < frames.Length; i++)
                writer.WritePacket(start + i * 1_000_123L, frames[i]);
            Assert.Equal(frames.Length, writer.Packets);
        }

        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        Assert.Equal(PacketDotNet.LinkLayers.Ethernet, device.LinkType);
        var read = 0;
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var raw = capture.GetPacket();
            Assert.Equal(frames[read], raw.Data);
            Assert.Equal(frames[read].Length, raw.PacketLength);
            var micros = (long)raw.Timeval.Seconds * 1_000_000 + (long)raw.Timeval.MicroSeconds;
            Assert.Equal(start + read * 1_000_123L, micros);
            read++;
        }

        Assert.Equal(frames.Length, read);
    }

    [Fact]
    public void Block_lengths_are_32_bit_aligned_and_repeated_at_the_end()
    {
        using var memory = new MemoryStream();
        using (var writer = new PcapNgWriter(memory, leaveOpen: true))
            writer.WritePacket(1, new byte[61]);

        var bytes = memory.ToArray();
        Assert.Equal(28 + 20 + 28 + 64 + 4, bytes.Length);
        var offset = 0;
        while (offset < bytes.Length)
        {
            var length = BitConverter.ToInt32(bytes, offset + 4);
            Assert.Equal(0, length % 4);
            Assert.Equal(length, BitConverter.ToInt32(bytes, offset + length - 4));
            offset += length;
        }

        Assert.Equal(bytes.Length, offset);
    }
}
