using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace PvsFleet.Collector.Simulation;

/// <summary>Writes TFTP packets (RFC 1350) with option extension (RFC 2347: blksize 2348, tsize 2349, windowsize 7440).</summary>
/// <remarks>
/// <code>
/// RRQ   | 01 | filename | 0 | "octet" | 0 | opt | 0 | value | 0 | …
/// DATA  | 03 | block (2) | data (≤ blksize)
/// ACK   | 04 | block (2)
/// ERROR | 05 | code (2) | message | 0
/// OACK  | 06 | opt | 0 | value | 0 | …
/// </code>
/// </remarks>
internal ref struct TftpWriter
{
    public const ushort OpReadRequest = 1;
    public const ushort OpData = 3;
    public const ushort OpAck = 4;
    public const ushort OpError = 5;
    public const ushort OpOptionAck = 6;

    public const ushort ErrorFileNotFound = 1;
    public const ushort ErrorOptionNegotiation = 8;

    private readonly Span<byte> buffer;
    private int position;

    public TftpWriter(Span<byte> buffer, ushort opcode)
    {
        this.buffer = buffer;
        BinaryPrimitives.WriteUInt16BigEndian(buffer, opcode);
        position = 2;
    }

    public readonly int Length => position;

    public void Number(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[position..], value);
        position += 2;
    }

    public void Text(string ascii)
    {
        position += Encoding.ASCII.GetBytes(ascii, buffer[position..]);
        buffer[position++] = 0;
    }

    public void Option(string name, int value)
    {
        Text(name);
        value.TryFormat(buffer[position..], out var written, provider: CultureInfo.InvariantCulture);
        position += written;
        buffer[position++] = 0;
    }

    public void Data(scoped ReadOnlySpan<byte> data)
    {
        data.CopyTo(buffer[position..]);
        position += data.Length;
    }
}
