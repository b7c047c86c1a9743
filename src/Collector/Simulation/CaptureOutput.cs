using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// Puts the storm's Ethernet frames into the capture file the way the chosen capture would record them: as they
/// are, or Linux-cooked (SLL2, <c>tcpdump -i any</c>); and, for a capture on several interfaces at once (a bridge
/// and its ports, a bond and its slaves), each frame again as copies microseconds later. Copies on SLL2 carry
/// another interface index, as they do on a real <c>-i any</c>: the link layers differ, the IP datagram does not.
/// </summary>
internal sealed class CaptureOutput(PcapNgWriter writer, LinkType linkType, int copies, int frameBufferLength)
{
    private const int FirstInterfaceIndex = 2;

    private readonly byte[] cooked = new byte[frameBufferLength + CookedFrame.Sll2HeaderLength];

    /// <summary>Copies written so far: what the tracker must count as duplicate frames.</summary>
    public long Copies { get; private set; }

    /// <summary>
    /// Writes a device's frame and its copies. A copy lands 1, 2, … µs after the original but never after
    /// <paramref name="nextFrameMicros"/>, so the capture stays in time order.
    /// </summary>
    public void WriteWithCopies(long micros, ReadOnlySpan<byte> ethernet, long nextFrameMicros)
    {
        Write(micros, ethernet, 0);
        for (var copy = 1; copy <= copies; copy++)
        {
            Write(Math.Max(micros, Math.Min(micros + copy, nextFrameMicros)), ethernet, copy);
            Copies++;
        }
    }

    /// <summary>Writes one frame, without copies.</summary>
    public void Write(long micros, ReadOnlySpan<byte> ethernet, int interfaceNumber = 0)
    {
        if (linkType == LinkType.Ethernet)
        {
            writer.WritePacket(micros, ethernet);
            return;
        }

        var length = CookedFrame.WriteSll2(ethernet, cooked, FirstInterfaceIndex + interfaceNumber);
        writer.WritePacket(micros, cooked.AsSpan(0, length));
    }
}
