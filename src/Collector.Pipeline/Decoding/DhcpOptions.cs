using System.Buffers.Binary;

namespace PvsFleet.Collector.Decoding;

/// <summary>
/// The DHCP options a PXE/PVS boot is read from. Options are TLV (code, length, value) with PAD (0) and END (255);
/// option 52 (overload) moves more options into the file and/or sname fields, read in that order (RFC 2131 §4.1).
/// Decoding is lenient, as Wireshark's: an option whose value does not hold (an address that is not 4 bytes, a
/// length past the end of its field) is counted in <see cref="MalformedOptions"/> and skipped, and the rest of the
/// message is still read. Only a malformed message type (53), without which the message means nothing, fails it.
/// </summary>
public readonly ref struct DhcpOptions
{
    public const byte OverloadFile = 1;
    public const byte OverloadServerName = 2;

    private const byte Pad = 0;
    private const byte End = 255;
    private const byte MessageTypeCode = 53;

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

    /// <summary>Options skipped because their length or value did not hold.</summary>
    public int MalformedOptions { get; init; }

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

        public int MalformedOptions { get; private set; }

        /// <summary>False only for a malformed message type; other damage is counted and skipped.</summary>
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

                if (position >= area.Length || position + 1 + area[position] > area.Length)
                {
                    // A length past the field's end: nothing after it can be framed, what came before stands.
                    MalformedOptions++;
                    return true;
                }

                var length = area[position++];
                var value = area.Slice(position, length);
                position += length;
                if (!Accept(code, value))
                {
                    if (code == MessageTypeCode)
                    {
                        return false;
                    }

                    MalformedOptions++;
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
                case 50: return TryReadAddress(value, ref requestedAddress);
                case 51: return TryReadAddress(value, ref leaseTime);
                case 52:
                    if (value.Length != 1 || value[0] is 0 or > 3) return false;
                    Overload = value[0];
                    break;
                case MessageTypeCode:
                    if (value.Length != 1) return false;
                    messageType = (DhcpMessageType)value[0];
                    break;
                case 54: return TryReadAddress(value, ref serverIdentifier);
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

        /// <summary>A malformed address leaves the value as it was (a well-formed earlier copy of the option stands).</summary>
        private static bool TryReadAddress(ReadOnlySpan<byte> value, ref uint address)
        {
            if (value.Length != 4)
            {
                return false;
            }

            address = BinaryPrimitives.ReadUInt32BigEndian(value);
            return true;
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
            MalformedOptions = MalformedOptions,
        };
    }
}
