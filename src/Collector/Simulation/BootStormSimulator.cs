using System.Diagnostics;
using System.Globalization;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// Writes a realistic PVS boot storm as a pcapng capture, plus the ground truth a tracker must report for it
/// (<c>storm.pcapng</c> → <c>storm.truth.json</c>).
/// </summary>
/// <remarks>
/// Every device is a lazy script of frames; a priority queue keyed by (time, device) merges them into one
/// time-ordered capture, and one reused buffer holds the frame being written. Memory grows with the number of
/// devices, never with the number of packets. The same options (and seed) always give the same bytes.
/// </remarks>
public static class BootStormSimulator
{
    /// <summary>Room for the largest frame: a jumbo stream burst (8,192-byte payload plus headers).</summary>
    private const int FrameBufferLength = 16 * 1024;

    public static SimulationResult Run(SimulationOptions options, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var stopwatch = Stopwatch.StartNew();
        var devices = CreateDevices(options);
        var capturePath = Path.GetFullPath(options.OutputPath);
        var truthPath = Path.ChangeExtension(capturePath, ".truth.json");
        Directory.CreateDirectory(Path.GetDirectoryName(capturePath)!);

        long firstFrame;
        long captureEnd;
        long packets;
        long bytes;
        long copies;
        using (var writer = new PcapNgWriter(capturePath, linkType: options.LinkType))
        {
            var output = new CaptureOutput(writer, options.LinkType, options.Copies, FrameBufferLength);
            (firstFrame, var lastDeviceFrame) = MergeDeviceScripts(devices, output, writer, progress);

            // The capture runs on until every hanging device is unambiguously stuck; one server ARP marks the end.
            captureEnd = devices.Max(device => device.RequiredCaptureEnd());
            captureEnd = Math.Max(captureEnd, lastDeviceFrame + SimulationClock.MicrosPerSecond);
            var frame = new byte[EthernetUdpFrame.MinimumFrameLength];
            var length = EthernetUdpFrame.WriteArpAnnouncement(frame, SimulatedNetwork.ServerMac, SimulatedNetwork.ServerIp);
            output.Write(captureEnd, frame.AsSpan(0, length));
            packets = writer.Packets;
            bytes = writer.Bytes;
            copies = output.Copies;
        }

        var truth = BuildTruth(devices, options, firstFrame, captureEnd, packets) with { DuplicateFrames = copies };
        File.WriteAllText(truthPath, ReportJson.Serialize(truth));
        var injected = devices
            .OrderBy(device => device.MacText, StringComparer.Ordinal)
            .Select(device => new InjectedDevice(device.MacText, device.Failure))
            .ToArray();
        stopwatch.Stop();
        progress?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"simulate: {devices.Length} devices, {packets} packets, {bytes / (1024 * 1024)} MiB in {stopwatch.Elapsed.TotalSeconds:F1} s → {capturePath}"));
        return new SimulationResult(capturePath, truthPath, packets, bytes, stopwatch.Elapsed, truth, injected);
    }

    /// <summary>Pulls frames from the device whose next frame is earliest; returns the first and last frame times.</summary>
    private static (long First, long Last) MergeDeviceScripts(SimulatedDevice[] devices, CaptureOutput output, PcapNgWriter writer, TextWriter? progress)
    {
        var queue = new PriorityQueue<SimulatedDevice, (long Micros, int Index)>(devices.Length);
        foreach (var device in devices)
        {
            if (device.MoveNext())
                queue.Enqueue(device, (device.Current.Micros, device.Index));
        }

        var buffer = new byte[FrameBufferLength];
        long first = long.MaxValue, last = long.MinValue;
        var finished = devices.Length - queue.Count;
        var reportEvery = Math.Max(1, devices.Length / 10);
        while (queue.TryDequeue(out var device, out _))
        {
            // Stay with this device while its next frame still comes first: bursts skip the heap entirely.
            bool more;
            do
            {
                var planned = device.Current;
                var length = device.Compose(planned, buffer);
                more = device.MoveNext();
                output.WriteWithCopies(planned.Micros, buffer.AsSpan(0, length), NextFrameMicros(device, more, queue));
                first = Math.Min(first, planned.Micros);
                last = planned.Micros;
            }
            while (more && ComesFirst(device, queue));

            if (more)
            {
                queue.Enqueue(device, (device.Current.Micros, device.Index));
                continue;
            }

            finished++;
            if (progress is not null && finished % reportEvery == 0)
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulate: {finished}/{devices.Length} devices done, {writer.Packets} packets"));
        }

        return (first, last);
    }

    /// <summary>When the capture's next frame is due: this device's next one or the earliest of the others.</summary>
    private static long NextFrameMicros(SimulatedDevice device, bool more, PriorityQueue<SimulatedDevice, (long Micros, int Index)> queue)
    {
        var next = more ? device.Current.Micros : long.MaxValue;
        return queue.TryPeek(out _, out var other) ? Math.Min(next, other.Micros) : next;
    }

    private static bool ComesFirst(SimulatedDevice device, PriorityQueue<SimulatedDevice, (long Micros, int Index)> queue)
    {
        if (!queue.TryPeek(out _, out var next))
            return true;
        var micros = device.Current.Micros;
        return micros < next.Micros || (micros == next.Micros && device.Index < next.Index);
    }

    private static SimulatedDevice[] CreateDevices(SimulationOptions options)
    {
        var failures = AssignFailures(options);
        var start = SimulationClock.ToMicros(options.Start);
        var staggerMicros = (long)(options.StaggerSeconds * SimulationClock.MicrosPerSecond);
        var devices = new SimulatedDevice[options.Devices];
        int directHosts = 0, routedHosts = 0;
        for (var index = 0; index < devices.Length; index++)
        {
            var random = new Random(unchecked(options.Seed * 1_000_003 + index));
            var routed = random.NextDouble() < options.RelayedShare;
            var host = routed ? routedHosts++ : directHosts++;
            if (host >= SimulatedNetwork.HostsPerHalf)
                throw new ArgumentOutOfRangeException(nameof(options), $"more than {SimulatedNetwork.HostsPerHalf} devices on one subnet");
            var ip = SimulatedNetwork.DeviceIp(routed, host);
            var powerOn = start + (long)(random.NextDouble() * staggerMicros);
            devices[index] = new SimulatedDevice(index, routed, ip, failures[index], powerOn, random, options);
        }

        return devices;
    }

    /// <summary>Round(Devices × FailureShare) devices, chosen at random, get the failure kinds in turn.</summary>
    private static InjectedFailure[] AssignFailures(SimulationOptions options)
    {
        var failures = new InjectedFailure[options.Devices];
        var kinds = Enum.GetValues<InjectedFailure>().Where(kind => kind != InjectedFailure.None).ToArray();
        var failing = (int)Math.Round(options.Devices * options.FailureShare, MidpointRounding.AwayFromZero);
        var order = Enumerable.Range(0, options.Devices).ToArray();
        new Random(options.Seed).Shuffle(order);
        for (var i = 0; i < failing; i++)
            failures[order[i]] = kinds[i % kinds.Length];
        return failures;
    }

    private static AnalysisReport BuildTruth(SimulatedDevice[] devices, SimulationOptions options, long captureStart, long captureEnd, long packets)
    {
        var reports = devices
            .OrderBy(device => device.MacText, StringComparer.Ordinal)
            .Select(device => new DeviceReport(device.MacText, device.Sessions
                .OrderBy(session => session.Start)
                .Select(session => session.ToReport(captureEnd, options.Tracker))
                .ToArray()))
            .ToArray();
        return new AnalysisReport(SimulationClock.ToDateTime(captureStart), SimulationClock.ToDateTime(captureEnd), packets, 0, reports);
    }

    private static void Validate(SimulationOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Devices, 1, nameof(options.Devices));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SingleReadIos, 1, nameof(options.SingleReadIos));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BniStackIos, 1, nameof(options.BniStackIos));
        ArgumentOutOfRangeException.ThrowIfNegative(options.StaggerSeconds, nameof(options.StaggerSeconds));
        // The devices' MACs are 52:54:00 plus three bytes: offset + n + 1 must stay within them.
        if (options.MacOffset < 0 || options.MacOffset > 0xFF_FFFF - options.Devices)
            throw new ArgumentOutOfRangeException(nameof(options), $"MacOffset must be between 0 and {0xFF_FFFF - options.Devices} for {options.Devices} devices");
        if (options.FailureShare is < 0 or > 1 || double.IsNaN(options.FailureShare))
            throw new ArgumentOutOfRangeException(nameof(options), "FailureShare must be between 0 and 1");
        if (options.RelayedShare is < 0 or > 1 || double.IsNaN(options.RelayedShare))
            throw new ArgumentOutOfRangeException(nameof(options), "RelayedShare must be between 0 and 1");
        foreach (var (share, name) in new[] { (options.Port69TftpShare, nameof(options.Port69TftpShare)),
                     (options.LoginPortStreamingShare, nameof(options.LoginPortStreamingShare)), (options.JoinedShare, nameof(options.JoinedShare)) })
        {
            if (share is < 0 or > 1 || double.IsNaN(share))
                throw new ArgumentOutOfRangeException(nameof(options), $"{name} must be between 0 and 1");
        }

        if (string.IsNullOrWhiteSpace(options.OutputPath))
            throw new ArgumentException("OutputPath is required", nameof(options));
        options.Tracker.Validate();
        if (options.Copies is < 0 or > SimulationOptions.MaxCopies)
            throw new ArgumentOutOfRangeException(nameof(options), $"Copies must be between 0 and {SimulationOptions.MaxCopies}");
        if (options.LinkType is not (LinkType.Ethernet or LinkType.LinuxSll2))
            throw new ArgumentOutOfRangeException(nameof(options), "the simulator writes Ethernet or Linux cooked v2 (SLL2) captures");
        if (options.BniStackTargetPorts.Count == 0)
            throw new ArgumentException("at least one BNIStack target port is required", nameof(options));
    }
}
