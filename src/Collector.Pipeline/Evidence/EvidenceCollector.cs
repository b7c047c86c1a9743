using System.Collections.Concurrent;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Tracking;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Evidence;

/// <summary>
/// Follows the boot tracker and keeps, for each session in flight, a bounded ring of its frames (<see cref="FrameStore"/>):
/// every control frame, the newest TFTP data and streaming frames. When a session ends Failed, Stuck or in a boot loop,
/// its frames become a pcapng clip for <c>sink</c>; a booted session's frames are let go. A clip of a boot in flight can be
/// asked for with <see cref="RequestClip"/> (from any thread).
/// </summary>
/// <remarks>
/// Call <see cref="OnFrame"/> after the tracker processed each frame (it reads <see cref="BootTracker.LastFrameSession"/>)
/// and pass <see cref="OnSessionChanged"/> to the tracker as an observer. A session ended by a frame (a TFTP ERROR) has that
/// frame in its clip: clips are written after the frame is kept, and ends seen by the clock at the next frame or
/// <see cref="Flush"/>. Single-threaded like the tracker, except <see cref="RequestClip"/>.
/// </remarks>
public sealed class EvidenceCollector
{
    private const ushort DhcpServerPort = 67;
    private const ushort DhcpClientPort = 68;
    private const ushort ProxyDhcpPort = 4011;
    private const ushort TftpPort = 69;

    private readonly EvidenceOptions options;
    private readonly Action<EvidenceClip> sink;
    private readonly FrameStore store;
    private readonly Dictionary<BootSession, Ring> rings = new(ReferenceEqualityComparer.Instance);
    private readonly List<Ring> ended = [];
    private readonly ConcurrentQueue<(MacAddress Mac, Guid? Session)> requests = new();
    private readonly string?[] interfaceNames = new string?[256];

    public EvidenceCollector(EvidenceOptions options, Action<EvidenceClip> sink)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        this.sink = sink;
        store = new FrameStore(options.MaxBytes, Counters);
    }

    public EvidenceCounters Counters { get; } = new();

    /// <summary>Devices with frames kept.</summary>
    public int Devices => rings.Count;

    /// <summary>Turns a frame ordinal into a reference a person can find (offline: the file and its frame number).</summary>
    public Func<long, string>? DescribeFrame { get; set; }

    /// <summary>Names an interface for the clips' interface descriptions (the capture device, or the file read).</summary>
    public void NameInterface(byte id, string name) => interfaceNames[id] = name;

    /// <summary>Keeps the frame the tracker just processed, if it belonged to a session.</summary>
    /// <param name="originalLength">The frame's length on the wire when the capture cut it; 0 when it was kept whole.</param>
    public void OnFrame(BootTracker tracker, DateTime timestamp, ReadOnlySpan<byte> frame, LinkType linkType, byte interfaceId = 0, int originalLength = 0)
    {
        ArgumentNullException.ThrowIfNull(tracker);
        if (tracker.LastFrameSession is { } session)
        {
            if (!rings.TryGetValue(session, out var ring))
            {
                ring = new Ring(session);
                rings.Add(session, ring);
            }

            var kind = Classify(session, frame, linkType);
            var keep = kind switch { EvidenceKind.Transfer => options.TransferFrames, EvidenceKind.Stream => options.StreamFrames, _ => 0 };
            var snap = kind == EvidenceKind.Control ? options.ControlSnapLength : options.SnapLength;
            store.Append(ring.Frames, kind, keep, options.MaxBytesPerDevice, timestamp, tracker.Counters.Packets,
                frame[..Math.Min(frame.Length, snap)], originalLength > 0 ? originalLength : frame.Length, linkType, interfaceId);
        }

        if (ended.Count > 0 || !requests.IsEmpty)
        {
            Flush();
        }
    }

    /// <summary>The tracker's observer: a session that ended is clipped or let go at the next frame or flush.</summary>
    public void OnSessionChanged(BootSession session, SessionChangeKind change)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (change != SessionChangeKind.Ended)
        {
            return;
        }

        if (!rings.TryGetValue(session, out var ring))
        {
            // Ended by the frame being processed before any of its frames was kept: that frame is still to come.
            ring = new Ring(session);
            rings.Add(session, ring);
        }

        ring.Ended = true;
        ended.Add(ring);
    }

    /// <summary>Asks for a clip of the device's boot in flight (of that session, when given); it is written at the next frame or flush.</summary>
    public void RequestClip(MacAddress mac, Guid? session = null) => requests.Enqueue((mac, session));

    /// <summary>Writes the clips of sessions that ended and of requests, and lets go of ended sessions' frames.</summary>
    public void Flush()
    {
        foreach (var ring in ended)
        {
            if (ReasonOf(ring.Session) is { } reason && ring.Frames.TotalFrames > 0)
            {
                Emit(ring, reason);
            }

            store.Release(ring.Frames);
            rings.Remove(ring.Session);
        }

        ended.Clear();
        while (requests.TryDequeue(out var request))
        {
            var ring = rings.Values.FirstOrDefault(r => !r.Ended && r.Session.Mac == request.Mac
                && (request.Session is null || r.Session.Id == request.Session));
            if (ring is null || ring.Frames.TotalFrames == 0)
            {
                Counters.RequestsUnmatched++;
                continue;
            }

            Emit(ring, ClipReason.Requested);
        }
    }

    /// <summary>The capture is over: the tracker has ended every session; their clips are written.</summary>
    public void Complete() => Flush();

    private static ClipReason? ReasonOf(BootSession session) => session.Outcome switch
    {
        BootOutcome.Failed when session.LoopCount > 0 => ClipReason.BootLoop,
        BootOutcome.Failed => ClipReason.Failed,
        BootOutcome.Stuck => ClipReason.Stuck,
        _ => null,
    };

    private void Emit(Ring ring, ClipReason reason)
    {
        sink(ClipWriter.Write(store, ring.Frames, ring.Session, reason, interfaceNames, DescribeFrame));
        Counters.ClipsWritten++;
    }

    /// <summary>Which kind of evidence a session's frame is: the tracker already decoded it, this only looks at ports and opcodes.</summary>
    internal static EvidenceKind Classify(BootSession session, ReadOnlySpan<byte> frame, LinkType linkType)
    {
        if (!LinkFrame.TryParse(linkType, frame, out var link) || link.EtherType != LinkFrame.EtherTypeIPv4
            || !Ipv4Packet.TryParse(link.Payload, out var ip) || ip.Protocol != Ipv4Packet.ProtocolUdp
            || !UdpDatagram.TryParse(ip.Payload, out var udp, allowTruncated: true))
        {
            return EvidenceKind.Control;
        }

        var src = udp.SourcePort;
        var dst = udp.DestinationPort;
        if (src is DhcpServerPort or DhcpClientPort or ProxyDhcpPort || dst is DhcpServerPort or DhcpClientPort or ProxyDhcpPort)
        {
            return EvidenceKind.Control;
        }

        if (session.Transfer.Matches(src) || session.Transfer.Matches(dst) || src == TftpPort || dst == TftpPort)
        {
            // TFTP (RFC 1350): opcode, then the block number of DATA (3) and ACK (4). RRQ, OACK and ERROR are control, and
            // so are the first block and its ACK (and ACK 0 of an OACK): where the transfer started and how.
            var payload = udp.Payload;
            if (payload.Length >= 4 && payload[0] == 0 && payload[1] is 3 or 4)
            {
                var block = (payload[2] << 8) | payload[3];
                return block <= 1 ? EvidenceKind.Control : EvidenceKind.Transfer;
            }

            return EvidenceKind.Control;
        }

        return session.Phase >= BootPhase.SingleReadMode ? EvidenceKind.Stream : EvidenceKind.Control;
    }

    private sealed class Ring(BootSession session)
    {
        public BootSession Session { get; } = session;
        public FrameStore.DeviceFrames Frames { get; } = new();
        public bool Ended { get; set; }
    }
}
