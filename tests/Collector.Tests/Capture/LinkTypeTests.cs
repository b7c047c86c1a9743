using System.Buffers.Binary;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>
/// Captures in other link layers and with VLAN stacks, read in place from ../shared/captures/external (never
/// copied: several carry copyleft licences) with both readers, plus files this test writes for the cases no
/// shared file has (a refused link type, a pcapng mixing interfaces of several link types).
/// </summary>
public class LinkTypeTests
{
    public static TheoryData<CaptureReaderKind> Readers => [CaptureReaderKind.Mapped, CaptureReaderKind.SharpPcap];

    private static string External(string name) =>
        Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "captures", "external", name));

    [Theory]
    [MemberData(nameof(Readers))]
    public void Bsd_loopback_capture_of_a_tftp_read_with_oack_decodes_every_packet(CaptureReaderKind kind)
    {
        // spicy-tftp tftp_oack.pcap, DLT_NULL: RRQ hello.txt blksize 256 → OACK, ACK 0, DATA 1, ACK 1, DATA 2 (last), ACK 2.
        using var reader = CaptureFile.Open(External("spicy-tftp-tftp_oack.pcap"), kind);
        var opcodes = new List<TftpOpcode>();
        var dataLengths = new List<int>();
        string? file = null;
        int? blockSize = null;
        while (reader.TryRead(out _, out var frame, out var linkType))
        {
            Assert.Equal(LinkType.Null, linkType);
            Assert.True(LinkFrame.TryParse(linkType, frame, out var link));
            Assert.Equal(LinkFrame.EtherTypeIPv4, link.EtherType);
            Assert.False(link.HasSourceMac);
            Assert.True(Ipv4Packet.TryParse(link.Payload, out var ip));
            Assert.Equal("127.0.0.1", Ipv4Address.Format(ip.Source));
            Assert.True(UdpDatagram.TryParse(ip.Payload, out var udp));
            Assert.True(TftpPacket.TryParse(udp.Payload, out var tftp));
            opcodes.Add(tftp.Opcode);
            switch (tftp.Opcode)
            {
                case TftpOpcode.ReadRequest:
                    file = WireText.Clean(tftp.FileName);
                    break;
                case TftpOpcode.OptionAcknowledgment:
                    blockSize = tftp.Options.BlockSize;
                    break;
                case TftpOpcode.Data:
                    dataLengths.Add(tftp.Data.Length);
                    break;
            }
        }

        Assert.Null(reader.Damage);
        Assert.Equal(
            [TftpOpcode.ReadRequest, TftpOpcode.OptionAcknowledgment, TftpOpcode.Acknowledgment, TftpOpcode.Data,
             TftpOpcode.Acknowledgment, TftpOpcode.Data, TftpOpcode.Acknowledgment],
            opcodes);
        Assert.Equal("hello.txt", file);
        Assert.Equal(256, blockSize);
        Assert.Equal(256, dataLengths[0]);
        Assert.InRange(dataLengths[1], 1, 255);
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Bsd_loopback_capture_is_analysed_without_errors(CaptureReaderKind kind)
    {
        var report = new CaptureAnalyzer(new TrackerOptions(), kind).Analyze([External("spicy-tftp-tftp_oack.pcap")]);

        Assert.Equal(7, report.Packets);
        Assert.Equal(0, report.Malformed);
        Assert.Equal(0, report.DuplicateFrames);
        Assert.Empty(report.Warnings);
        Assert.Empty(report.Devices); // hello.txt over loopback is no boot
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Arp_under_an_802_1ad_s_tag_and_802_1q_c_tag_is_decoded(CaptureReaderKind kind)
    {
        // tcpdump 802.1ad_QinQ.pcap: ARP inside S-tag 200 + C-tag 2001; a request for .100 from .97 and its reply.
        var path = External("tcpdump-802.1ad_QinQ.pcap");
        using var reader = CaptureFile.Open(path, kind);
        var arps = new List<(ushort Operation, string Sender, string Target, MacAddress SenderMac)>();
        using var filter = BootTrafficFilterTests.Compile(LinkType.Ethernet);
        while (reader.TryRead(out _, out var frame, out var linkType))
        {
            Assert.Equal(LinkType.Ethernet, linkType);
            Assert.True(LinkFrame.TryParse(linkType, frame, out var link));
            Assert.Equal(2, link.VlanTags);
            Assert.Equal(2001, link.VlanId);
            Assert.Equal(200, BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) & 0x0FFF);
            Assert.Equal(LinkFrame.EtherTypeQinQ, BinaryPrimitives.ReadUInt16BigEndian(frame[12..]));
            Assert.Equal(LinkFrame.EtherTypeArp, link.EtherType);
            Assert.True(ArpPacket.TryParse(link.Payload, out var arp));
            arps.Add((arp.Operation, Ipv4Address.Format(arp.SenderIp), Ipv4Address.Format(arp.TargetIp), arp.SenderMac));
            Assert.True(filter.Matches(frame), "the default filter passes ARP under the two tags");
        }

        Assert.Equal(2, arps.Count);
        Assert.Equal((ArpPacket.OperationRequest, "172.21.79.97", "172.21.79.100"), (arps[0].Operation, arps[0].Sender, arps[0].Target));
        Assert.Equal((ArpPacket.OperationReply, "172.21.79.100"), (arps[1].Operation, arps[1].Sender));
        Assert.Equal("00:80:ea:81:88:63", arps[1].SenderMac.ToString());

        var report = new CaptureAnalyzer(new TrackerOptions(), kind).Analyze([path]);
        Assert.Equal(2, report.Packets);
        Assert.Equal(0, report.Malformed);
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Padded_fragments_in_vlan_19_are_counted_as_fragments_not_damage(CaptureReaderKind kind)
    {
        // PcapPlusPlus frag_with_padding.pcap: a 9,401-byte UDP datagram to 224.0.2.2 in 7 later fragments and a
        // padded first fragment that arrives last; all in VLAN 19.
        using var reader = CaptureFile.Open(External("pcapplusplus-frag_with_padding.pcap"), kind);
        var tracker = new BootTracker(new TrackerOptions(), (_, _) => { });
        var fragments = 0;
        while (reader.TryRead(out var at, out var frame, out var linkType))
        {
            Assert.True(LinkFrame.TryParse(linkType, frame, out var link));
            Assert.Equal(19, link.VlanId);
            Assert.True(Ipv4Packet.TryParse(link.Payload, out var ip));
            Assert.Equal("224.0.2.2", Ipv4Address.Format(ip.Destination));
            Assert.True(ip.Datagram.Length <= link.Payload.Length, "the datagram is cut to its total length, padding off");
            fragments += ip.IsFirstFragment || ip.IsNonFirstFragment ? 1 : 0;
            tracker.Process(at, frame, linkType);
        }

        Assert.Equal(8, fragments);
        Assert.Equal(8, tracker.Counters.Packets);
        Assert.Equal(7, tracker.Counters.NonFirstFragments);
        Assert.Equal(0, tracker.Counters.Malformed);
        Assert.Equal(0, tracker.Counters.DuplicateFrames);
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void A_link_type_the_decoder_does_not_read_is_refused_in_one_line(CaptureReaderKind kind)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pvsfleet-linktype-{Guid.NewGuid():N}.pcap");
        try
        {
            var header = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 65535);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 105); // IEEE 802.11
            File.WriteAllBytes(path, header);

            var error = Assert.Throws<CaptureException>(() => CaptureFile.Open(path, kind).Dispose());

            Assert.Contains("link type 105 is not supported", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_pcapng_with_interfaces_of_several_link_types_carries_the_type_with_each_frame()
    {
        var device = MacAddress.Parse("52:54:00:00:00:09");
        var discover = FrameBuilder.Udp(device, FrameBuilder.Broadcast, 0, 0xFFFFFFFF, 68, 67,
            new DhcpBuilder(DhcpMessage.OpRequest, device, 9, DhcpMessageType.Discover).Pxe(7).Build());
        var path = Path.Combine(Path.GetTempPath(), $"pvsfleet-mixed-{Guid.NewGuid():N}.pcapng");
        try
        {
            // Interface 0 Ethernet (a bridge port), 1 SLL2 (-i any), 2 IEEE 802.11 (not read: skipped and reported).
            File.WriteAllBytes(path, PcapNg(
                [LinkType.Ethernet, LinkType.LinuxSll2, (LinkType)105],
                [(0, 1_000_000, discover), (1, 1_000_002, FrameBuilder.Sll2(discover)), (2, 1_000_003, new byte[40]), (0, 2_000_000, discover)]));

            using (var reader = CaptureFile.Open(path, CaptureReaderKind.Mapped))
            {
                var types = new List<LinkType>();
                while (reader.TryRead(out _, out _, out var linkType))
                {
                    types.Add(linkType);
                }

                Assert.Equal([LinkType.Ethernet, LinkType.LinuxSll2, LinkType.Ethernet], types);
            }

            var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([path]);

            Assert.Equal(3, report.Packets);
            Assert.Equal(1, report.DuplicateFrames);
            Assert.Contains(report.Warnings, w => w.Contains("1 frames were skipped: link type 105 is not supported", StringComparison.Ordinal));
            var session = Assert.Single(Assert.Single(report.Devices).Sessions);
            Assert.Equal(1, session.Phases[0].Retries); // the DISCOVER a second later is a retry; its copy on "any" is not
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A little-endian pcapng: one section, the interfaces given, then enhanced packet blocks (µs timestamps).</summary>
    private static byte[] PcapNg(LinkType[] interfaces, (int Interface, long Micros, byte[] Frame)[] packets)
    {
        using var stream = new MemoryStream();
        void Block(uint type, byte[] body)
        {
            var padded = (body.Length + 3) & ~3;
            var block = new byte[12 + padded];
            BinaryPrimitives.WriteUInt32LittleEndian(block, type);
            BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(4), block.Length);
            body.CopyTo(block.AsSpan(8));
            BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(block.Length - 4), block.Length);
            stream.Write(block);
        }

        var section = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(section, 0x1A2B3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(section.AsSpan(4), 1);
        BinaryPrimitives.WriteInt64LittleEndian(section.AsSpan(8), -1);
        Block(0x0A0D0D0A, section);
        foreach (var linkType in interfaces)
        {
            var idb = new byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(idb, (ushort)linkType);
            BinaryPrimitives.WriteInt32LittleEndian(idb.AsSpan(4), 65535);
            Block(1, idb);
        }

        foreach (var (id, micros, frame) in packets)
        {
            var epb = new byte[20 + frame.Length];
            BinaryPrimitives.WriteInt32LittleEndian(epb, id);
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(4), (uint)(micros >> 32));
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(8), (uint)micros);
            BinaryPrimitives.WriteInt32LittleEndian(epb.AsSpan(12), frame.Length);
            BinaryPrimitives.WriteInt32LittleEndian(epb.AsSpan(16), frame.Length);
            frame.CopyTo(epb.AsSpan(20));
            Block(6, epb);
        }

        return stream.ToArray();
    }
}
