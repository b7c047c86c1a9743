using System.Buffers.Binary;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// Stand-in payloads for the PVS streaming protocol (proprietary; only sizes and rhythm are public).
/// What matters to a tracker is that every distinct device request differs and a retransmit is byte-identical.
/// </summary>
/// <remarks>
/// <code>
///  0 opcode (2) | 2 flags (2) | 4 session nonce (4) | 8 sequence (4) | 12 fragment (2) | 14 count (2) | 16 MAC (6) | 22 body …
/// </code>
/// The session nonce keeps a rebooted device's requests distinct from its previous session's.
/// </remarks>
internal static class PvsPayload
{
    public const ushort OpLogonRequest = 0x0101;
    public const ushort OpLogonReply = 0x0102;
    public const ushort OpRead = 0x0201;
    public const ushort OpReadData = 0x0202;
    public const ushort OpReadAck = 0x0203;

    /// <summary>Public sizes (CTX articles): ~64-byte read, ≤ 1464-byte data at the default MTU, ~48-byte burst ack.</summary>
    public const int ReadRequestLength = 64;
    public const int ReadAckLength = 48;
    public const int StandardDataLength = 1464;
    public const int JumboDataLength = 8192;

    private const int HeaderLength = 22;
    private static readonly byte[] SectorPattern = CreateSectorPattern(JumboDataLength + 1024);

    /// <summary>Writes a payload of <paramref name="length"/> bytes; data fragments carry vDisk-looking bytes.</summary>
    public static int Write(Span<byte> payload, ushort opcode, uint sessionNonce, int sequence, int fragment, int count, ulong mac, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(payload, opcode);
        BinaryPrimitives.WriteUInt16BigEndian(payload[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], sessionNonce);
        BinaryPrimitives.WriteInt32BigEndian(payload[8..], sequence);
        BinaryPrimitives.WriteUInt16BigEndian(payload[12..], (ushort)fragment);
        BinaryPrimitives.WriteUInt16BigEndian(payload[14..], (ushort)count);
        EthernetUdpFrame.WriteMac(payload[16..], mac);
        var body = payload[HeaderLength..length];
        if (opcode == OpReadData)
            Filler((sequence * 31 + fragment * 7) & 1023, body.Length).CopyTo(body);
        else
            body.Clear();
        return length;
    }

    /// <summary>Deterministic bytes that look like disk contents, for vDisk sectors and bootstrap blocks alike.</summary>
    public static ReadOnlySpan<byte> Filler(int offset, int length) => SectorPattern.AsSpan(offset, length);

    /// <summary>Identifies a device payload for retry bookkeeping: same key, same bytes.</summary>
    public static long Key(ushort opcode, int sequence) => ((long)opcode << 32) | (uint)sequence;

    private static byte[] CreateSectorPattern(int length)
    {
        var pattern = new byte[length];
        uint state = 0x2545F491;
        for (var i = 0; i < pattern.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            pattern[i] = (byte)state;
        }

        return pattern;
    }
}
