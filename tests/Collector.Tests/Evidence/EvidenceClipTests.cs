using System.Diagnostics;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Simulation;
using PvsFleet.Collector.Tests.Simulation;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Tests.Evidence;

/// <summary>
/// The evidence clip of a failed boot, read back by libpcap (SharpPcap) and tshark, must hold that session's frames as the
/// tracker attributed them: in order, with their bytes, original timestamps and link type.
/// </summary>
public sealed class EvidenceClipTests(SimulationOutput output) : IClassFixture<SimulationOutput>
{
    /// <summary>Bounds so wide that nothing is let go: the clip must then be every frame of the session.</summary>
    private static readonly EvidenceOptions Unbounded = new()
    {
        MaxBytes = 256L << 20, MaxBytesPerDevice = 64 << 20, StreamFrames = 1_000_000, TransferFrames = 1_000_000,
        SnapLength = 65_535, ControlSnapLength = 65_535,
    };

    [Theory]
    [InlineData(LinkType.Ethernet)]
    [InlineData(LinkType.LinuxSll2)]
    public void A_failed_boots_clip_holds_exactly_its_frames_with_their_timestamps_and_link_type(LinkType linkType)
    {
        var storm = BootStormSimulator.Run(output.SmallStorm($"evidence-{linkType}", devices: 60, seed: 11) with { FailureShare = 0.5, LinkType = linkType });

        var run = Recording.Run(storm.CapturePath, Unbounded);

        var clipped = run.Ended.Where(e => e.Value.Outcome is BootOutcome.Failed or BootOutcome.Stuck).Select(e => e.Key).ToHashSet();
        Assert.Equal(clipped.Order(), run.Clips.Select(c => c.SessionId).Order());
        Assert.Contains(run.Clips, c => c.Reason == ClipReason.Failed);
        Assert.Contains(run.Clips, c => c.Reason == ClipReason.Stuck);
        Assert.Contains(run.Clips, c => c.Reason == ClipReason.BootLoop);

        // Healthy devices get no clip; every device with a planted failure gets at least one.
        var healthy = storm.Injected.Where(d => d.Failure == InjectedFailure.None).Select(d => d.Mac).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain(run.Clips, c => healthy.Contains(c.Mac.ToString()));
        foreach (var failing in storm.Injected.Where(d => d.Failure is not (InjectedFailure.None or InjectedFailure.RetransmitStorm)))
        {
            Assert.Contains(run.Clips, c => string.Equals(c.Mac.ToString(), failing.Mac, StringComparison.OrdinalIgnoreCase));
        }

        foreach (var clip in run.Clips)
        {
            var path = Path.Combine(output.Folder, ClipFiles.Name(clip));
            File.WriteAllBytes(path, clip.Pcapng);
            var expected = run.Attributed[clip.SessionId];
            var read = ReadBack(path, linkType);
            Assert.Equal(expected.Count, read.Count);
            Assert.Equal(expected.Count, clip.Frames);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Bytes, read[i].Bytes);
                Assert.Equal(expected[i].Timestamp, read[i].Timestamp);
            }

            Assert.Equal(expected[0].Timestamp, clip.FirstFrameAt);
            Assert.Equal(expected[^1].Timestamp, clip.LastFrameAt);
        }

        AssertTsharkReads(run.Clips[0], expected: run.Attributed[run.Clips[0].SessionId]);
    }

    [Fact]
    public void A_clip_keeps_every_control_frame_and_only_the_last_streaming_frames()
    {
        var storm = BootStormSimulator.Run(output.SmallStorm("evidence-ring", devices: 60, seed: 11) with { FailureShare = 0.5, SingleReadIos = 30 });
        var options = new EvidenceOptions { StreamFrames = 4, TransferFrames = 2, SnapLength = 96 };

        var run = Recording.Run(storm.CapturePath, options);

        var loops = run.Clips.Where(c => c.Reason == ClipReason.BootLoop).ToList();
        Assert.NotEmpty(loops);
        foreach (var clip in run.Clips)
        {
            var path = Path.Combine(output.Folder, "ring-" + ClipFiles.Name(clip));
            File.WriteAllBytes(path, clip.Pcapng);
            var read = ReadBack(path, LinkType.Ethernet);
            var attributed = run.Attributed[clip.SessionId];

            // The clip is the session's frames in order, some left out, bulk frames cut to the snap length with their length kept.
            var next = 0;
            foreach (var frame in read)
            {
                while (next < attributed.Count && attributed[next].Timestamp != frame.Timestamp)
                    next++;
                Assert.True(next < attributed.Count, $"a frame of {clip.Mac} at {frame.Timestamp:O} is not the session's, or out of order");
                var original = attributed[next].Bytes;
                Assert.Equal(original.Length, frame.OriginalLength);
                Assert.Equal(original.AsSpan(0, frame.Bytes.Length).ToArray(), frame.Bytes);
                next++;
            }

            // Every DHCP frame and every TFTP request is there; the newest frame is there; at most 4 vDisk data bursts frames.
            Assert.Equal(attributed.Count(f => IsDhcpOrTftpRequest(f.Bytes)), read.Count(f => IsDhcpOrTftpRequest(f.Bytes)));
            Assert.Equal(attributed[^1].Timestamp, read[^1].Timestamp);
            Assert.InRange(read.Count(f => IsStreamData(f)), 0, 4);
            Assert.True(read.Count < attributed.Count || attributed.Count < 12, $"{clip.Mac}: nothing was left out of {attributed.Count} frames");
        }

        var loop = ReadBack(Path.Combine(output.Folder, "ring-" + ClipFiles.Name(loops[0])), LinkType.Ethernet);
        Assert.InRange(loop.Count(IsStreamData), 1, 4);
        Assert.All(loop.Where(IsStreamData), f => Assert.Equal(96, f.Bytes.Length));
    }

    [Fact]
    public void Analyze_evidence_writes_a_clip_per_failed_stuck_or_looping_boot_and_none_for_booted_ones()
    {
        var storm = BootStormSimulator.Run(output.SmallStorm("evidence-cli", devices: 40, seed: 5) with { FailureShare = 0.4 });
        var directory = Path.Combine(output.Folder, "cli-clips");

        var analyze = CollectorProcess.Run("analyze", "--json", "--evidence", directory, storm.CapturePath);

        Assert.Equal(0, analyze.ExitCode);
        var report = PvsFleet.Collector.Analysis.ReportJson.Deserialize(analyze.Stdout);
        var bad = report.Devices.SelectMany(d => d.Sessions.Select(s => (d.Mac, s)))
            .Where(x => x.s.Outcome is BootOutcome.Failed or BootOutcome.Stuck).ToList();
        var files = Directory.GetFiles(directory, "*.pcapng");
        Assert.Equal(bad.Count, files.Length);
        foreach (var (mac, _) in bad)
        {
            Assert.Contains(files, f => Path.GetFileName(f).StartsWith(mac.Replace(':', '-'), StringComparison.OrdinalIgnoreCase));
        }

        var booted = report.Devices.Where(d => d.Sessions.All(s => s.Outcome == BootOutcome.Booted)).Select(d => d.Mac.Replace(':', '-')).ToList();
        Assert.NotEmpty(booted);
        Assert.DoesNotContain(files, f => booted.Any(m => Path.GetFileName(f).StartsWith(m, StringComparison.OrdinalIgnoreCase)));
        Assert.All(files, f => Assert.NotEmpty(ReadBack(f, LinkType.Ethernet)));
        Assert.Contains("clips in", analyze.Stderr, StringComparison.Ordinal);
    }

    internal sealed record ReadFrame(DateTime Timestamp, byte[] Bytes, int OriginalLength);

    /// <summary>Reads a clip through libpcap, as Wireshark's own library reads it.</summary>
    private static List<ReadFrame> ReadBack(string path, LinkType linkType)
    {
        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        Assert.Equal((int)linkType, (int)device.LinkType);
        var frames = new List<ReadFrame>();
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var raw = capture.GetPacket();
            frames.Add(new ReadFrame(DateTime.UnixEpoch.AddTicks(((long)raw.Timeval.Seconds * TimeSpan.TicksPerSecond) + ((long)raw.Timeval.MicroSeconds * 10)), raw.Data, capture.Header is PcapHeader header ? (int)header.PacketLength : -1));
        }

        return frames;
    }

    private static void AssertTsharkReads(EvidenceClip clip, List<Recording.Frame> expected)
    {
        if (!File.Exists("/usr/bin/tshark"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "tshark is not installed (.ci/run installs it)");
            return;
        }

        var path = Path.Combine(Path.GetTempPath(), $"pvsfleet-clip-{Guid.NewGuid():N}.pcapng");
        File.WriteAllBytes(path, clip.Pcapng);
        try
        {
            var start = new ProcessStartInfo("tshark", ["-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var tshark = Process.Start(start)!;
            var lines = tshark.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            tshark.WaitForExit();
            Assert.Equal(0, tshark.ExitCode);
            Assert.Equal(expected.Count, lines.Length);
            for (var i = 0; i < lines.Length; i++)
            {
                var fields = lines[i].Split('\t');
                var micros = (expected[i].Timestamp - DateTime.UnixEpoch).Ticks / 10;
                Assert.Equal($"{micros / 1_000_000}.{micros % 1_000_000:D6}", fields[0][..(fields[0].IndexOf('.', StringComparison.Ordinal) + 7)]);
                Assert.Equal(expected[i].Bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[1]);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static bool IsDhcpOrTftpRequest(byte[] frame) =>
        Udp(frame) is var (src, dst, payload)
        && (src is 67 or 68 or 4011 || dst is 67 or 68 or 4011 || (dst == 69 && payload.Length > 2 && payload[1] == 1));

    /// <summary>A vDisk data datagram of the server: a large payload from a Stream Service port.</summary>
    private static bool IsStreamData(ReadFrame frame) =>
        UdpSourcePort(frame.Bytes) is >= 6910 and <= 6930 && frame.OriginalLength >= 1000;

    /// <summary>The UDP source port of an untagged Ethernet IPv4 frame, read from its headers alone (the frame may be cut short).</summary>
    private static int UdpSourcePort(byte[] frame)
    {
        if (frame.Length < 14 + 20 + 8 || frame[12] != 0x08 || frame[13] != 0 || frame[14 + 9] != 17)
            return -1;
        var udp = 14 + ((frame[14] & 0x0F) * 4);
        return (frame[udp] << 8) | frame[udp + 1];
    }

    private static (ushort Src, ushort Dst, byte[] Payload)? Udp(byte[] frame)
    {
        if (!LinkFrame.TryParse(LinkType.Ethernet, frame, out var link) || !Ipv4Packet.TryParse(link.Payload, out var ip)
            || !UdpDatagram.TryParse(ip.Payload, out var udp, allowTruncated: true))
        {
            return null;
        }

        return (udp.SourcePort, udp.DestinationPort, udp.Payload.ToArray());
    }
}

/// <summary>A capture read as the analyzer reads it, with the tracker's attribution of every frame kept for comparison.</summary>
internal sealed class Recording
{
    public sealed record Frame(DateTime Timestamp, byte[] Bytes);

    public Dictionary<Guid, List<Frame>> Attributed { get; } = [];
    public Dictionary<Guid, (MacAddress Mac, BootOutcome Outcome)> Ended { get; } = [];
    public List<EvidenceClip> Clips { get; } = [];
    public required EvidenceCollector Evidence { get; init; }

    public static Recording Run(string path, EvidenceOptions options)
    {
        var clips = new List<EvidenceClip>();
        var evidence = new EvidenceCollector(options, clips.Add);
        var run = new Recording { Evidence = evidence };
        var tracker = new BootTracker(new TrackerOptions(), (session, change) =>
        {
            evidence.OnSessionChanged(session, change);
            if (change == SessionChangeKind.Ended)
                run.Ended[session.Id] = (session.Mac, session.Outcome);
        });
        using var reader = CaptureFile.Open(path, CaptureReaderKind.Mapped);
        var nextSweep = DateTime.MinValue;
        var last = DateTime.MinValue;
        while (reader.TryRead(out var timestamp, out var frame, out var linkType))
        {
            last = timestamp;
            tracker.Process(timestamp, frame, linkType);
            if (tracker.LastFrameSession is { } session)
            {
                if (!run.Attributed.TryGetValue(session.Id, out var frames))
                    run.Attributed[session.Id] = frames = [];
                frames.Add(new Frame(timestamp, frame.ToArray()));
            }

            evidence.OnFrame(tracker, timestamp, frame, linkType);
            if (timestamp >= nextSweep)
            {
                tracker.Advance(timestamp);
                nextSweep = timestamp.AddSeconds(1);
            }
        }

        tracker.Finish(last);
        evidence.Complete();
        run.Clips.AddRange(clips);
        return run;
    }
}
