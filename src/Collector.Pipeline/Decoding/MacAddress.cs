using System.Buffers.Binary;

namespace PvsFleet.Collector.Decoding;

/// <summary>A 48-bit MAC address held in a <see cref="ulong"/>, so it can key dictionaries without allocating.</summary>
public readonly record struct MacAddress(ulong Value) : ISpanFormattable
{
    public const int Length = 6;

    /// <summary>Reads six bytes; the caller has checked the length.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> bytes) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(bytes) << 32) | BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]));

    public static MacAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':', '-');
        if (parts.Length != Length)
        {
            throw new FormatException($"'{text}' is not a MAC address like 52:54:00:00:00:01");
        }

        ulong value = 0;
        foreach (var part in parts)
        {
            value = (value << 8) | byte.Parse(part, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        }

        return new MacAddress(value);
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)Value);
    }

    public override string ToString() => ToString(null, null);

    public string ToString(string? format, IFormatProvider? formatProvider) =>
        string.Create(17, Value, static (chars, value) =>
        {
            for (var i = 0; i < Length; i++)
            {
                var b = (byte)(value >> (8 * (Length - 1 - i)));
                chars[i * 3] = "0123456789abcdef"[b >> 4];
                chars[(i * 3) + 1] = "0123456789abcdef"[b & 0xF];
                if (i < Length - 1)
                {
                    chars[(i * 3) + 2] = ':';
                }
            }
        });

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        var text = ToString();
        charsWritten = text.Length;
        return text.AsSpan().TryCopyTo(destination);
    }
}
