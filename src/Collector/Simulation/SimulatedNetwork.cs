using System.Globalization;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// The lab the storm happens in: one PVS server (also DHCP and TFTP) on 10.20.0.0/17 with most devices, and a
/// routed 10.20.128.0/17 whose router relays DHCP. Device MACs are 52:54:00 (QEMU) plus the device number.
/// </summary>
internal static class SimulatedNetwork
{
    public const uint ServerIp = (10u << 24) | (20u << 16) | 10;
    public const string ServerAddress = "10.20.0.10";
    public const ulong ServerMac = 0x00_50_56_0A_00_10;
    public const uint DirectRouterIp = (10u << 24) | (20u << 16) | 1;

    /// <summary>The router of the routed subnet: it relays DHCP (giaddr) and is the Ethernet peer of everything routed.</summary>
    public const uint RelayIp = (10u << 24) | (20u << 16) | (128u << 8) | 1;
    public const ulong RelayMac = 0x00_1B_17_00_01_01;
    public const uint SubnetMask = 0xFFFF_8000;

    public const ulong BroadcastMac = 0xFFFF_FFFF_FFFF;
    public const uint BroadcastIp = 0xFFFF_FFFF;

    /// <summary>Third octets 1..127 on the server's half, 129..255 on the routed half, 254 hosts each.</summary>
    public const int HostsPerHalf = 127 * 254;

    private const ulong DeviceOui = 0x52_54_00_00_00_00;

    public static ulong DeviceMac(int deviceIndex) => DeviceOui | (uint)(deviceIndex + 1);

    public static uint DeviceIp(bool routed, int hostNumber) =>
        (10u << 24) | (20u << 16) | ((uint)((routed ? 129 : 1) + hostNumber / 254) << 8) | (uint)(1 + hostNumber % 254);

    public static string FormatMac(ulong mac) => string.Create(17, mac, static (span, value) =>
    {
        for (var i = 0; i < 6; i++)
        {
            var octet = (byte)(value >> (40 - 8 * i));
            octet.TryFormat(span[(i * 3)..], out _, "x2", CultureInfo.InvariantCulture);
            if (i < 5)
                span[i * 3 + 2] = ':';
        }
    });

    public static string FormatIp(uint ip) =>
        string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 0xFF}.{(ip >> 8) & 0xFF}.{ip & 0xFF}");
}
