using System.Buffers.Binary;

namespace PvsFleet.Api.Embedded;

/// <summary>
/// A copy of a classic pcap (Ethernet) capture in which one MAC address is replaced by another everywhere it occurs
/// in a frame (Ethernet header, DHCP chaddr, ARP). Both sample captures were recorded from VMs with the same MAC:
/// replayed side by side, unchanged, they would be one device failing every loop. The UDP checksum of a changed
/// IPv4 frame is set to zero ("none"), as the DHCP payload changed under it.
/// </summary>
public static class CaptureRemap
{
    private const int GlobalHeaderLength = 24;
    private const int RecordHeaderLength = 16;
    private const uint MagicMicros = 0xa1b2c3d4;
    private const uint MagicNanos = 0xa1b23c4d;
    private const int EthernetLength = 14;

    public static void Copy(string source, string destination, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        var bytes = File.ReadAllBytes(source);
        if (bytes.Length < GlobalHeaderLength)
            throw new InvalidDataException($"{source} is too short for a pcap file.");
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        var bigEndian = magic is not (MagicMicros or MagicNanos);
        if (bigEndian && BinaryPrimitives.ReadUInt32BigEndian(bytes) is not (MagicMicros or MagicNanos))
            throw new InvalidDataException($"{source} is not a classic pcap file (pcapng is not remapped).");

        var offset = GlobalHeaderLength;
        while (offset + RecordHeaderLength <= bytes.Length)
        {
            var captured = (int)(bigEndian
                ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset + 8))
                : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8)));
            var start = offset + RecordHeaderLength;
            if (captured < 0 || start + captured > bytes.Length)
                throw new InvalidDataException($"{source}: a record at byte {offset} runs past the end of the file.");
            var frame = bytes.AsSpan(start, captured);
            if (Replace(frame, from, to))
                ClearUdpChecksum(frame);
            offset = start + captured;
        }

        File.WriteAllBytes(destination, bytes);
    }

    private static bool Replace(Span<byte> frame, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        var changed = false;
        for (var at = frame.IndexOf(from); at >= 0; at = frame.IndexOf(from))
        {
            to.CopyTo(frame[at..]);
            changed = true;
        }
        return changed;
    }

    private static void ClearUdpChecksum(Span<byte> frame)
    {
        // Ethernet II with IPv4 (no VLAN tag in the samples), then UDP: its checksum is bytes 6–7 of its header.
        if (frame.Length < EthernetLength + 20 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != 0x0800)
            return;
        var ip = frame[EthernetLength..];
        var headerLength = (ip[0] & 0x0f) * 4;
        if (ip[9] != 17 || ip.Length < headerLength + 8)
            return;
        ip[(headerLength + 6)..(headerLength + 8)].Clear();
    }
}
