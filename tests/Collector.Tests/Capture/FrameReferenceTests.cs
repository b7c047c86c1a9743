using System.Buffers.Binary;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Tests.Capture;

/// <summary>Phase boundaries and problems name the frame Wireshark shows (<c>frame.number == N</c>) and its file.</summary>
public class FrameReferenceTests
{
    /// <summary>Wireshark's frame numbers of the UDP frames to <paramref name="port"/>, read with libpcap, not the tracker.</summary>
    private static List<long> FramesToUdpPort(string path, ushort port)
    {
        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        var numbers = new List<long>();
        for (long number = 1; device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead; number++)
        {
            var data = capture.GetPacket().Data;
            // Untagged Ethernet, IPv4 (no options in these lab frames), UDP: destination port at 14 + 20 + 2.
            if (data.Length > 38 && BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(12)) == 0x0800 && data[23] == 17
                && BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(36)) == port)
            {
                numbers.Add(number);
            }
        }

        return numbers;
    }

    [Fact]
    public void Phase_starts_point_at_the_discover_the_rrq_and_the_last_ack_of_the_lab_bios_boot()
    {
        var path = Repository.Sample("real-bios-1.pcap");
        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([path]);

        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        var tftpClientPort = FramesToUdpPort(path, 69);
        Assert.Equal(new FrameReference("real-bios-1.pcap", FramesToUdpPort(path, 67)[0]), session.Phases[0].StartFrame);
        Assert.Equal(new FrameReference("real-bios-1.pcap", tftpClientPort[0]), session.Phases[1].StartFrame);
        Assert.True(session.Phases[2].StartFrame!.Number > session.Phases[1].StartFrame!.Number + 100, "the logon starts at the ACK of the 51st block");
    }

    [Fact]
    public void Frames_are_numbered_per_file_when_several_files_make_one_recording()
    {
        var dhcp = Repository.External("rs_pxe-intel_efi_dhcp.pcapng");
        var tftp = Repository.External("rs_pxe-intel_efi_tftp.pcapng");
        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([dhcp, tftp]);

        var session = Assert.Single(Assert.Single(report.Devices).Sessions);
        Assert.Equal("rs_pxe-intel_efi_dhcp.pcapng", session.Phases[0].StartFrame!.File);
        Assert.Equal(new FrameReference("rs_pxe-intel_efi_tftp.pcapng", FramesToUdpPort(tftp, 69)[0]), session.Phases[1].StartFrame);
    }

    [Fact]
    public void A_stuck_problem_points_at_the_last_frame_that_made_progress()
    {
        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([Repository.Sample("real-uefi-1.pcap")]);

        var stuck = report.Devices.SelectMany(d => d.Sessions).SelectMany(s => s.Issues).Single(i => i.Kind == BootIssueKind.Stuck);
        var lastAck = report.Devices.SelectMany(d => d.Sessions).Last().Phases.Single(p => p.Name == BootPhase.PvsLogon).StartFrame;
        Assert.Equal(lastAck, stuck.Frame);
    }
}
