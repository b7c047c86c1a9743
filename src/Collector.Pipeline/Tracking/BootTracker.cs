using System.Runtime.CompilerServices;
using System.Text;
using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>
/// Reads frames in time order and follows every device's boot through the phases of DESIGN.md.
/// One active session per device (DHCP chaddr); an IP index attributes TFTP and PVS traffic to it.
/// Finished sessions are handed to the observer and forgotten, so memory holds only boots in flight.
/// </summary>
public sealed partial class BootTracker
{
    private const ushort DhcpServerPort = 67;
    private const ushort DhcpClientPort = 68;
    private const ushort ProxyDhcpPort = 4011;
    private const ushort TftpPort = 69;

    /// <summary>Distinct device requests with no server datagram between them: in SingleReadMode at most two (the ack, the next read).</summary>
    private const int ConcurrentRequests = 3;

    private readonly TrackerOptions options;
    private readonly Action<BootSession, SessionChangeKind> observer;
    private readonly Dictionary<MacAddress, BootSession> sessionsByMac = [];
    private readonly Dictionary<uint, BootSession> sessionsByIp = [];
    private readonly List<BootSession> sweep = [];

    // For boots joined mid-way: the MAC an ARP or DHCP frame showed for an address, and devices' PXE restarts while streaming.
    private readonly Dictionary<uint, MacAddress> macsByIp = [];
    private readonly Dictionary<MacAddress, int> loopsByMac = [];

    // Addresses of devices that booted: Windows keeps streaming its vDisk for as long as it runs, which is no new boot.
    private readonly HashSet<uint> bootedAddresses = [];
    private readonly byte[] pxeVendorPrefix;
    private readonly CopyDetector copies;

    public BootTracker(TrackerOptions options, Action<BootSession, SessionChangeKind> observer)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        this.observer = observer;
        pxeVendorPrefix = Encoding.ASCII.GetBytes(options.PxeVendorClassPrefix);
        copies = new CopyDetector(options.CopyWindow);
    }

    public TrackerCounters Counters { get; } = new();
    public int SessionsInFlight => sessionsByMac.Count;
    public IEnumerable<BootSession> ActiveSessions => sessionsByMac.Values;

    /// <summary>The session the frame just processed belonged to, if any (for a walk-through of one device's frames).</summary>
    public BootSession? LastFrameSession { get; private set; }

    /// <summary>Whether the frame just processed was counted as a retry or retransmit.</summary>
    public bool LastFrameWasRetry { get; private set; }

    /// <summary>The ordinal of the frame being processed in the recording: Wireshark's frame.number for a single file.</summary>
    private long Frame => Counters.Packets;

    /// <summary>Decodes one captured frame and applies it. Never throws on bad bytes: they are counted as malformed.</summary>
    /// <param name="linkType">The link layer of the frame's capture interface (pcapng files may mix several).</param>
    // The per-frame path (here, the decoders, the copy detector and the mapped reader) is compiled fully optimised at
    // its first call: left to tiering, it ran at Tier 0 for a fifth of analyze's samples on the storm (perf, README).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Process(DateTime at, ReadOnlySpan<byte> frame, LinkType linkType = LinkType.Ethernet)
    {
        Counters.Packets++;
        LastFrameSession = null;
        LastFrameWasRetry = false;
        if (!LinkFrame.TryParse(linkType, frame, out var link))
        {
            Counters.Malformed++;
            return;
        }

        if (link.EtherType == LinkFrame.EtherTypeArp)
        {
            if (ArpPacket.TryParse(link.Payload, out var arp))
            {
                Counters.Arp++;
                LearnAddress(arp.SenderIp, arp.SenderMac);
            }
            else
            {
                Counters.Malformed++;
            }

            return;
        }

        if (link.EtherType != LinkFrame.EtherTypeIPv4)
        {
            return;
        }

        if (!Ipv4Packet.TryParse(link.Payload, out var ip))
        {
            Counters.Malformed++;
            return;
        }

        if (copies.IsCopy(at, ip.Datagram))
        {
            Counters.DuplicateFrames++;
            return;
        }

        if (ip.IsNonFirstFragment)
        {
            Counters.NonFirstFragments++;
            return;
        }

        if (ip.Protocol != Ipv4Packet.ProtocolUdp)
        {
            return;
        }

        if (!UdpDatagram.TryParse(ip.Payload, out var udp, allowTruncated: ip.IsFirstFragment))
        {
            Counters.Malformed++;
            return;
        }

        if (ip.IsFirstFragment)
        {
            // The rest of this datagram is in later fragments; a partial DHCP or TFTP message is not evidence.
            OnFirstFragment(at, in ip, in udp);
            return;
        }

        ProcessUdp(at, in ip, in udp, link.HasSourceMac ? link.SourceMac : default);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProcessUdp(DateTime at, in Ipv4Packet ip, in UdpDatagram udp, MacAddress linkSource)
    {
        var src = udp.SourcePort;
        var dst = udp.DestinationPort;
        if (IsDhcp(src, dst))
        {
            if (DhcpMessage.TryParse(udp.Payload, out var dhcp))
            {
                Counters.Dhcp++;
                Counters.MalformedDhcpOptions += dhcp.Options.MalformedOptions;
                OnDhcp(at, in ip, in udp, in dhcp);
            }
            else
            {
                Counters.Malformed++;
            }

            return;
        }

        if (dst == TftpPort)
        {
            if (TftpPacket.TryParse(udp.Payload, out var packet))
            {
                Counters.Tftp++;
                OnTftpToPort69(at, in ip, src, in packet, linkSource);
            }
            else
            {
                Counters.Malformed++;
            }

            return;
        }

        // Everything else is attributed by address: the device is whichever end an active session owns.
        if (sessionsByIp.TryGetValue(ip.Source, out var session))
        {
            OnDevicePacket(at, session, ip.Destination, src, dst, udp.Payload);
        }
        else if (sessionsByIp.TryGetValue(ip.Destination, out session))
        {
            OnServerPacket(at, session, ip.Source, src, dst, udp.Payload);
        }
        else if (options.Ports.IsStreamService(dst) && TryJoinMidBoot(at, ip.Source, linkSource, BootPhase.PvsLogon, out session))
        {
            OnDevicePacket(at, session, ip.Destination, src, dst, udp.Payload);
        }
        else if (options.Ports.Classify(dst) != PvsPortKind.None || options.Ports.Classify(src) != PvsPortKind.None)
        {
            Counters.Unattributed++;
        }
    }

    private static bool IsDhcp(ushort src, ushort dst) =>
        (dst is DhcpServerPort or DhcpClientPort or ProxyDhcpPort && src is DhcpServerPort or DhcpClientPort or ProxyDhcpPort)
        || (dst == ProxyDhcpPort && src != TftpPort);

    // ---------------------------------------------------------------- session life

    private BootSession StartSession(MacAddress mac, DateTime at, BootPhase firstPhase)
    {
        var session = new BootSession(mac, at, firstPhase, Frame);
        sessionsByMac[mac] = session;
        Counters.PeakSessionsInFlight = Math.Max(Counters.PeakSessionsInFlight, sessionsByMac.Count);
        Notify(session, SessionChangeKind.Started);
        return session;
    }

    /// <summary>
    /// A boot already past DHCP when the collector started (or restarted): a session from this frame, in the phase its
    /// traffic implies. The device's MAC is the one an ARP or DHCP frame showed for the address, else the frame's link-layer
    /// source — which on a routed segment is the router, so a MAC that already boots at another address is not taken.
    /// </summary>
    private bool TryJoinMidBoot(DateTime at, uint address, MacAddress linkSource, BootPhase phase, out BootSession session)
    {
        session = null!;
        if (!options.JoinMidBoot || address == 0)
        {
            return false;
        }

        if (bootedAddresses.Contains(address))
        {
            return false;
        }

        var mac = macsByIp.TryGetValue(address, out var learned) ? learned : linkSource;
        if (mac == default || sessionsByMac.ContainsKey(mac))
        {
            return false;
        }

        session = StartSession(mac, at, phase);
        Assign(session, address);
        Counters.JoinedMidBoot++;
        return true;
    }

    private void LearnAddress(uint address, MacAddress mac)
    {
        if (address == 0 || mac == default)
        {
            return;
        }

        if (macsByIp.Count >= options.MaxLearnedAddresses && !macsByIp.ContainsKey(address))
        {
            macsByIp.Clear();
        }

        macsByIp[address] = mac;
    }

    private void Assign(BootSession session, uint address)
    {
        if (session.Ip != 0 && sessionsByIp.TryGetValue(session.Ip, out var owner) && owner == session)
        {
            sessionsByIp.Remove(session.Ip);
        }

        session.Ip = address;
        bootedAddresses.Remove(address);

        // A stale owner of the address (a device that left without a trace) loses it to the newest lease.
        sessionsByIp[address] = session;
    }

    /// <summary>
    /// Moves the session into <paramref name="phase"/>. A pause longer than the threshold of the phase being left is
    /// a Stall too: the commonest ones (waiting for the logon server, for the first read) end with a phase change.
    /// </summary>
    private void Enter(BootSession session, BootPhase phase, DateTime at) => Enter(session, phase, at, Frame);

    private void Enter(BootSession session, BootPhase phase, DateTime at, long frame)
    {
        var pause = at - session.LastProgress;
        if (pause > options.StuckThreshold(session.Phase))
        {
            AddIssue(session, IssueCatalog.Stall(at, session.Phase, pause));
        }

        var wasStuck = session.Outcome == BootOutcome.Stuck;
        session.EnterPhase(phase, at, frame);
        Notify(session, SessionChangeKind.PhaseEntered);
        if (wasStuck)
        {
            Notify(session, SessionChangeKind.OutcomeChanged);
        }
    }

    private void Progress(BootSession session, DateTime at)
    {
        var wasStuck = session.Outcome == BootOutcome.Stuck;
        var pause = session.Progress(at, Frame);
        if (pause > options.StuckThreshold(session.Phase))
        {
            AddIssue(session, IssueCatalog.Stall(at, session.Phase, pause));
        }

        if (wasStuck)
        {
            Notify(session, SessionChangeKind.OutcomeChanged);
        }
    }

    private void CountRetry(BootSession session, DateTime at)
    {
        LastFrameWasRetry = true;
        var retries = session.AddRetry();
        if (retries >= options.RetransmitStormThreshold && !session.RetransmitStormReported)
        {
            session.RetransmitStormReported = true;
            AddIssue(session, IssueCatalog.RetransmitStorm(at, session.Phase, retries));
        }
    }

    private void AddIssue(BootSession session, BootIssue issue) => AddIssue(session, issue, Frame);

    private void AddIssue(BootSession session, BootIssue issue, long frame)
    {
        session.AddIssue(issue with { Frame = frame });
        Notify(session, SessionChangeKind.IssueRaised);
    }

    private void EndForPxeRestart(BootSession session, DateTime at)
    {
        if (session.Phase == BootPhase.BniStack)
        {
            session.Settle();
            End(session);
            return;
        }

        if (session.Phase == BootPhase.SingleReadMode)
        {
            // The bootstrap streamed, Windows started loading, and the device came back to PXE: a boot loop.
            if (loopsByMac.Count >= options.MaxLearnedAddresses && !loopsByMac.ContainsKey(session.Mac))
            {
                loopsByMac.Clear();
            }

            var loops = loopsByMac.GetValueOrDefault(session.Mac) + 1;
            loopsByMac[session.Mac] = loops;
            session.LoopCount = loops;
            Fail(session, at, IssueCatalog.BootLoop(at, loops));
            return;
        }

        Fail(session, at, IssueCatalog.PxeRestarted(at, session.Phase));
    }

    private void Fail(BootSession session, DateTime at, BootIssue issue)
    {
        session.LastActivity = at;
        AddIssue(session, issue);
        session.Fail(at);
        Notify(session, SessionChangeKind.OutcomeChanged);
        End(session);
    }

    private void End(BootSession session)
    {
        sessionsByMac.Remove(session.Mac);
        if (session.Outcome == BootOutcome.Booted && session.Ip != 0)
        {
            if (bootedAddresses.Count >= options.MaxLearnedAddresses)
            {
                bootedAddresses.Clear();
            }

            bootedAddresses.Add(session.Ip);
        }

        if (session.Ip != 0 && sessionsByIp.TryGetValue(session.Ip, out var owner) && owner == session)
        {
            sessionsByIp.Remove(session.Ip);
        }

        Notify(session, SessionChangeKind.Ended);
    }

    private void Notify(BootSession session, SessionChangeKind change) => observer(session, change);

    /// <summary>
    /// Applies the clock: marks sessions stuck, ends booted sessions whose streaming settled, and gives up on
    /// sessions silent for long. Offline, "now" is the capture's time; live, the wall clock.
    /// </summary>
    public void Advance(DateTime now)
    {
        sweep.Clear();
        foreach (var session in sessionsByMac.Values)
        {
            if (session.Outcome == BootOutcome.Booted)
            {
                var bniStackStart = session[BootPhase.BniStack].Start;
                var lastStream = session.LastStreamActivity is { } last && last > bniStackStart ? last : bniStackStart;
                if (now - lastStream > options.BniStackSettleTime)
                {
                    sweep.Add(session);
                }
            }
            else if (now - session.LastProgress > options.StuckThreshold(session.Phase))
            {
                if (session.Outcome != BootOutcome.Stuck)
                {
                    session.MarkStuck();
                    // Dated when the threshold ran out, not when the sweep noticed: the same moment live and offline.
                    var stuckSince = session.LastProgress + options.StuckThreshold(session.Phase);
                    AddIssue(session, IssueCatalog.Stuck(stuckSince, session, now - session.LastProgress), session.LastProgressFrame);
                    Notify(session, SessionChangeKind.OutcomeChanged);
                }

                if (now - session.LastActivity > options.EvictStuckAfter)
                {
                    sweep.Add(session);
                }
            }
        }

        foreach (var session in sweep)
        {
            if (session.Outcome == BootOutcome.Booted)
            {
                session.Settle();
            }

            End(session);
        }
    }

    /// <summary>The capture is over: judges every session still open against its end, then hands them all out.</summary>
    public void Finish(DateTime captureEnd)
    {
        Advance(captureEnd);
        foreach (var session in sessionsByMac.Values.ToList())
        {
            if (session.Outcome == BootOutcome.Booted)
            {
                session.Settle();
            }

            End(session);
        }
    }

    private static string? Text(ReadOnlySpan<byte> value) => WireText.Clean(value);
}
