using System.Buffers.Binary;
using System.Text;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;

namespace PvsFleet.Collector.Tests.Decoding;

/// <summary>One decoder for every link type a capture may come in; each yields the IP payload and, where it has one, the sender's MAC.</summary>
public class LinkFrameTests
{
    private static readonly MacAddress Sender = MacAddress.Parse("52:54:00:00:00:07");
    private static readonly byte[] Ip = FrameBuilder.Ipv4(0x0A010107, 0x0A010101, Ipv4Packet.ProtocolUdp, [0, 68, 0, 67, 0, 8, 0, 0]);

    [Fact]
    public void Linux_cooked_v1_gives_the_protocol_payload_and_sender_mac()
    {
        var frame = FrameBuilder.Sll(0, 1, 6, Sender, 0x0800, Ip);

        Assert.True(LinkFrame.TryParse(LinkType.LinuxSll, frame, out var link));
        Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
        Assert.True(link.HasSourceMac);
        Assert.Equal(Sender, link.SourceMac);
        Assert.Equal(Ip, link.Payload.ToArray());
    }

    [Fact]
    public void Linux_cooked_v2_gives_the_protocol_payload_and_sender_mac()
    {
        var frame = FrameBuilder.Sll2(0x0800, 1, 6, Sender, Ip);

        Assert.True(LinkFrame.TryParse(LinkType.LinuxSll2, frame, out var link));
        Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
        Assert.Equal(Sender, link.SourceMac);
        Assert.Equal(Ip, link.Payload.ToArray());
    }

    [Fact]
    public void Cooked_frames_may_carry_vlan_tags_libpcap_put_back()
    {
        byte[] tagged = [0x00, 0x64, 0x08, 0x00, .. Ip];
        Assert.True(LinkFrame.TryParse(LinkType.LinuxSll, FrameBuilder.Sll(0, 1, 6, Sender, 0x8100, tagged), out var v1));
        Assert.Equal(100, v1.VlanId);
        Assert.Equal(LinkFrame.EtherTypeIPv4, v1.EtherType);
        Assert.True(LinkFrame.TryParse(LinkType.LinuxSll2, FrameBuilder.Sll2(0x8100, 1, 6, Sender, tagged), out var v2));
        Assert.Equal(100, v2.VlanId);
        Assert.Equal(Ip, v2.Payload.ToArray());
    }

    [Fact]
    public void Cooked_frames_of_non_ethernet_devices_have_no_sender_mac()
    {
        // Loopback (ARPHRD_LOOPBACK 772) records six zero bytes; a tunnel (ARPHRD_NONE 0xFFFE) none at all.
        Assert.True(LinkFrame.TryParse(LinkType.LinuxSll, FrameBuilder.Sll(0, 772, 6, default, 0x0800, Ip), out var loopback));
        Assert.False(loopback.HasSourceMac);
        Assert.True(LinkFrame.TryParse(LinkType.LinuxSll2, FrameBuilder.Sll2(0x0800, 0xFFFE, 0, default, Ip), out var tunnel));
        Assert.False(tunnel.HasSourceMac);
        Assert.Equal(LinkFrame.EtherTypeIPv4, tunnel.EtherType);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bsd_loopback_reads_af_inet_in_either_byte_order(bool littleEndian)
    {
        var frame = new byte[4 + Ip.Length];
        if (littleEndian)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(frame, 2);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame, 2);
        }

        Ip.CopyTo(frame.AsSpan(4));
        Assert.True(LinkFrame.TryParse(LinkType.Null, frame, out var link));
        Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
        Assert.False(link.HasSourceMac);
        Assert.Equal(Ip, link.Payload.ToArray());

        BinaryPrimitives.WriteUInt32LittleEndian(frame, 30); // AF_INET6 on FreeBSD: not ours
        Assert.True(LinkFrame.TryParse(LinkType.Null, frame, out var ipv6));
        Assert.NotEqual(LinkFrame.EtherTypeIPv4, ipv6.EtherType);
    }

    [Theory]
    [InlineData(LinkType.Raw)]
    [InlineData(LinkType.Ipv4)]
    public void Raw_ip_is_its_own_payload(LinkType linkType)
    {
        Assert.True(LinkFrame.TryParse(linkType, Ip, out var link));
        Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
        Assert.Equal(Ip, link.Payload.ToArray());
    }

    [Fact]
    public void Short_headers_and_unknown_link_types_are_refused()
    {
        Assert.False(LinkFrame.TryParse(LinkType.LinuxSll, new byte[15], out _));
        Assert.False(LinkFrame.TryParse(LinkType.LinuxSll2, new byte[19], out _));
        Assert.False(LinkFrame.TryParse(LinkType.Null, new byte[3], out _));
        Assert.False(LinkFrame.TryParse(LinkType.Raw, [], out _));
        Assert.False(LinkFrame.TryParse((LinkType)105, Ip, out _));
        Assert.False(LinkFrame.TryParse(LinkType.LinuxSll2, FrameBuilder.Sll2(0x8100, 1, 6, Sender, [0, 1]), out _));
    }

    [Fact]
    public void Libpcap_raw_ip_numbers_map_to_the_file_number_and_others_are_named_in_the_refusal()
    {
        Assert.Equal((int)LinkType.Raw, LinkTypes.FromLibPcap(12));
        Assert.Equal((int)LinkType.LinuxSll2, LinkTypes.FromLibPcap(276));
        Assert.True(LinkTypes.IsSupported(228));
        Assert.False(LinkTypes.IsSupported(127));
        Assert.StartsWith("link type 127 is not supported", LinkTypes.Unsupported(127));
    }
}

/// <summary>Names off the wire become clean, bounded, valid UTF-8 text.</summary>
public class WireTextTests
{
    [Fact]
    public void Text_is_cut_at_the_first_nul()
    {
        Assert.Equal("ARDBP32.bin", WireText.Clean("ARDBP32.bin\0junk\0"u8));
        Assert.Null(WireText.Clean("\0ARDBP32.bin"u8));
        Assert.Null(WireText.Clean([]));
    }

    [Fact]
    public void Control_characters_are_dropped()
    {
        // A terminal escape loses its ESC, a log line its line break.
        Assert.Equal("VDA-01[2Jevil", WireText.Clean("VDA-01\r\n\u001b[2Jevil\u007f"u8));
        Assert.Null(WireText.Clean("\r\n\t"u8));
        Assert.Equal("ab", WireText.Clean([0x61, 0xC2, 0x85, 0x62])); // U+0085, a C1 control
    }

    [Fact]
    public void Invalid_utf8_becomes_the_replacement_character_and_the_result_is_valid_utf8()
    {
        var text = WireText.Clean([0x66, 0xFF, 0xC3, 0x28, 0x67, 0xED, 0xA0, 0x80]);

        Assert.NotNull(text);
        Assert.StartsWith("f\uFFFD", text, StringComparison.Ordinal);
        Assert.Contains('g', text);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        Assert.Equal(text, strict.GetString(strict.GetBytes(text)));
        Assert.Equal("héllo-ü", WireText.Clean(Encoding.UTF8.GetBytes("héllo-ü")));
    }

    [Fact]
    public void Length_is_capped_without_splitting_a_surrogate_pair()
    {
        Assert.Equal(WireText.MaxLength, WireText.Clean(Encoding.ASCII.GetBytes(new string('x', 600)))!.Length);
        var emoji = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("x\U0001F600", 200)));

        var text = WireText.Clean(emoji)!;

        Assert.True(text.Length <= WireText.MaxLength);
        Assert.False(char.IsHighSurrogate(text[^1]));
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        Assert.Equal(text, strict.GetString(strict.GetBytes(text)));
    }
}
