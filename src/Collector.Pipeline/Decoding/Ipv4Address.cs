using System.Buffers.Binary;
using System.Globalization;

namespace PvsFleet.Collector.Decoding;

/// <summary>Dotted-quad formatting for addresses kept as big-endian <see cref="uint"/> values on the hot path.</summary>
public static class Ipv4Address
{
    public static uint Read(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt32BigEndian(bytes);

    public static string Format(uint address) => string.Create(CultureInfo.InvariantCulture,
        $"{address >> 24}.{(address >> 16) & 0xFF}.{(address >> 8) & 0xFF}.{address & 0xFF}");

    public static uint Parse(string text) =>
        BinaryPrimitives.ReadUInt32BigEndian(System.Net.IPAddress.Parse(text).GetAddressBytes());
}
