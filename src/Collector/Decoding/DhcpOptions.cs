using System.Buffers.Binary;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// The DHCP options a PXE/PVS boot is read from. Options are TLV (code, length, value) with PAD (0) and END (255);
/// option 52 (overload) moves more options into the file and/or sname fields, read in that order (RFC 2131 §4.1).
/// </summary>
public readonly ref struct DhcpOptions
{
    public const byte OverloadFile = 1;
    public const byte OverloadServerName = 2;

    private const byte Pad = 0;
    private const byte End = 255;

    public DhcpMessageType MessageType { get; init; }
    public ReadOnlySpan<byte> HostName { get; init; }             // 12
    public ReadOnlySpan<byte> VendorSpecific { get; init; }       // 43
    public uint RequestedAddress { get; init; }                   // 50
    public uint LeaseTime { get; init; }                          // 51
    public byte Overload { get; init; }                           // 52
    public uint ServerIdentifier { get; init; }                   // 54
    public ReadOnlySpan<byte> ParameterRequestList { get; init; } // 55
    public ReadOnlySpan<byte> VendorClass { get; init; }          // 60
    public ReadOnlySpan<byte> ClientIdentifier { get; init; }     // 61
    public ReadOnlySpan<byte> TftpServerName { get; init; }       // 66
    public ReadOnlySpan<byte> BootFileName { get; init; }         // 67
    public ReadOnlySpan<byte> UserClass { get; init; }            // 77
    public ReadOnlySpan<byte> RelayAgentInformation { get; init; }// 82

    /// <summary>Option 93, the first architecture listed; null when absent.</summary>
    public ushort? ClientArchitecture { get; init; }
    public ReadOnlySpan<byte> ClientNetworkInterface { get; init; } // 94
    public ReadOnlySpan<byte> ClientMachineId { get; init; }        // 97

    /// <summary>Parses the options field, then file and sname when option 52 says they hold options.</summary>
    public static bool TryParse(ReadOnlySpan<byte> options, ReadOnlySpan<byte> file, ReadOnlySpan<byte> serverName, out DhcpOptions result)
    {
        var builder = new Builder();
        result = default;
        if (!builder.Read(options))
        {
            return false;
        }

        var overload = builder.Overload;
        if ((overload & OverloadFile) != 0 && !builder.Read(file))
        {
            return false;
        }

        if ((overload & OverloadServerName) != 0 && !builder.Read(serverName))
        {
            return false;
        }

        result = builder.Build();
        return true;
    }

    private ref struct Builder
    {
        private DhcpMessageType messageType;
        private ReadOnlySpan<byte> hostName, vendorSpecific, parameterRequestList, vendorClass, clientIdentifier;
        private ReadOnlySpan<byte> tftpServerName, bootFileName, userClass, relayAgentInformation, clientNetworkInterface, clientMachineId;
        private uint requestedAddress, leaseTime, serverIdentifier;
        private ushort? clientArchitecture;

        public byte Overload { get; private set; }

        public bool Read(ReadOnlySpan<byte> area)
        {
            var position = 0;
            while (position < area.Length)
            {
                var code = area[position++];
                if (code == Pad)
                {
                    continue;
                }

                if (code == End)
                {
                    return true;
                }

                if (position >= area.Length)
                {
                    return false;
                }

                var length = area[position++];
                if (position + length > area.Length)
                {
                    return false;
                }

                var value = area.Slice(position, length);
                position += length;
                if (!Accept(code, value))
                {
                    return false;
                }
            }

            // A missing END is common in the wild and harmless once every declared length fitted.
            return true;
        }

        private bool Accept(byte code, ReadOnlySpan<byte> value)
        {
            switch (code)
            {
                case 12: hostName = value; break;
                case 43: vendorSpecific = value; break;
                case 50: if (!TryReadAddress(value, out requestedAddress)) return false; break;
                case 51: if (!TryReadAddress(value, out leaseTime)) return false; break;
                case 52:
                    if (value.Length != 1 || value[0] is 0 or > 3) return false;
                    Overload = value[0];
                    break;
                case 53:
                    if (value.Length != 1) return false;
                    messageType = (DhcpMessageType)value[0];
                    break;
                case 54: if (!TryReadAddress(value, out serverIdentifier)) return false; break;
                case 55: parameterRequestList = value; break;
                case 60: vendorClass = value; break;
                case 61: clientIdentifier = value; break;
                case 66: tftpServerName = DhcpMessage.TrimAtNul(value); break;
                case 67: bootFileName = DhcpMessage.TrimAtNul(value); break;
                case 77: userClass = value; break;
                case 82: relayAgentInformation = value; break;
                case 93:
                    if (value.Length < 2 || value.Length % 2 != 0) return false;
                    clientArchitecture = BinaryPrimitives.ReadUInt16BigEndian(value);
                    break;
                case 94: clientNetworkInterface = value; break;
                case 97: clientMachineId = value; break;
                default: break;
            }

            return true;
        }

        private static bool TryReadAddress(ReadOnlySpan<byte> value, out uint address)
        {
            address = value.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(value) : 0;
            return value.Length == 4;
        }

        public readonly DhcpOptions Build() => new()
        {
            MessageType = messageType,
            HostName = hostName,
            VendorSpecific = vendorSpecific,
            RequestedAddress = requestedAddress,
            LeaseTime = leaseTime,
            Overload = Overload,
            ServerIdentifier = serverIdentifier,
            ParameterRequestList = parameterRequestList,
            VendorClass = vendorClass,
            ClientIdentifier = clientIdentifier,
            TftpServerName = tftpServerName,
            BootFileName = bootFileName,
            UserClass = userClass,
            RelayAgentInformation = relayAgentInformation,
            ClientArchitecture = clientArchitecture,
            ClientNetworkInterface = clientNetworkInterface,
            ClientMachineId = clientMachineId,
        };
    }
}
