using System.Buffers.Binary;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
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

    /// <summary>
    /// What the collector ships when it replays one file names the same frames as <c>analyze</c>: the API and the device
    /// page then show the numbers Wireshark finds in that file.
    /// </summary>
    [Theory]
    [InlineData("real-bios-1.pcap", false)]
    [InlineData("real-uefi-1.pcap", true)]
    public void The_events_of_a_replayed_file_carry_the_frame_numbers_analyze_reports(string sample, bool hasProblems)
    {
        var path = Repository.Sample(sample);
        var report = new CaptureAnalyzer(new TrackerOptions()).Analyze([path]);
        var spoolDirectory = Path.Combine(Path.GetTempPath(), $"pvsfleet-frames-{Guid.NewGuid():N}");
        try
        {
            using var spool = new EventSpool(spoolDirectory);
            var pipeline = new CollectorPipeline(new TrackerOptions(), spool);
            var end = DateTime.MinValue;
            using (var reader = CaptureFile.Open(path))
            {
                while (reader.TryRead(out var timestamp, out var frame, out var linkType))
                {
                    pipeline.Process(timestamp, frame, linkType);
                    pipeline.Tick(timestamp);
                    end = timestamp > end ? timestamp : end;
                }
            }
            pipeline.Finish(end);
            var events = spool.Peek(100_000).OfType<SessionEvent>().ToList();

            foreach (var (mac, analyzed) in report.Devices.SelectMany(d => d.Sessions.Select(s => (d.Mac, s))))
            {
                var snapshot = events.Last(e => e.Session.StartedAt.UtcDateTime == analyzed.Start && string.Equals(e.Session.Mac, mac, StringComparison.OrdinalIgnoreCase)).Session;
                Assert.Equal(analyzed.Phases.Select(p => p.StartFrame?.Number), snapshot.Phases.Select(p => p.StartFrame));
                Assert.All(snapshot.Phases, p => Assert.NotNull(p.StartFrame));
                var shippedIssues = events.OfType<IssueEvent>().Where(e => e.Session.SessionId == snapshot.SessionId).ToList();
                Assert.Equal(analyzed.Issues.Select(i => (i.Kind, i.Frame?.Number)), shippedIssues.Select(i => (i.Kind, i.Frame)));
            }
            Assert.Equal(hasProblems, events.OfType<IssueEvent>().Any(e => e.Frame > 0));
        }
        finally
        {
            Directory.Delete(spoolDirectory, recursive: true);
        }
    }
}
