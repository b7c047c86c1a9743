using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Tests.Decoding;

/// <summary>Garbage in must never throw: it is counted as malformed and the tracker goes on.</summary>
public class FuzzTests
{
    private static List<byte[]> RealFrames()
    {
        var frames = new List<byte[]>();
        foreach (var name in new[] { "real-bios-1.pcap", "real-uefi-1.pcap" })
        {
            using var reader = CaptureFile.Open(Repository.Sample(name));
            while (reader.TryRead(out _, out var frame))
            {
                frames.Add(frame.ToArray());
            }
        }

        return frames;
    }

    [Fact]
    public void A_million_random_and_mutated_frames_throw_nothing()
    {
        var random = new Random(20261201);
        var real = RealFrames();
        var tracker = new BootTracker(new TrackerOptions(), (_, _) => { });
        var buffer = new byte[2048];
        var at = new DateTime(2026, 1, 5, 7, 0, 0, DateTimeKind.Utc);
        const int Frames = 1_000_000;

        for (var i = 0; i < Frames; i++)
        {
            var frame = i % 2 == 0 ? RandomFrame(random, buffer) : Mutate(random, real[random.Next(real.Count)], buffer);
            at = at.AddMilliseconds(random.Next(0, 3));
            tracker.Process(at, frame);
            DecodeEveryLayer(frame);
            if (i % 10_000 == 0)
            {
                tracker.Advance(at);
            }
        }

        tracker.Finish(at);
        Assert.Equal(Frames, tracker.Counters.Packets);
        Assert.InRange(tracker.Counters.Malformed, 1, Frames);
    }

    private static readonly LinkType[] LinkTypesToFuzz = Enum.GetValues<LinkType>();

    /// <summary>Every decoder on every offset of the frame, so none of them depends on the layers below to be sane.</summary>
    private static void DecodeEveryLayer(ReadOnlySpan<byte> frame)
    {
        for (var offset = 0; offset < Math.Min(frame.Length, 64); offset += 7)
        {
            var slice = frame[offset..];
            _ = EthernetFrame.TryParse(slice, out _);
            foreach (var linkType in LinkTypesToFuzz)
            {
                _ = LinkFrame.TryParse(linkType, slice, out _);
            }

            _ = Ipv4Packet.TryParse(slice, out _);
            _ = UdpDatagram.TryParse(slice, out _);
            _ = UdpDatagram.TryParse(slice, out _, allowTruncated: true);
            _ = ArpPacket.TryParse(slice, out _);
            _ = DhcpMessage.TryParse(slice, out _);
            _ = TftpPacket.TryParse(slice, out _);
        }
    }

    private static Span<byte> RandomFrame(Random random, byte[] buffer)
    {
        var length = random.Next(0, 600);
        random.NextBytes(buffer.AsSpan(0, length));
        if (length > 14 && random.Next(2) == 0)
        {
            // Often an IPv4/UDP-looking start, so the deeper decoders see garbage too.
            buffer[12] = 0x08;
            buffer[13] = 0x00;
            buffer[14] = 0x45;
            buffer[23] = 17;
        }

        return buffer.AsSpan(0, length);
    }

    private static Span<byte> Mutate(Random random, byte[] original, byte[] buffer)
    {
        var length = Math.Min(original.Length, buffer.Length);
        original.AsSpan(0, length).CopyTo(buffer);
        switch (random.Next(4))
        {
            case 0: // flip a few bytes anywhere
                for (var i = random.Next(1, 8); i > 0; i--)
                {
                    buffer[random.Next(length)] = (byte)random.Next(256);
                }

                break;
            case 1: // cut short
                length = random.Next(length);
                break;
            case 2: // corrupt a length or option byte in the headers
                buffer[random.Next(Math.Min(length, 300))] = (byte)random.Next(256);
                break;
            default: // grow with junk
                var extra = Math.Min(buffer.Length - length, random.Next(0, 64));
                random.NextBytes(buffer.AsSpan(length, extra));
                length += extra;
                break;
        }

        return buffer.AsSpan(0, length);
    }

    [Fact]
    public void Damaged_capture_files_are_read_up_to_the_damage_or_refused_in_one_line()
    {
        var random = new Random(7);
        var original = File.ReadAllBytes(Repository.Sample("real-bios-1.pcap"));
        var path = Path.Combine(Path.GetTempPath(), $"pvsfleet-fuzz-{Guid.NewGuid():N}.pcap");
        try
        {
            for (var round = 0; round < 400; round++)
            {
                var bytes = (byte[])original.Clone();
                var length = round % 2 == 0 ? random.Next(bytes.Length) : bytes.Length;
                for (var i = random.Next(0, 6); i > 0; i--)
                {
                    bytes[random.Next(Math.Max(1, length))] = (byte)random.Next(256);
                }

                File.WriteAllBytes(path, bytes[..length]);
                foreach (var kind in new[] { CaptureReaderKind.Mapped, CaptureReaderKind.SharpPcap })
                {
                    try
                    {
                        using var reader = CaptureFile.Open(path, kind);
                        while (reader.TryRead(out _, out _))
                        {
                        }
                    }
                    catch (CaptureException e)
                    {
                        Assert.DoesNotContain('\n', e.Message);
                    }
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
