using System.Globalization;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Capture;

/// <summary>
/// The default BPF filter of a collector: only what a boot puts on the wire, so the kernel drops the rest before
/// it costs a copy. TFTP data flows between two ephemeral ports, so TFTP is matched by its opcode (1–6 in the
/// first two bytes of the UDP payload) as well as by port 69.
/// </summary>
/// <remarks>
/// On Ethernet the boot traffic may sit under up to <see cref="LinkFrame.MaxVlanTags"/> stacked tags (802.1Q
/// 0x8100, 802.1ad 0x88A8, 0x9100; a SPAN of a QinQ trunk). BPF's <c>vlan</c> moves every later offset past one
/// tag for the rest of the expression, so each deeper level must nest inside the one above:
/// <c>boot or (vlan and (boot or (vlan and (boot or …))))</c>. libpcap's <c>vlan</c> checks for all three TPIDs.
/// Other link types take the filter without tags: libpcap has no <c>vlan</c> for them, and on Linux the kernel
/// strips the tag of a cooked (<c>-i any</c>) capture before the filter runs.
/// </remarks>
public static class BootTrafficFilter
{
    public static string Build(PvsPorts ports, LinkType linkType = LinkType.Ethernet)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var pvs = string.Join(" or ",
            new[] { $"portrange {ports.StreamPortFirst}-{ports.StreamPortLast}", $"port {ports.LogonPort}" }
                .Concat(ports.TwoStageBootPorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"port {p}"))));
        var boot = $"arp or (udp and (port 67 or port 68 or port 4011 or port 69 or {pvs} or (udp[8:2] >= 1 and udp[8:2] <= 6)))";
        if (linkType != LinkType.Ethernet)
        {
            return $"({boot})";
        }

        var filter = $"({boot})";
        for (var tags = 0; tags < LinkFrame.MaxVlanTags; tags++)
        {
            filter = $"({boot}) or (vlan and {filter})";
        }

        return filter;
    }
}
