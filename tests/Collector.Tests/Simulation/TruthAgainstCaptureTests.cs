using System.Buffers.Binary;
using System.Text;
using PvsFleet.Collector.Simulation;
using PvsFleet.Contracts;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Tests.Simulation;

/// <summary>
/// The truth is written from the simulator's intentions; these tests check those intentions landed on the wire:
/// every boundary the truth names falls on a frame of the kind the tracker rules key on.
/// </summary>
public sealed class TruthAgainstCaptureTests : IClassFixture<SimulationOutput>
{
    private readonly SimulationOutput output;

    public TruthAgainstCaptureTests(SimulationOutput output) => this.output = output;

    [Fact]
    public void Phase_boundaries_in_the_truth_fall_on_the_frames_that_mark_them()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("boundaries", devices: 80, seed: 5));
        var frames = ReadFrames(result.CapturePath);

        foreach (var device in result.Truth.Devices)
        {
            foreach (var session in device.Sessions)
            {
                Assert.Contains(frames[session.Start], f => f.IsDhcp(1, device.Mac) && f.VendorClass.StartsWith("PXEClient", StringComparison.Ordinal));
                foreach (var phase in session.Phases.Skip(1))
                {
                    Predicate<WireFrame> marks = phase.Name switch
                    {
                        BootPhase.BootstrapDownload => f => f.SourceIp == session.Ip && f.DestinationPort == 69 && f.TftpOpcode == 1,
                        BootPhase.PvsLogon => f => f.SourceIp == session.Ip && f.TftpOpcode == 4,
                        BootPhase.SingleReadMode => f => f.SourceIp == session.Ip && f.DestinationPort is >= 6910 and <= 6930,
                        _ => f => f.IsDhcp(3, device.Mac) && f.VendorClass == "MSFT 5.0",
                    };
                    Assert.Contains(frames[phase.Start], marks);
                }

                if (session.Outcome == BootOutcome.Failed && session.Issues[0].Kind == BootIssueKind.TftpError)
                    Assert.Contains(frames[session.End!.Value], f => f.DestinationIp == session.Ip && f.TftpOpcode == 5);
                if (session.Outcome == BootOutcome.Booted)
                    Assert.Contains(frames[session.End!.Value], f => f.SourceIp == session.Ip && f.DestinationPort is >= 6910 and <= 6930);
            }
        }
    }

    [Fact]
    public void Ipv4_header_checksums_verify_and_lengths_match_the_frames()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("checksums", devices: 15));
        using var device = new CaptureFileReaderDevice(result.CapturePath);
        device.Open();
        var udpFrames = 0;
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var data = capture.GetPacket().Data;
            Assert.True(data.Length >= 60);
            if (BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(12)) != 0x0800)
                continue;
            var ip = data.AsSpan(14, 20);
            uint sum = 0;
            for (var i = 0; i < 20; i += 2)
                sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
            while (sum > 0xFFFF)
                sum = (sum & 0xFFFF) + (sum >> 16);
            Assert.Equal(0xFFFFu, sum);
            var totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
            Assert.Equal(Math.Max(60, 14 + totalLength), data.Length);
            Assert.Equal(totalLength - 20, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(38)));
            Assert.True(totalLength <= 9000, "fits a jumbo MTU");
            udpFrames++;
        }

        Assert.Equal(result.Packets - 1, udpFrames); // all but the closing ARP
    }

    private static Dictionary<DateTime, List<WireFrame>> ReadFrames(string path)
    {
        var frames = new Dictionary<DateTime, List<WireFrame>>();
        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var raw = capture.GetPacket();
            var micros = (long)raw.Timeval.Seconds * 1_000_000 + (long)raw.Timeval.MicroSeconds;
            var time = DateTime.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond);
            if (WireFrame.TryParse(raw.Data) is { } frame)
                (frames.TryGetValue(time, out var list) ? list : frames[time] = []).Add(frame);
        }

        return frames;
    }

    /// <summary>Just enough decoding to recognise the frames the tracker rules key on.</summary>
    private sealed record WireFrame(string SourceIp, string DestinationIp, int SourcePort, int DestinationPort, byte[] Payload)
    {
        public int TftpOpcode => (SourcePort == 69 || DestinationPort == 69 || SourcePort >= 49152 || DestinationPort >= 49152) && Payload.Length >= 2
            ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : -1;

        public string VendorClass => DhcpOption(60) is { } value ? Encoding.ASCII.GetString(value) : "";

        public bool IsDhcp(int messageType, string mac) =>
            (DestinationPort is 67 or 68) && Payload.Length > 240
            && string.Join(':', Payload.AsSpan(28, 6).ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))) == mac
            && DhcpOption(53) is [var type] && type == messageType;

        private byte[]? DhcpOption(int code)
        {
            if (!(SourcePort is 67 or 68 or 4011 || DestinationPort is 67 or 68 or 4011))
                return null;
            for (var i = 240; i + 1 < Payload.Length && Payload[i] != 255; i += 2 + Payload[i + 1])
            {
                if (Payload[i] == code)
                    return Payload.AsSpan(i + 2, Payload[i + 1]).ToArray();
            }

            return null;
        }

        public static WireFrame? TryParse(byte[] data)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(12)) != 0x0800)
                return null;
            var udpLength = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(38));
            return new WireFrame(
                new System.Net.IPAddress(data.AsSpan(26, 4)).ToString(),
                new System.Net.IPAddress(data.AsSpan(30, 4)).ToString(),
                BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(34)),
                BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(36)),
                data.AsSpan(42, udpLength - 8).ToArray());
        }
    }
}
