using BenchmarkDotNet.Attributes;
using PacketDotNet;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Benchmarks;

/// <summary>
/// Why the collector parses by hand instead of with PacketDotNet: the same question — which DHCP client sent
/// this frame, and to which UDP port does this frame go — answered over the frames of a real PXE boot.
/// </summary>
[MemoryDiagnoser]
public class DecoderBenchmarks
{
    private byte[][] frames = [];

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(FindRoot(), "samples", "captures", "real-uefi-1.pcap");
        using var reader = CaptureFile.Open(path, CaptureReaderKind.Mapped);
        var list = new List<byte[]>();
        while (reader.TryRead(out _, out var frame))
        {
            list.Add(frame.ToArray());
        }

        frames = [.. list];
    }

    [Benchmark(Baseline = true)]
    public long SpanDecoders()
    {
        long sum = 0;
        foreach (var frame in frames)
        {
            if (!EthernetFrame.TryParse(frame, out var ethernet) || !Ipv4Packet.TryParse(ethernet.Payload, out var ip)
                || ip.Protocol != Ipv4Packet.ProtocolUdp || !UdpDatagram.TryParse(ip.Payload, out var udp))
            {
                continue;
            }

            sum += udp.DestinationPort;
            if (udp.DestinationPort is 67 or 68 && DhcpMessage.TryParse(udp.Payload, out var dhcp))
            {
                sum += (long)dhcp.ClientMac.Value + (byte)dhcp.Options.MessageType;
            }
        }

        return sum;
    }

    [Benchmark]
    public long PacketDotNet()
    {
        long sum = 0;
        foreach (var frame in frames)
        {
            var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame);
            var udp = packet.Extract<UdpPacket>();
            if (udp is null)
            {
                continue;
            }

            sum += udp.DestinationPort;
            if (udp.DestinationPort is 67 or 68 && packet.Extract<DhcpV4Packet>() is { } dhcp)
            {
                sum += BitConverter.ToInt64([.. dhcp.ClientHardwareAddress.GetAddressBytes(), 0, 0]) + (byte)dhcp.MessageType;
            }
        }

        return sum;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PvsFleet.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run from inside the repository");
    }

}
