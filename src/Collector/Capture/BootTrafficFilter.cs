using System.Globalization;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Capture;

/// <summary>
/// The default BPF filter of a collector: only what a boot puts on the wire, so the kernel drops the rest before
/// it costs a copy. TFTP data flows between two ephemeral ports, so TFTP is matched by its opcode (1–6 in the
/// first two bytes of the UDP payload) as well as by port 69. VLAN-tagged frames need the filter repeated after
/// <c>vlan</c>, which moves BPF's offsets past the tag.
/// </summary>
public static class BootTrafficFilter
{
    public static string Build(PvsPorts ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var pvs = string.Join(" or ",
            new[] { $"portrange {ports.StreamPortFirst}-{ports.StreamPortLast}", $"port {ports.LogonPort}" }
                .Concat(ports.TwoStageBootPorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"port {p}"))));
        var boot = $"arp or (udp and (port 67 or port 68 or port 4011 or port 69 or {pvs} or (udp[8:2] >= 1 and udp[8:2] <= 6)))";
        return $"({boot}) or (vlan and ({boot}))";
    }
}
