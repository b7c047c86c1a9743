using System.Buffers.Binary;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// An ARP packet for IPv4 over Ethernet (RFC 826).
/// <code>
/// | HTYPE (2) | PTYPE (2) | HLEN (1) | PLEN (1) | OPER (2) |
/// | SHA (6) | SPA (4) | THA (6) | TPA (4) |
/// </code>
/// </summary>
public readonly ref struct ArpPacket
{
    public const ushort OperationRequest = 1;
    public const ushort OperationReply = 2;

    private const int Length = 28;
    private const ushort HardwareEthernet = 1;
    private const ushort ProtocolIPv4 = 0x0800;

    public ushort Operation { get; init; }
    public MacAddress SenderMac { get; init; }
    public uint SenderIp { get; init; }
    public MacAddress TargetMac { get; init; }
    public uint TargetIp { get; init; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out ArpPacket result)
    {
        result = default;
        if (packet.Length < Length
            || BinaryPrimitives.ReadUInt16BigEndian(packet) != HardwareEthernet
            || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != ProtocolIPv4
            || packet[4] != MacAddress.Length
            || packet[5] != 4)
        {
            return false;
        }

        result = new ArpPacket
        {
            Operation = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]),
            SenderMac = MacAddress.Read(packet[8..]),
            SenderIp = BinaryPrimitives.ReadUInt32BigEndian(packet[14..]),
            TargetMac = MacAddress.Read(packet[18..]),
            TargetIp = BinaryPrimitives.ReadUInt32BigEndian(packet[24..]),
        };
        return true;
    }
}
