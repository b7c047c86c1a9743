using System.Buffers.Binary;
using System.Text;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;

namespace PvsFleet.Collector.Tests.Decoding;

public class EthernetDecoderTests
{
    private static readonly MacAddress A = MacAddress.Parse("52:54:00:00:00:01");
    private static readonly MacAddress B = MacAddress.Parse("ff:ff:ff:ff:ff:ff");

    [Fact]
    public void Untagged_frame_exposes_addresses_type_and_payload()
    {
        var frame = FrameBuilder.Ethernet(A, B, 0x0800, [1, 2, 3]);

        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(A, ethernet.Source);
        Assert.Equal(B, ethernet.Destination);
        Assert.Equal(0x0800, ethernet.EtherType);
        Assert.Equal(0, ethernet.VlanId);
        Assert.Equal(new byte[] { 1, 2, 3 }, ethernet.Payload.ToArray());
    }

    [Fact]
    public void Dot1q_and_qinq_tags_are_stripped_and_the_inner_vlan_kept()
    {
        Assert.True(EthernetFrame.TryParse(FrameBuilder.Ethernet(A, B, 0x0806, [9], 0x2064), out var single));
        Assert.Equal(0x064, single.VlanId);
        Assert.Equal(0x0806, single.EtherType);

        Assert.True(EthernetFrame.TryParse(FrameBuilder.Ethernet(A, B, 0x0800, [9], 0x0100, 0x0ABC), out var qinq));
        Assert.Equal(0xABC, qinq.VlanId);
        Assert.Equal(0x0800, qinq.EtherType);
        Assert.Equal(new byte[] { 9 }, qinq.Payload.ToArray());
    }

    [Fact]
    public void Decoder_rejects_short_frames_and_truncated_or_excess_tags()
    {
        Assert.False(EthernetFrame.TryParse(new byte[13], out _));
        var tagged = FrameBuilder.Ethernet(A, B, 0x0800, [], 0x0001);
        Assert.False(EthernetFrame.TryParse(tagged.AsSpan(0, 16), out _));
        Assert.False(EthernetFrame.TryParse(FrameBuilder.Ethernet(A, B, 0x0800, [0], 1, 2, 3, 4, 5, 6, 7, 8, 9), out _));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    public void Stacks_of_up_to_eight_tags_are_stripped_whatever_their_tpid(int depth)
    {
        var tags = Enumerable.Range(1, depth).Select(i => (ushort)(100 * i)).ToArray();
        var frame = FrameBuilder.Ethernet(A, B, 0x0800, [7, 7], tags);
        // Mix the three TPIDs down the stack: 802.1ad outside, then 0x9100 and 802.1Q.
        for (var i = 1; i < depth; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12 + (4 * i)), i % 2 == 0 ? EthernetFrame.EtherTypeQinQLegacy : EthernetFrame.EtherTypeVlan);
        }

        Assert.True(LinkFrame.TryParse(LinkType.Ethernet, frame, out var link));
        Assert.Equal(depth, link.VlanTags);
        Assert.Equal(100 * depth, link.VlanId);
        Assert.Equal(0x0800, link.EtherType);
        Assert.Equal(new byte[] { 7, 7 }, link.Payload.ToArray());
        Assert.True(link.HasSourceMac);
        Assert.Equal(A, link.SourceMac);
    }

    [Fact]
    public void Mac_address_round_trips_through_text() =>
        Assert.Equal("32:af:85:d8:16:be", MacAddress.Parse("32:AF:85:D8:16:BE").ToString());
}

public class Ipv4AndUdpDecoderTests
{
    private static readonly uint Src = Ipv4Address.Parse("10.1.1.156");
    private static readonly uint Dst = Ipv4Address.Parse("10.1.1.1");

    [Fact]
    public void Header_options_are_skipped_and_ethernet_padding_cut_by_total_length()
    {
        var packet = FrameBuilder.Ipv4(Src, Dst, 17, [7, 7], optionWords: 2);
        var padded = packet.Concat(new byte[10]).ToArray();

        Assert.True(Ipv4Packet.TryParse(padded, out var ip));
        Assert.Equal(Src, ip.Source);
        Assert.Equal(Dst, ip.Destination);
        Assert.Equal(17, ip.Protocol);
        Assert.Equal(new byte[] { 7, 7 }, ip.Payload.ToArray());
        Assert.False(ip.IsNonFirstFragment);
    }

    [Fact]
    public void Non_first_fragments_are_flagged_and_first_fragments_marked_incomplete()
    {
        Assert.True(Ipv4Packet.TryParse(FrameBuilder.Ipv4(Src, Dst, 17, new byte[16], flagsAndFragment: 185), out var later));
        Assert.True(later.IsNonFirstFragment);
        Assert.True(Ipv4Packet.TryParse(FrameBuilder.Ipv4(Src, Dst, 17, new byte[16], flagsAndFragment: 0x2000), out var first));
        Assert.True(first.IsFirstFragment);
        Assert.False(first.IsNonFirstFragment);
    }

    [Theory]
    [InlineData(0x45, 10)]   // total length shorter than the header
    [InlineData(0x44, 40)]   // IHL below 5
    [InlineData(0x65, 40)]   // IPv6 version nibble
    [InlineData(0x45, 400)]  // total length beyond the captured bytes
    public void Decoder_rejects_inconsistent_ipv4_headers(byte versionAndIhl, ushort totalLength)
    {
        var packet = FrameBuilder.Ipv4(Src, Dst, 17, new byte[20]);
        packet[0] = versionAndIhl;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), totalLength);
        Assert.False(Ipv4Packet.TryParse(packet, out _));
    }

    [Fact]
    public void Udp_length_bounds_the_payload_and_is_checked()
    {
        var udp = new byte[] { 0x1A, 0xFE, 0x00, 0x45, 0x00, 0x0A, 0, 0, 0xAB, 0xCD, 0xEE };
        Assert.True(UdpDatagram.TryParse(udp, out var datagram));
        Assert.Equal(6910, datagram.SourcePort);
        Assert.Equal(69, datagram.DestinationPort);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, datagram.Payload.ToArray());

        udp[5] = 0x20;
        Assert.False(UdpDatagram.TryParse(udp, out _));
        udp[5] = 0x04;
        Assert.False(UdpDatagram.TryParse(udp, out _));
        Assert.False(UdpDatagram.TryParse(udp.AsSpan(0, 7), out _));
    }
}

public class ArpDecoderTests
{
    [Fact]
    public void Request_fields_are_read_and_truncation_rejected()
    {
        var sender = MacAddress.Parse("52:54:00:00:00:01");
        var frame = FrameBuilder.Arp(ArpPacket.OperationRequest, sender, Ipv4Address.Parse("10.1.1.156"), default, Ipv4Address.Parse("10.1.1.1"));
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));

        Assert.True(ArpPacket.TryParse(ethernet.Payload, out var arp));
        Assert.Equal(ArpPacket.OperationRequest, arp.Operation);
        Assert.Equal(sender, arp.SenderMac);
        Assert.Equal("10.1.1.156", Ipv4Address.Format(arp.SenderIp));
        Assert.Equal("10.1.1.1", Ipv4Address.Format(arp.TargetIp));
        Assert.False(ArpPacket.TryParse(ethernet.Payload[..27], out _));
        var wrongHardware = ethernet.Payload.ToArray();
        wrongHardware[1] = 6;
        Assert.False(ArpPacket.TryParse(wrongHardware, out _));
    }
}

public class DhcpDecoderTests
{
    private static readonly MacAddress Device = MacAddress.Parse("52:54:00:00:00:01");

    public static TheoryData<byte> MessageTypes()
    {
        var data = new TheoryData<byte>();
        for (byte type = 1; type <= 18; type++)
        {
            data.Add(type);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Every_message_type_is_read(byte type)
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 0x19b8b37c, (DhcpMessageType)type).Build();
        Assert.True(DhcpMessage.TryParse(bytes, out var message));
        Assert.Equal((DhcpMessageType)type, message.Options.MessageType);
        Assert.Equal(0x19b8b37cu, message.Xid);
        Assert.Equal(Device, message.ClientMac);
    }

    [Fact]
    public void Pxe_options_are_all_read()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 1, DhcpMessageType.Request)
            .Secs(4).Hops(1).RelayAddress(Ipv4Address.Parse("10.2.0.1"))
            .Option(12, "VDA-0001").Option(43, 6, 1, 8).Address(50, Ipv4Address.Parse("10.1.1.156"))
            .Option(51, 0, 0, 0x0E, 0x10).Address(54, Ipv4Address.Parse("10.1.1.1")).Option(55, 1, 3, 43, 60, 66, 67)
            .Option(60, "PXEClient:Arch:00007:UNDI:003016").Option(61, 1, 0x52, 0x54, 0, 0, 0, 1)
            .Option(66, "10.1.1.1").Option(67, "pvsnbpx64.efi\0").Option(77, "iPXE").Option(82, 1, 2, 0xAA, 0xBB)
            .Option(93, 0, 7).Option(94, 1, 3, 16).Option(97, [0, .. new byte[16]])
            .Build();

        Assert.True(DhcpMessage.TryParse(bytes, out var message));
        var options = message.Options;
        Assert.Equal(4, message.Secs);
        Assert.Equal(1, message.Hops);
        Assert.Equal("10.2.0.1", Ipv4Address.Format(message.RelayAddress));
        Assert.Equal("VDA-0001", Encoding.ASCII.GetString(options.HostName));
        Assert.Equal(new byte[] { 6, 1, 8 }, options.VendorSpecific.ToArray());
        Assert.Equal("10.1.1.156", Ipv4Address.Format(options.RequestedAddress));
        Assert.Equal(3600u, options.LeaseTime);
        Assert.Equal("10.1.1.1", Ipv4Address.Format(options.ServerIdentifier));
        Assert.Equal(new byte[] { 1, 3, 43, 60, 66, 67 }, options.ParameterRequestList.ToArray());
        Assert.StartsWith("PXEClient:Arch:00007", Encoding.ASCII.GetString(options.VendorClass), StringComparison.Ordinal);
        Assert.Equal(7, options.ClientIdentifier.Length);
        Assert.Equal("10.1.1.1", Encoding.ASCII.GetString(options.TftpServerName));
        Assert.Equal("pvsnbpx64.efi", Encoding.ASCII.GetString(message.BootFileName));
        Assert.Equal("iPXE", Encoding.ASCII.GetString(options.UserClass));
        Assert.Equal(4, options.RelayAgentInformation.Length);
        Assert.Equal((ushort)7, options.ClientArchitecture);
        Assert.Equal(new byte[] { 1, 3, 16 }, options.ClientNetworkInterface.ToArray());
        Assert.Equal(17, options.ClientMachineId.Length);
    }

    [Fact]
    public void Option_overload_reads_options_from_file_and_sname_and_hides_those_fields()
    {
        byte[] fileArea = [67, 11, .. "ARDBP32.bin"u8, 255];
        byte[] snameArea = [12, 4, .. "host"u8, 255];
        var bytes = new DhcpBuilder(DhcpMessage.OpReply, Device, 1, DhcpMessageType.Ack).Option(52, 3)
            .FileArea(fileArea).ServerNameArea(snameArea).Build();

        Assert.True(DhcpMessage.TryParse(bytes, out var message));
        Assert.Equal(3, message.Options.Overload);
        Assert.Equal("ARDBP32.bin", Encoding.ASCII.GetString(message.BootFileName));
        Assert.Equal("host", Encoding.ASCII.GetString(message.Options.HostName));
        Assert.True(message.File.IsEmpty);
        Assert.True(message.ServerName.IsEmpty);
    }

    [Fact]
    public void Without_option_67_the_file_field_names_the_boot_file()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpReply, Device, 1, DhcpMessageType.Offer).File("ARDBP32.bin").ServerName("pvs01").Build();
        Assert.True(DhcpMessage.TryParse(bytes, out var message));
        Assert.Equal("ARDBP32.bin", Encoding.ASCII.GetString(message.BootFileName));
        Assert.Equal("pvs01", Encoding.ASCII.GetString(message.ServerName));
    }

    [Fact]
    public void Plain_bootp_without_magic_cookie_is_read_without_options()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 1, DhcpMessageType.None).Build(end: false)[..236];
        Assert.True(DhcpMessage.TryParse(bytes, out var message));
        Assert.False(message.HasOptions);
        Assert.Equal(Device, message.ClientMac);
    }

    [Fact]
    public void Truncated_dhcp_option_is_counted_and_the_options_before_it_kept()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 1, DhcpMessageType.Discover).Option(60, "PXEClient").Build(end: false);

        // The vendor class declares 9 bytes; 3 and 10 are cut off: its length runs past the end of the field.
        foreach (var cut in new[] { 3, 10 })
        {
            Assert.True(DhcpMessage.TryParse(bytes.AsSpan(0, bytes.Length - cut), out var message));
            Assert.Equal(DhcpMessageType.Discover, message.Options.MessageType);
            Assert.True(message.Options.VendorClass.IsEmpty);
            Assert.Equal(1, message.Options.MalformedOptions);
        }

        // Only the length byte is left of the option.
        Assert.True(DhcpMessage.TryParse(bytes.AsSpan(0, bytes.Length - 9), out var lengthOnly));
        Assert.Equal(1, lengthOnly.Options.MalformedOptions);
    }

    [Theory]
    [InlineData(54, new byte[] { 10, 1, 1 })]   // server id must be an address
    [InlineData(52, new byte[] { 4 })]          // overload 1..3 only
    [InlineData(93, new byte[] { 7 })]          // architecture is 16-bit
    [InlineData(50, new byte[] { 1, 2, 3, 4, 5 })]
    public void Option_of_the_wrong_size_is_counted_and_the_rest_of_the_message_decoded(byte code, byte[] value)
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 1, DhcpMessageType.Discover)
            .Option(code, value).Pxe(7).Option(12, "target-07").Build();

        Assert.True(DhcpMessage.TryParse(bytes, out var message));

        Assert.Equal(1, message.Options.MalformedOptions);
        Assert.Equal(DhcpMessageType.Discover, message.Options.MessageType);
        Assert.Equal((ushort)7, message.Options.ClientArchitecture);
        Assert.Equal("target-07", Encoding.ASCII.GetString(message.Options.HostName));
        Assert.Equal(0u, message.Options.ServerIdentifier);
        Assert.Equal(0, message.Options.Overload);
    }

    [Fact]
    public void A_malformed_address_option_does_not_overwrite_a_good_one_before_it()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpReply, Device, 1, DhcpMessageType.Offer)
            .Address(54, Ipv4Address.Parse("10.1.1.1")).Option(54, 10, 9).Build();

        Assert.True(DhcpMessage.TryParse(bytes, out var message));
        Assert.Equal("10.1.1.1", Ipv4Address.Format(message.Options.ServerIdentifier));
        Assert.Equal(1, message.Options.MalformedOptions);
    }

    [Fact]
    public void Malformed_message_type_still_fails_the_message_it_means_nothing_without_it()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 1, DhcpMessageType.None).Option(53, 1, 2).Build();
        Assert.False(DhcpMessage.TryParse(bytes, out _));
    }

    [Fact]
    public void Decoder_rejects_short_messages_and_unknown_ops()
    {
        var bytes = new DhcpBuilder(DhcpMessage.OpRequest, Device, 1, DhcpMessageType.Discover).Build();
        Assert.False(DhcpMessage.TryParse(bytes.AsSpan(0, 200), out _));
        bytes[0] = 3;
        Assert.False(DhcpMessage.TryParse(bytes, out _));
    }
}

public class TftpDecoderTests
{
    [Fact]
    public void Read_request_with_every_negotiable_option()
    {
        var bytes = FrameBuilder.Tftp(1, "pvsnbpx64.efi", "octet", "blksize", "1468", "TSIZE", "0", "timeout", "5", "windowsize", "4", "unknown", "x");
        Assert.True(TftpPacket.TryParse(bytes, out var packet));
        Assert.Equal(TftpOpcode.ReadRequest, packet.Opcode);
        Assert.Equal("pvsnbpx64.efi", Encoding.ASCII.GetString(packet.FileName));
        Assert.Equal("octet", Encoding.ASCII.GetString(packet.Mode));
        Assert.Equal(new TftpOptions(1468, 0, 5, 4), packet.Options);
    }

    [Fact]
    public void Write_request_data_ack_error_and_oack()
    {
        Assert.True(TftpPacket.TryParse(FrameBuilder.Tftp(2, "up.bin", "octet"), out var wrq));
        Assert.Equal(TftpOpcode.WriteRequest, wrq.Opcode);

        Assert.True(TftpPacket.TryParse(FrameBuilder.Tftp(3, (ushort)51, new byte[692]), out var data));
        Assert.Equal(51, data.Block);
        Assert.Equal(692, data.Data.Length);

        Assert.True(TftpPacket.TryParse(FrameBuilder.Tftp(4, (ushort)65535), out var ack));
        Assert.Equal(65535, ack.Block);

        Assert.True(TftpPacket.TryParse(FrameBuilder.Tftp(5, (ushort)1, "File not found"), out var error));
        Assert.Equal(1, error.ErrorCode);
        Assert.Equal("File not found", Encoding.ASCII.GetString(error.ErrorMessage));

        Assert.True(TftpPacket.TryParse(FrameBuilder.Tftp(6, "blksize", "1432", "tsize", "72292"), out var oack));
        Assert.Equal(new TftpOptions(1432, 72292, null, null), oack.Options);
    }

    [Theory]
    [InlineData("blksize", "7")]
    [InlineData("blksize", "70000")]
    [InlineData("timeout", "0")]
    [InlineData("windowsize", "abc")]
    [InlineData("tsize", "-1")]
    public void Decoder_rejects_out_of_range_option_values(string name, string value) =>
        Assert.False(TftpPacket.TryParse(FrameBuilder.Tftp(6, name, value), out _));

    [Fact]
    public void Decoder_rejects_truncated_and_unknown_packets()
    {
        Assert.False(TftpPacket.TryParse(FrameBuilder.Tftp(1, "file"), out _));          // no mode
        Assert.False(TftpPacket.TryParse(FrameBuilder.Tftp(6, "blksize"), out _));       // option without value
        Assert.False(TftpPacket.TryParse(new byte[] { 0, 3, 0 }, out _));                // DATA without block
        Assert.False(TftpPacket.TryParse(FrameBuilder.Tftp(7, (ushort)1), out _));       // no such opcode
        Assert.False(TftpPacket.TryParse(FrameBuilder.Tftp(4, (ushort)1, new byte[] { 9 }), out _));
    }
}

public class PvsPortTests
{
    [Theory]
    [InlineData(6910, PvsPortKind.Logon)]
    [InlineData(6911, PvsPortKind.Stream)]
    [InlineData(6930, PvsPortKind.Stream)]
    [InlineData(6890, PvsPortKind.None)]   // server-to-server
    [InlineData(6909, PvsPortKind.None)]
    [InlineData(6931, PvsPortKind.None)]
    [InlineData(6969, PvsPortKind.TwoStageBoot)]
    [InlineData(2071, PvsPortKind.TwoStageBoot)]
    [InlineData(69, PvsPortKind.None)]
    public void Default_ports_classify_as_citrix_documents_them(ushort port, PvsPortKind kind) =>
        Assert.Equal(kind, new PvsPorts().Classify(port));

    [Fact]
    public void Ports_are_configuration()
    {
        var ports = new PvsPorts { LogonPort = 7000, StreamPortFirst = 7001, StreamPortLast = 7010, TwoStageBootPorts = [] };
        Assert.Equal(PvsPortKind.Logon, ports.Classify(7000));
        Assert.Equal(PvsPortKind.Stream, ports.Classify(7005));
        Assert.Equal(PvsPortKind.None, ports.Classify(6910));
        Assert.Throws<ArgumentException>(() => new PvsPorts { StreamPortFirst = 10, StreamPortLast = 9 }.Validate());
    }
}
