using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Tests.Support;

/// <summary>
/// A scripted boot on a lab network, fed frame by frame into a real <see cref="BootTracker"/>.
/// Times are seconds from the scenario's start.
/// </summary>
internal sealed class BootScenario
{
    public static readonly DateTime Origin = new(2026, 1, 5, 7, 0, 0, DateTimeKind.Utc);
    public static readonly MacAddress Device = MacAddress.Parse("52:54:00:00:00:01");
    public static readonly MacAddress Server = MacAddress.Parse("32:af:85:d8:16:be");
    public static readonly MacAddress Relay = MacAddress.Parse("00:00:5e:00:01:01");
    public static readonly uint ServerIp = Ipv4Address.Parse("10.1.1.1");
    public static readonly uint DeviceIp = Ipv4Address.Parse("10.1.1.156");
    public static readonly uint RelayIp = Ipv4Address.Parse("10.2.0.1");

    private readonly List<(DateTime At, byte[] Frame)> frames = [];
    private double now;

    public TrackerOptions Options { get; init; } = new();

    /// <summary>The frames in time order, for tests that drive a tracker by hand.</summary>
    public IReadOnlyList<byte[]> Frames => frames.OrderBy(f => f.At).Select(f => f.Frame).ToList();

    public BootScenario At(double seconds)
    {
        now = seconds;
        return this;
    }

    public DateTime Time(double seconds) => Origin.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    public BootScenario Add(byte[] frame)
    {
        frames.Add((Time(now), frame));
        return this;
    }

    // ---------------------------------------------------------------- DHCP

    public BootScenario ClientDhcp(DhcpBuilder message, ushort dstPort = 67, uint dstIp = 0xFFFFFFFF) =>
        Add(FrameBuilder.Udp(Device, FrameBuilder.Broadcast, 0, dstIp, 68, dstPort, message.Build()));

    public BootScenario Discover(uint xid, ushort secs = 0, ushort arch = 0) =>
        ClientDhcp(new DhcpBuilder(DhcpMessage.OpRequest, Device, xid, DhcpMessageType.Discover).Secs(secs).Pxe(arch));

    public BootScenario Request(uint xid, ushort secs = 0, ushort arch = 0) =>
        ClientDhcp(new DhcpBuilder(DhcpMessage.OpRequest, Device, xid, DhcpMessageType.Request).Secs(secs).Pxe(arch)
            .Address(50, DeviceIp).Address(54, ServerIp));

    public BootScenario ServerDhcp(DhcpBuilder message, ushort srcPort = 67) =>
        Add(FrameBuilder.Udp(Server, FrameBuilder.Broadcast, ServerIp, 0xFFFFFFFF, srcPort, 68, message.Build()));

    public BootScenario Offer(uint xid, string bootFile = "ARDBP32.bin") =>
        ServerDhcp(new DhcpBuilder(DhcpMessage.OpReply, Device, xid, DhcpMessageType.Offer).YourAddress(DeviceIp)
            .ServerAddress(ServerIp).Address(54, ServerIp).Option(67, bootFile));

    public BootScenario Ack(uint xid, string bootFile = "ARDBP32.bin") =>
        ServerDhcp(new DhcpBuilder(DhcpMessage.OpReply, Device, xid, DhcpMessageType.Ack).YourAddress(DeviceIp)
            .ServerAddress(ServerIp).Address(54, ServerIp).Option(67, bootFile));

    public BootScenario Nak(uint xid) =>
        ServerDhcp(new DhcpBuilder(DhcpMessage.OpReply, Device, xid, DhcpMessageType.Nak).Address(54, ServerIp));

    /// <summary>The OS's DHCP once Windows' network stack is up: BNIStack.</summary>
    public BootScenario WindowsRequest(uint xid, string hostName = "VDA-0001") =>
        ClientDhcp(new DhcpBuilder(DhcpMessage.OpRequest, Device, xid, DhcpMessageType.Request)
            .Option(60, "MSFT 5.0").Option(12, hostName).Address(50, DeviceIp));

    /// <summary>PXE's IP acquisition, the way the lab firmware does it.</summary>
    public BootScenario Dhcp(uint xid, double start, ushort arch = 0, string bootFile = "ARDBP32.bin") =>
        At(start).Discover(xid, arch: arch).At(start + 0.5).Offer(xid, bootFile).At(start + 0.6).Request(xid, arch: arch)
            .At(start + 0.7).Ack(xid, bootFile);

    // ---------------------------------------------------------------- TFTP

    public BootScenario DeviceUdp(ushort srcPort, ushort dstPort, byte[] payload) =>
        Add(FrameBuilder.Udp(Device, Server, DeviceIp, ServerIp, srcPort, dstPort, payload));

    public BootScenario ServerUdp(ushort srcPort, ushort dstPort, byte[] payload) =>
        Add(FrameBuilder.Udp(Server, Device, ServerIp, DeviceIp, srcPort, dstPort, payload));

    /// <summary>A datagram between the device and another server of the farm (a second PVS server).</summary>
    public BootScenario WithServer(uint server, ushort srcPort, ushort dstPort, byte[] payload, bool fromDevice) => fromDevice
        ? Add(FrameBuilder.Udp(Device, Server, DeviceIp, server, srcPort, dstPort, payload))
        : Add(FrameBuilder.Udp(Server, Device, server, DeviceIp, srcPort, dstPort, payload));

    public BootScenario ReadRequest(ushort clientPort, string file, params string[] options) =>
        DeviceUdp(clientPort, 69, FrameBuilder.Tftp(1, [file, "octet", .. options]));

    public BootScenario OptionAck(ushort serverPort, ushort clientPort, params string[] options) =>
        ServerUdp(serverPort, clientPort, FrameBuilder.Tftp(6, [.. options]));

    public BootScenario Data(ushort serverPort, ushort clientPort, ushort block, int length) =>
        ServerUdp(serverPort, clientPort, FrameBuilder.Tftp(3, block, new byte[length]));

    public BootScenario TftpAck(ushort clientPort, ushort serverPort, ushort block) =>
        DeviceUdp(clientPort, serverPort, FrameBuilder.Tftp(4, block));

    public BootScenario TftpError(bool fromDevice, ushort code, string message, ushort clientPort, ushort serverPort)
    {
        var payload = FrameBuilder.Tftp(5, code, message);
        return fromDevice ? DeviceUdp(clientPort, serverPort, payload) : ServerUdp(serverPort, clientPort, payload);
    }

    /// <summary>A whole lock-step download of <paramref name="blocks"/> blocks, 1 ms apart, the last one short.</summary>
    public BootScenario Download(double start, string file = "ARDBP32.bin", int blocks = 51, int blockSize = 1432, ushort clientPort = 2070, ushort serverPort = 40000)
    {
        At(start).ReadRequest(clientPort, file, "blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "tsize", "0");
        At(start + 0.001).OptionAck(serverPort, clientPort, "blksize", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "tsize", "72292");
        At(start + 0.002).TftpAck(clientPort, serverPort, 0);
        for (var block = 1; block <= blocks; block++)
        {
            var t = start + 0.002 + (block * 0.001);
            At(t).Data(serverPort, clientPort, (ushort)block, block == blocks ? blockSize / 2 : blockSize);
            At(t + 0.0005).TftpAck(clientPort, serverPort, (ushort)block);
        }

        return this;
    }

    public static double DownloadEnd(double start, int blocks = 51) => start + 0.002 + (blocks * 0.001) + 0.0005;

    // ---------------------------------------------------------------- PVS

    public BootScenario Logon(int sequence, ushort devicePort = 6901) => DeviceUdp(devicePort, 6910, Payload(0x10, sequence, 120));

    public BootScenario Read(int sequence, ushort devicePort = 6901, ushort streamPort = 6915) => DeviceUdp(devicePort, streamPort, Payload(0x20, sequence, 64));

    public BootScenario Burst(int sequence, ushort devicePort = 6901, ushort streamPort = 6915) => ServerUdp(streamPort, devicePort, Payload(0x21, sequence, 1464));

    /// <summary>A read to, and its data from, another PVS server than the login server.</summary>
    public BootScenario ReadFrom(uint server, int sequence, ushort devicePort = 6901, ushort streamPort = 6915) =>
        WithServer(server, devicePort, streamPort, Payload(0x20, sequence, 64), fromDevice: true);

    public BootScenario BurstFrom(uint server, int sequence, ushort devicePort = 6901, ushort streamPort = 6915) =>
        WithServer(server, streamPort, devicePort, Payload(0x21, sequence, 1464), fromDevice: false);

    private static byte[] Payload(byte kind, int sequence, int length)
    {
        var payload = new byte[length];
        payload[0] = kind;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), sequence);
        return payload;
    }

    // ---------------------------------------------------------------- run

    /// <summary>
    /// Every frame so far captured <paramref name="copies"/> more times, <paramref name="apart"/> after each other,
    /// as a capture on several interfaces at once records it; <paramref name="rewrite"/> may change the copy's
    /// link layer (copy number from 1).
    /// </summary>
    public BootScenario CapturedAgain(int copies, TimeSpan apart, Func<byte[], int, byte[]>? rewrite = null)
    {
        foreach (var (at, frame) in frames.ToList())
        {
            for (var copy = 1; copy <= copies; copy++)
            {
                frames.Add((at + (apart * copy), rewrite?.Invoke(frame, copy) ?? frame));
            }
        }

        return this;
    }

    /// <summary>The events the collector would ship for the scenario: the tracker feeds the real <see cref="PvsFleet.Collector.Shipping.SessionEvents"/>.</summary>
    public List<PvsFleet.Contracts.Ingest.IngestEvent> Events()
    {
        var events = new List<PvsFleet.Contracts.Ingest.IngestEvent>();
        var tracker = new BootTracker(Options, new PvsFleet.Collector.Shipping.SessionEvents(events.Add).OnSessionChanged);
        var ordered = frames.OrderBy(f => f.At).ToList();
        foreach (var (at, frame) in ordered)
        {
            tracker.Process(at, frame);
            tracker.Advance(at);
        }

        tracker.Finish(ordered[^1].At);
        return events;
    }

    /// <summary>Feeds every frame in time order, advancing the clock as analyze does, and judges at the last frame.</summary>
    public AnalysisReport Run(double? captureEnd = null)
    {
        var builder = new ReportBuilder();
        var tracker = new BootTracker(Options, builder.OnSessionChanged);
        var ordered = frames.Where(f => captureEnd is null || f.At <= Time(captureEnd.Value)).OrderBy(f => f.At).ToList();
        foreach (var (at, frame) in ordered)
        {
            tracker.Process(at, frame);
            tracker.Advance(at);
        }

        var end = captureEnd is { } seconds ? Time(seconds) : ordered[^1].At;
        tracker.Advance(end);
        tracker.Finish(end);
        return builder.Build(ordered[0].At, end, tracker.Counters, []);
    }
}
