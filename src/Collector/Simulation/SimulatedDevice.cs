using PvsFleet.Contracts;

namespace PvsFleet.Collector.Simulation;

/// <summary>
/// One target device of the storm: a lazy, time-ordered script of the frames its boot puts on the wire (and the
/// server's and relay's answers), plus the truth of its sessions, recorded as the script runs.
/// </summary>
/// <remarks>
/// The merge pulls one frame at a time (<see cref="MoveNext"/>, <see cref="Compose"/>), so a device holds only its
/// script position — memory stays flat however many packets the storm has.
/// </remarks>
internal sealed partial class SimulatedDevice
{
    private readonly SimulationOptions options;
    private readonly Random random;
    private readonly IEnumerator<PlannedFrame> script;
    private readonly List<SessionRecorder> sessions = [];
    private readonly RecentPayloads recentPayloads = new();
    private readonly byte[] clientUuid;
    private long lastFrameMicros;

    public SimulatedDevice(int index, bool routed, uint ip, InjectedFailure failure, long startMicros, Random random, SimulationOptions options)
    {
        Index = index;
        Mac = SimulatedNetwork.DeviceMac(options.MacOffset + index);
        MacText = SimulatedNetwork.FormatMac(Mac);
        Routed = routed;
        Ip = ip;
        IpText = SimulatedNetwork.FormatIp(ip);
        Failure = failure;
        StartMicros = startMicros;
        this.random = random;
        this.options = options;
        Firmware = random.Next(2) == 0 ? Firmware.Bios : Firmware.Uefi;
        HostName = $"VDA-{index + 1:D4}";
        clientUuid = CreateUuid(index);
        streamPort = PickStreamPort(random, options);
        tftpFromPort69 = random.NextDouble() < options.Port69TftpShare;
        joinPoint = failure == InjectedFailure.None && !routed && random.NextDouble() < options.JoinedShare
            ? (JoinPoint)random.Next(1, 4)
            : JoinPoint.None;
        recording = joinPoint == JoinPoint.None;
        script = Script().GetEnumerator();
    }

    public int Index { get; }
    public ulong Mac { get; }
    public string MacText { get; }
    public bool Routed { get; }
    public uint Ip { get; }
    public string IpText { get; }
    public InjectedFailure Failure { get; }
    public Firmware Firmware { get; }
    public string HostName { get; }
    public long StartMicros { get; }

    public IReadOnlyList<SessionRecorder> Sessions => sessions;

    public PlannedFrame Current => script.Current;

    /// <summary>Advances to the next frame; false when the device has gone quiet for good.</summary>
    public bool MoveNext()
    {
        // A device joined mid-boot plays its script from the start, but the frames before its join point are not recorded.
        do
        {
            if (!script.MoveNext())
                return false;
        }
        while (!recording);

        if (script.Current.Micros < lastFrameMicros)
            throw new InvalidOperationException($"device {MacText} planned a frame before its previous one");
        lastFrameMicros = script.Current.Micros;
        return true;
    }

    /// <summary>
    /// When the capture may end at the earliest: for a device left hanging, late enough that its silence exceeds the
    /// current phase's stuck threshold by 5 s, so the tracker's verdict cannot hinge on microseconds.
    /// </summary>
    public long RequiredCaptureEnd()
    {
        var last = sessions[^1];
        if (!last.IsOpen)
            return lastFrameMicros;
        var threshold = SessionRecorder.ThresholdMicros(last.Phase, options.Tracker);
        return threshold == long.MaxValue ? lastFrameMicros : lastFrameMicros + threshold + 5 * SimulationClock.MicrosPerSecond;
    }

    private static byte[] CreateUuid(int index)
    {
        // Option 97: type 0 followed by the SMBIOS UUID; QEMU-style, unique per device.
        var uuid = new byte[17];
        BitConverter.TryWriteBytes(uuid.AsSpan(1), 0x564D_0000_0000_0000UL | (ulong)(uint)index);
        BitConverter.TryWriteBytes(uuid.AsSpan(9), 0x5049_5845_0000_0000UL | (ulong)(uint)(index * 2654435761u));
        return uuid;
    }

    /// <summary>The login server keeps some devices on its own port and hands the others another stream port.</summary>
    private static int PickStreamPort(Random random, SimulationOptions options)
    {
        var ports = options.Tracker.Ports;
        if (random.NextDouble() < options.LoginPortStreamingShare || ports.StreamPortFirst == ports.StreamPortLast)
            return ports.LogonPort;
        while (true)
        {
            var port = random.Next(ports.StreamPortFirst, ports.StreamPortLast + 1);
            if (port != ports.LogonPort)
                return port;
        }
    }

    /// <summary>Where the recording of a device already booting begins.</summary>
    private enum JoinPoint
    {
        None,
        BootstrapRequest,
        Logon,
        SingleRead,
    }
}
