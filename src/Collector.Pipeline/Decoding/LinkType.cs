namespace PvsFleet.Collector.Decoding;

/// <summary>
/// The link layers a capture may be read from, numbered as pcap and pcapng files number them (LINKTYPE_*, see
/// the tcpdump.org link-layer header types). libpcap reports the DLT_* value instead, which differs only for raw
/// IP: <see cref="FromLibPcap"/> maps it.
/// </summary>
public enum LinkType : ushort
{
    /// <summary>BSD loopback: a 4-byte address family in the byte order of the capturing host.</summary>
    Null = 0,
    Ethernet = 1,

    /// <summary>Raw IP: the frame starts with the IPv4 or IPv6 header.</summary>
    Raw = 101,

    /// <summary>Linux cooked capture v1 (<c>tcpdump -i any</c> before libpcap 1.10).</summary>
    LinuxSll = 113,

    /// <summary>Raw IPv4 only.</summary>
    Ipv4 = 228,

    /// <summary>Linux cooked capture v2 (<c>tcpdump -i any</c> with libpcap 1.10 and later).</summary>
    LinuxSll2 = 276,
}

public static class LinkTypes
{
    /// <summary>libpcap's DLT_RAW: 12 on most systems, 14 on OpenBSD; files hold LINKTYPE_RAW (101) for both.</summary>
    private const int DltRaw = 12;
    private const int DltRawOpenBsd = 14;

    public static bool IsSupported(int linkType) =>
        linkType is (int)LinkType.Null or (int)LinkType.Ethernet or (int)LinkType.Raw or (int)LinkType.LinuxSll
            or (int)LinkType.Ipv4 or (int)LinkType.LinuxSll2;

    /// <summary>The link type of a libpcap handle (pcap_datalink), as files number it.</summary>
    public static int FromLibPcap(int dlt) => dlt is DltRaw or DltRawOpenBsd ? (int)LinkType.Raw : dlt;

    /// <summary>The one-line refusal for a link type the decoder does not read.</summary>
    public static string Unsupported(int linkType) =>
        $"link type {linkType} is not supported; capture on an Ethernet interface or with `-i any` (Linux cooked), loopback or raw IP";
}
