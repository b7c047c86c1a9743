using System.Buffers.Binary;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>
/// The default filter, compiled by libpcap itself for each link type and run by its BPF interpreter over frames:
/// boot traffic passes, under any VLAN stack up to eight tags deep; other traffic does not.
/// </summary>
public class BootTrafficFilterTests
{
    private static readonly MacAddress Device = MacAddress.Parse("52:54:00:00:00:01");
    private static readonly MacAddress Server = MacAddress.Parse("32:af:85:d8:16:be");
    private static readonly uint DeviceIp = Ipv4Address.Parse("10.1.1.156");
    private static readonly uint ServerIp = Ipv4Address.Parse("10.1.1.1");

    public static TheoryData<string> BootFrames => new(BootTraffic().Keys);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    public void Boot_traffic_passes_under_a_vlan_stack_of_any_depth_up_to_eight(int depth)
    {
        using var filter = Compile(LinkType.Ethernet);
        foreach (var (name, frame) in BootTraffic())
        {
            Assert.True(filter.Matches(Stack(frame, depth)), $"{name} under {depth} tags");
        }

        foreach (var (name, frame) in OtherTraffic())
        {
            Assert.False(filter.Matches(Stack(frame, depth)), $"{name} under {depth} tags");
        }
    }

    [Fact]
    public void Tags_of_all_three_tpids_are_followed()
    {
        using var filter = Compile(LinkType.Ethernet);
        var frame = Stack(BootTraffic()["tftp data"], 3);
        foreach (var tpid in new[] { LinkFrame.EtherTypeVlan, LinkFrame.EtherTypeQinQ, LinkFrame.EtherTypeQinQLegacy })
        {
            for (var tag = 0; tag < 3; tag++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12 + (4 * tag)), tpid);
            }

            Assert.True(filter.Matches(frame), $"TPID 0x{tpid:X4}");
        }
    }

    [Fact]
    public void Deeper_stacks_than_the_decoder_reads_are_not_let_through()
    {
        using var filter = Compile(LinkType.Ethernet);
        Assert.False(filter.Matches(Stack(BootTraffic()["dhcp discover"], 9)));
    }

    [Theory]
    [InlineData(LinkType.LinuxSll)]
    [InlineData(LinkType.LinuxSll2)]
    [InlineData(LinkType.Null)]
    [InlineData(LinkType.Raw)]
    [InlineData(LinkType.Ipv4)]
    public void The_filter_compiles_for_every_other_link_type_and_passes_boot_traffic(LinkType linkType)
    {
        using var filter = Compile(linkType);
        foreach (var (name, frame) in BootTraffic())
        {
            if (name == "arp" && linkType is LinkType.Null or LinkType.Raw or LinkType.Ipv4)
            {
                continue; // no ARP on an IP-only link
            }

            Assert.True(filter.Matches(Relink(frame, linkType)), $"{name} as {linkType}");
        }

        foreach (var (name, frame) in OtherTraffic())
        {
            Assert.False(filter.Matches(Relink(frame, linkType)), $"{name} as {linkType}");
        }
    }

    /// <summary>The default filter compiled as the live capture compiles it (raw IP is DLT_RAW, 12, in libpcap).</summary>
    internal static BpfProgram Compile(LinkType linkType) =>
        BpfProgram.Create((PacketDotNet.LinkLayers)(linkType == LinkType.Raw ? 12 : (int)linkType), BootTrafficFilter.Build(new TrackerOptions().Ports, linkType));

    private static Dictionary<string, byte[]> BootTraffic()
    {
        var discover = new DhcpBuilder(DhcpMessage.OpRequest, Device, 7, DhcpMessageType.Discover).Pxe(7).Build();
        return new()
        {
            ["dhcp discover"] = FrameBuilder.Udp(Device, FrameBuilder.Broadcast, 0, 0xFFFFFFFF, 68, 67, discover),
            ["proxy dhcp"] = FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, 68, 4011, discover),
            ["tftp rrq"] = FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, 2070, 69, FrameBuilder.Tftp(1, "ARDBP32.bin", "octet")),
            ["tftp data"] = FrameBuilder.Udp(Server, Device, ServerIp, DeviceIp, 40000, 2070, FrameBuilder.Tftp(3, (ushort)1, new byte[512])),
            ["tftp ack"] = FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, 2070, 40000, FrameBuilder.Tftp(4, (ushort)1)),
            ["pvs logon"] = FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, 6901, 6910, new byte[48]),
            ["pvs stream"] = FrameBuilder.Udp(Server, Device, ServerIp, DeviceIp, 6920, 6901, new byte[1464]),
            ["two-stage boot"] = FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, 6901, 6969, new byte[48]),
            ["arp"] = FrameBuilder.Arp(ArpPacket.OperationRequest, Device, DeviceIp, default, ServerIp),
        };
    }

    private static Dictionary<string, byte[]> OtherTraffic() => new()
    {
        ["dns"] = FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, 5353, 53, [0x12, 0x34, 1, 0, 0, 1]),
        ["tcp"] = FrameBuilder.Ethernet(Device, Server, LinkFrame.EtherTypeIPv4, FrameBuilder.Ipv4(DeviceIp, ServerIp, 6, new byte[20])),
    };

    /// <summary>The frame under <paramref name="depth"/> tags: 802.1ad outermost, 802.1Q below, as a QinQ trunk carries it.</summary>
    private static byte[] Stack(byte[] frame, int depth) =>
        depth == 0 ? frame : FrameBuilder.Tagged(frame, [.. Enumerable.Range(1, depth).Select(i => (ushort)(10 * i))]);

    /// <summary>The Ethernet frame's network payload under another link layer.</summary>
    private static byte[] Relink(byte[] ethernet, LinkType linkType)
    {
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(ethernet.AsSpan(12));
        var payload = ethernet[14..];
        return linkType switch
        {
            LinkType.LinuxSll => FrameBuilder.Sll(0, 1, 6, Device, etherType, payload),
            LinkType.LinuxSll2 => FrameBuilder.Sll2(etherType, 1, 6, Device, payload),
            LinkType.Null => [2, 0, 0, 0, .. payload],
            _ => payload,
        };
    }
}
