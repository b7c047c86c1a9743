using System.Buffers.Binary;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Evidence;
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

    /// <summary>
    /// The clip renumbers its frames from 1, so each packet's comment names the frame of the recording it was: the
    /// same number the events (and so the device page) give for the phase it begins or the problem it shows.
    /// </summary>
    [Fact]
    public void A_clips_packets_name_the_frames_the_events_name()
    {
        var spoolDirectory = Path.Combine(Path.GetTempPath(), $"pvsfleet-clip-frames-{Guid.NewGuid():N}");
        try
        {
            using var spool = new EventSpool(spoolDirectory);
            var clips = new List<EvidenceClip>();
            var pipeline = new CollectorPipeline(new TrackerOptions(), spool, evidence: new EvidenceCollector(new EvidenceOptions(), clips.Add));
            var end = DateTime.MinValue;
            using (var reader = CaptureFile.Open(Repository.Sample("real-uefi-1.pcap")))
            {
                while (reader.TryRead(out var timestamp, out var frame, out var linkType))
                {
                    pipeline.Process(timestamp, frame, linkType);
                    pipeline.Tick(timestamp);
                    end = timestamp > end ? timestamp : end;
                }
            }
            pipeline.Finish(end);
            pipeline.Tick(end.AddMinutes(10));

            var events = spool.Peek(100_000).OfType<SessionEvent>().ToList();
            // The lab UEFI device's first boot fails (PXE restarts), its second is stuck: a clip each.
            Assert.Equal(2, clips.Count);
            var issuesSeen = 0;
            foreach (var clip in clips)
            {
                var comments = PacketComments(clip.Pcapng);
                Assert.Equal(clip.Frames, comments.Count);
                Assert.All(comments, c => Assert.StartsWith("frame ", c, StringComparison.Ordinal));
                var numbers = comments.Select(c => long.Parse(c.Split(' ', ':')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(numbers.Order(), numbers);

                var snapshot = events.Last(e => e.Session.SessionId == clip.SessionId).Session;
                foreach (var phase in snapshot.Phases)
                {
                    Assert.True(comments.Any(c => c.StartsWith($"frame {phase.StartFrame}: ", StringComparison.Ordinal) && c.Contains($"{phase.Phase} begins", StringComparison.Ordinal)),
                        $"{phase.Phase} at frame {phase.StartFrame}: {string.Join(" | ", comments.Where(c => c.Contains(':', StringComparison.Ordinal)))}");
                }
                foreach (var issue in events.OfType<IssueEvent>().Where(e => e.Session.SessionId == clip.SessionId && e.Frame is not null))
                {
                    // A restart of PXE is seen at the next boot's DISCOVER, which belongs to that boot's clip, not this one.
                    if (issue.Frame > numbers[^1])
                    {
                        Assert.Equal(BootIssueKind.PxeRestarted, issue.Kind);
                        continue;
                    }

                    issuesSeen++;
                    Assert.True(comments.Any(c => c.StartsWith($"frame {issue.Frame}: ", StringComparison.Ordinal) && c.Contains(issue.Kind.ToString(), StringComparison.Ordinal)),
                        $"{issue.Kind} at frame {issue.Frame}: {string.Join(" | ", comments.Where(c => c.Contains(':', StringComparison.Ordinal)))}");
                }
            }
            Assert.True(issuesSeen > 0, "no problem named a frame");
        }
        finally
        {
            Directory.Delete(spoolDirectory, recursive: true);
        }
    }

    /// <summary>The opt_comment (option 1) of each enhanced packet block, read from the bytes rather than by the writer.</summary>
    private static List<string> PacketComments(byte[] file)
    {
        var comments = new List<string>();
        for (var offset = 0; offset < file.Length;)
        {
            var type = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset));
            var length = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(offset + 4));
            if (type == 6)
            {
                var captured = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(offset + 20));
                var option = offset + 28 + ((captured + 3) & ~3);
                string? comment = null;
                while (option < offset + length - 4)
                {
                    var code = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(option));
                    var size = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(option + 2));
                    if (code == 0)
                    {
                        break;
                    }
                    if (code == 1)
                    {
                        comment = System.Text.Encoding.UTF8.GetString(file, option + 4, size);
                    }
                    option += 4 + ((size + 3) & ~3);
                }
                comments.Add(comment ?? "");
            }
            offset += length;
        }

        return comments;
    }
}
