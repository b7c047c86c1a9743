using System.Text;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// Turns a name read off the wire (DHCP host name 12, TFTP server 66, boot file 67 and the BOOTP file field, TFTP
/// file names and error messages) into text that is safe to store, show and send: cut at the first NUL (C
/// strings padded or followed by junk), decoded as UTF-8 with invalid bytes replaced (U+FFFD), control characters
/// dropped (they would break log lines, tables and terminals), and capped in length. The result is always valid
/// UTF-8 once encoded again; null when nothing printable is left.
/// </summary>
public static class WireText
{
    /// <summary>The longest name kept: a DHCP option holds at most 255 bytes; the API refuses longer names.</summary>
    public const int MaxLength = 255;

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static string? Clean(ReadOnlySpan<byte> value, int maxLength = MaxLength)
    {
        var nul = value.IndexOf((byte)0);
        if (nul >= 0)
        {
            value = value[..nul];
        }

        if (value.IsEmpty)
        {
            return null;
        }

        // A cap in bytes first bounds the work; four bytes per character is UTF-8's widest.
        if (value.Length > maxLength * 4)
        {
            value = value[..(maxLength * 4)];
        }

        if (IsPrintableAscii(value) && value.Length <= maxLength)
        {
            return Encoding.ASCII.GetString(value);
        }

        var decoded = Utf8.GetString(value);
        var text = new StringBuilder(Math.Min(decoded.Length, maxLength));
        for (var i = 0; i < decoded.Length && text.Length < maxLength; i++)
        {
            var c = decoded[i];
            if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                continue;
            }

            if (char.IsHighSurrogate(c))
            {
                // Decoding only yields whole pairs; keep the pair together or drop it when it would pass the cap.
                if (text.Length + 2 > maxLength)
                {
                    break;
                }

                text.Append(c).Append(decoded[++i]);
                continue;
            }

            text.Append(c);
        }

        return text.Length == 0 ? null : text.ToString();
    }

    private static bool IsPrintableAscii(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is < 0x20 or >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }
}
