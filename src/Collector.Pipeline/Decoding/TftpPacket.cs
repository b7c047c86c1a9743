using System.Buffers.Binary;
using System.Buffers.Text;

namespace PvsFleet.Collector.Decoding;

public enum TftpOpcode : ushort
{
    ReadRequest = 1,
    WriteRequest = 2,
    Data = 3,
    Acknowledgment = 4,
    Error = 5,
    OptionAcknowledgment = 6,
}

/// <summary>
/// A TFTP packet (RFC 1350) with option negotiation (RFC 2347: blksize RFC 2348, timeout/tsize RFC 2349,
/// windowsize RFC 7440).
/// <code>
/// RRQ/WRQ | 01/02 | filename | 0 | mode | 0 | opt1 | 0 | value1 | 0 | ...
/// DATA    | 03 | block (2) | data (0..blksize) |
/// ACK     | 04 | block (2) |
/// ERROR   | 05 | code (2) | message | 0 |
/// OACK    | 06 | opt1 | 0 | value1 | 0 | ...
/// </code>
/// </summary>
public readonly ref struct TftpPacket
{
    /// <summary>RFC 2347: the client ends a transfer whose negotiated options it does not accept.</summary>
    public const ushort ErrorOptionNegotiation = 8;
    public const ushort ErrorFileNotFound = 1;

    private const int OpcodeLength = 2;

    public TftpOpcode Opcode { get; init; }
    public ReadOnlySpan<byte> FileName { get; init; }
    public ReadOnlySpan<byte> Mode { get; init; }

    /// <summary>DATA and ACK block number.</summary>
    public ushort Block { get; init; }
    public ReadOnlySpan<byte> Data { get; init; }
    public ushort ErrorCode { get; init; }
    public ReadOnlySpan<byte> ErrorMessage { get; init; }
    public TftpOptions Options { get; init; }

    public static bool TryParse(ReadOnlySpan<byte> payload, out TftpPacket result)
    {
        result = default;
        if (payload.Length < OpcodeLength + 2)
        {
            return false;
        }

        var opcode = (TftpOpcode)BinaryPrimitives.ReadUInt16BigEndian(payload);
        var body = payload[OpcodeLength..];
        switch (opcode)
        {
            case TftpOpcode.ReadRequest or TftpOpcode.WriteRequest:
                return TryParseRequest(opcode, body, out result);
            case TftpOpcode.Data:
                result = new TftpPacket { Opcode = opcode, Block = BinaryPrimitives.ReadUInt16BigEndian(body), Data = body[2..] };
                return true;
            case TftpOpcode.Acknowledgment:
                result = new TftpPacket { Opcode = opcode, Block = BinaryPrimitives.ReadUInt16BigEndian(body) };
                return body.Length == 2 || IsPadding(body[2..]);
            case TftpOpcode.Error:
                var message = body[2..];
                var end = message.IndexOf((byte)0);
                result = new TftpPacket
                {
                    Opcode = opcode,
                    ErrorCode = BinaryPrimitives.ReadUInt16BigEndian(body),
                    ErrorMessage = end < 0 ? message : message[..end],
                };
                return true;
            case TftpOpcode.OptionAcknowledgment:
                if (!TftpOptions.TryParse(body, out var options))
                {
                    return false;
                }

                result = new TftpPacket { Opcode = opcode, Options = options };
                return true;
            default:
                return false;
        }
    }

    private static bool TryParseRequest(TftpOpcode opcode, ReadOnlySpan<byte> body, out TftpPacket result)
    {
        result = default;
        var fileEnd = body.IndexOf((byte)0);
        if (fileEnd <= 0)
        {
            return false;
        }

        var rest = body[(fileEnd + 1)..];
        var modeEnd = rest.IndexOf((byte)0);
        if (modeEnd <= 0 || !TftpOptions.TryParse(rest[(modeEnd + 1)..], out var options))
        {
            return false;
        }

        result = new TftpPacket { Opcode = opcode, FileName = body[..fileEnd], Mode = rest[..modeEnd], Options = options };
        return true;
    }

    // Ethernet minimum-size padding survives into short ACKs on some capture paths.
    private static bool IsPadding(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
}

/// <summary>The negotiated options of RFC 2347 that matter for a boot; unknown options are skipped.</summary>
public readonly record struct TftpOptions(int? BlockSize, long? TransferSize, int? Timeout, int? WindowSize)
{
    public static bool TryParse(ReadOnlySpan<byte> pairs, out TftpOptions result)
    {
        result = default;
        int? blockSize = null, timeout = null, windowSize = null;
        long? transferSize = null;
        while (!pairs.IsEmpty)
        {
            var nameEnd = pairs.IndexOf((byte)0);
            if (nameEnd < 0)
            {
                // Trailing NUL padding is tolerated; a name without its value is not.
                return IsAllZero(pairs);
            }

            var name = pairs[..nameEnd];
            var rest = pairs[(nameEnd + 1)..];
            var valueEnd = rest.IndexOf((byte)0);
            if (valueEnd < 0)
            {
                return false;
            }

            var value = rest[..valueEnd];
            pairs = rest[(valueEnd + 1)..];
            if (name.IsEmpty)
            {
                continue;
            }

            if (Is(name, "blksize"u8))
            {
                if (!TryParseNumber(value, 8, 65464, out var v)) return false;
                blockSize = (int)v;
            }
            else if (Is(name, "tsize"u8))
            {
                if (!TryParseNumber(value, 0, long.MaxValue, out var v)) return false;
                transferSize = v;
            }
            else if (Is(name, "timeout"u8))
            {
                if (!TryParseNumber(value, 1, 255, out var v)) return false;
                timeout = (int)v;
            }
            else if (Is(name, "windowsize"u8))
            {
                if (!TryParseNumber(value, 1, 65535, out var v)) return false;
                windowSize = (int)v;
            }
        }

        result = new TftpOptions(blockSize, transferSize, timeout, windowSize);
        return true;
    }

    private static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowerCase)
    {
        if (name.Length != lowerCase.Length)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            if ((name[i] | 0x20) != lowerCase[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseNumber(ReadOnlySpan<byte> text, long min, long max, out long value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length && value >= min && value <= max;

    private static bool IsAllZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
}
