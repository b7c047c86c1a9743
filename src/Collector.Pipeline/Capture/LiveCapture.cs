using System.Runtime.InteropServices;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Decoding;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Capture;

/// <summary>
/// Captures from one network interface (a mirror port) with libpcap: promiscuous, with a BPF filter, a large
/// kernel buffer so a burst does not overflow it, and a short read timeout so the clock keeps ticking when the
/// wire is quiet. Errors a person can fix are thrown as <see cref="CaptureException"/> with the fix in them.
/// </summary>
public sealed class LiveCapture : IDisposable
{
    private const int ReadTimeoutMilliseconds = 100;
    private readonly LibPcapLiveDevice device;

    private LiveCapture(LibPcapLiveDevice device, LinkType linkType)
    {
        this.device = device;
        LinkType = linkType;
    }

    public string Name => device.Name;

    /// <summary>Ethernet on a NIC or bridge; Linux cooked (SLL or SLL2) on <c>any</c>; raw IP on a tunnel.</summary>
    public LinkType LinkType { get; }

    public static IReadOnlyList<(string Name, string? Description, IReadOnlyList<string> Addresses)> List() =>
        Devices().Select(d => (d.Name, (string?)d.Description, (IReadOnlyList<string>)d.Addresses
            .Select(a => a.Addr?.ipAddress?.ToString()).OfType<string>().ToList())).ToList();

    /// <param name="bufferBytes">
    /// The kernel ring. It must hold a whole burst while the collector is busy: with 64 MB, a 200,000-frame burst of
    /// storm traffic lost a quarter of its frames on veth, and libpcap's drop counter did not show it (measured with
    /// bench/live-capture.sh); with 1 GB none was lost.
    /// </param>
    /// <param name="filterFor">The BPF filter for the interface's link type: a filter compiles for one link layer.</param>
    public static LiveCapture Open(string name, Func<LinkType, string> filterFor, int bufferBytes)
    {
        ArgumentNullException.ThrowIfNull(filterFor);
        var device = Devices().FirstOrDefault(d => d.Name == name)
            ?? throw new CaptureException($"no capture interface named '{name}'; `interfaces` lists those this machine has: {string.Join(", ", Devices().Select(d => d.Name))}");
        try
        {
            device.Open(new DeviceConfiguration
            {
                Mode = DeviceModes.Promiscuous,
                ReadTimeout = ReadTimeoutMilliseconds,
                BufferSize = bufferBytes,
                Snaplen = 65_535,
            });
        }
        catch (PcapException e)
        {
            throw new CaptureException(IsPermission(e.Message)
                ? $"no permission to capture on {name}: run as root, or grant the capability with `setcap cap_net_raw,cap_net_admin=eip {Environment.ProcessPath}` (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN)"
                : $"cannot open {name}: {e.Message.ReplaceLineEndings(" ")}", e);
        }

        // "any" cannot be promiscuous (libpcap warns and captures anyway): it sees what each interface is set to.
        var linkType = LinkTypes.FromLibPcap((int)device.LinkType);
        if (!LinkTypes.IsSupported(linkType))
        {
            device.Close();
            throw new CaptureException($"cannot capture on {name}: {LinkTypes.Unsupported(linkType)}");
        }

        try
        {
            device.Filter = filterFor((LinkType)linkType);
        }
        catch (PcapException e)
        {
            device.Close();
            throw new CaptureException($"the capture filter does not compile: {e.Message.ReplaceLineEndings(" ")}", e);
        }

        return new LiveCapture(device, (LinkType)linkType);
    }

    /// <summary>Feeds frames into <paramref name="pipeline"/> until cancelled; ticks its clock at least every 100 ms.</summary>
    /// <remarks>
    /// Frames are read with libpcap's <c>pcap_next_ex</c> on SharpPcap's handle directly: SharpPcap's own
    /// <c>GetNextPacket</c> allocates a header and a timestamp object per frame, which capped one core at
    /// ~300–350 k frames/s of storm traffic (bench/live-capture.sh, DRAIN mode).
    /// </remarks>
    /// <param name="interfaceId">This capture's number among the collector's interfaces, for evidence clips.</param>
    public unsafe void Run(CollectorPipeline pipeline, CancellationToken stopping, byte interfaceId = 0)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var handle = device.Handle;
        var linkType = LinkType;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var pcap = handle.DangerousGetHandle();
            var errors = stackalloc byte[256];
            var descriptor = LibPcap.SelectableDescriptor(pcap);
            if (LibPcap.SetNonBlocking(pcap, 1, errors) < 0 || descriptor < 0)
            {
                throw new CaptureException($"cannot read {device.Name} without blocking: {device.LastError}");
            }

            var nextTick = DateTime.UtcNow;
            while (!stopping.IsCancellationRequested)
            {
                var status = LibPcap.NextEx(pcap, out var header, out var data);
                if (status == 1)
                {
                    var h = (LibPcap.PacketHeader*)header;
                    var at = DateTime.UnixEpoch.AddTicks((h->Seconds * TimeSpan.TicksPerSecond) + (h->Microseconds * 10));
                    pipeline.Process(at, new ReadOnlySpan<byte>((void*)data, (int)h->CapturedLength), linkType, interfaceId, (int)h->Length);
                }
                else if (status == 0)
                {
                    LibPcap.WaitReadable(descriptor, ReadTimeoutMilliseconds);
                }
                else
                {
                    throw new CaptureException($"capture on {device.Name} failed: {device.LastError}");
                }

                var now = DateTime.UtcNow;
                if (now >= nextTick)
                {
                    pipeline.Tick(now);
                    nextTick = now.AddSeconds(1);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    public CaptureStatistics Statistics
    {
        get
        {
            var s = device.Statistics;
            return new CaptureStatistics(s.ReceivedPackets, s.DroppedPackets, s.InterfaceDroppedPackets);
        }
    }

    public void Dispose() => device.Close();

    private static LibPcapLiveDeviceList Devices()
    {
        try
        {
            return LibPcapLiveDeviceList.New();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or MarshalDirectiveException)
        {
            throw new CaptureException("libpcap is not installed: install it (Debian/Ubuntu: apt-get install libpcap0.8; RHEL: dnf install libpcap)", e);
        }
    }

    private static bool IsPermission(string message) =>
        message.Contains("permission", StringComparison.OrdinalIgnoreCase) || message.Contains("not permitted", StringComparison.OrdinalIgnoreCase);
}
