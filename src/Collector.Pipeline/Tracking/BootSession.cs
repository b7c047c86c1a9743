using System.Runtime.CompilerServices;
using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>
/// One pass of one device (keyed by DHCP chaddr) through the boot phases. Its size is fixed once the boot file
/// and host name are known: counters and the newest timestamps only, never per-packet history.
/// </summary>
public sealed class BootSession
{
    /// <summary>Issues beyond this many in one session are dropped: a flapping device must not grow memory.</summary>
    internal const int MaxIssues = 16;
    private const int RecentPayloadCount = 8;

    private readonly PhaseProgress[] phases = new PhaseProgress[5];
    private readonly List<BootIssue> issues = [];
    private readonly int[] recentPayloads = new int[RecentPayloadCount];
    private int recentPayloadNext;
    private int recentPayloadFilled;

    /// <param name="firstPhase">IpAcquisition for a boot seen from its first DISCOVER; a later phase for a boot the
    /// collector joined mid-way (it started while the device was already past DHCP): the phases before it were not seen.</param>
    internal BootSession(MacAddress mac, DateTime start, BootPhase firstPhase = BootPhase.IpAcquisition, long frame = 0)
    {
        Mac = mac;
        Start = start;
        LastProgress = start;
        LastProgressFrame = frame;
        LastActivity = start;
        JoinedMidBoot = firstPhase != BootPhase.IpAcquisition;
        for (var i = 0; i < phases.Length; i++)
        {
            phases[i].Phase = (BootPhase)i;
        }

        Phase = firstPhase;
        EnterPhase(firstPhase, start, frame);
    }

    /// <summary>
    /// Time-ordered (UUID version 7): the API's indexes on session ids then grow at one end instead of at random pages,
    /// which took PostgreSQL's CPU per stored event from ~95 to ~50 µs in a boot storm (bench/Api.Bench).
    /// </summary>
    public Guid Id { get; } = Guid.CreateVersion7();
    public MacAddress Mac { get; }
    public uint Ip { get; internal set; }
    public Firmware Firmware { get; internal set; }
    public string? BootFile { get; internal set; }
    public string? HostName { get; internal set; }
    public uint DhcpServer { get; internal set; }
    public uint TftpServer { get; internal set; }
    /// <summary>The PVS server the device logged on to (the login server, on the first Stream Service port).</summary>
    public uint PvsServer { get; internal set; }

    /// <summary>The PVS server the vDisk is read from: the one whose data answered the reads; it may differ from the login server.</summary>
    public uint StreamServer { get; internal set; }

    public DateTime Start { get; }

    /// <summary>True when the collector first saw this boot past DHCP (TFTP of a bootstrap, or PVS traffic): it has no earlier phases.</summary>
    public bool JoinedMidBoot { get; }

    /// <summary>How many boots in a row of this device, this one included, restarted PXE while streaming; 0 when it did not loop.</summary>
    public int LoopCount { get; internal set; }
    public DateTime? End { get; private set; }
    public BootPhase Phase { get; private set; }
    public BootOutcome Outcome { get; private set; }

    /// <summary>The newest moment the boot moved forward; retransmits do not count.</summary>
    public DateTime LastProgress { get; private set; }

    /// <summary>The ordinal of the frame of <see cref="LastProgress"/> in the recording.</summary>
    public long LastProgressFrame { get; private set; }

    /// <summary>The newest packet of this session in either direction.</summary>
    public DateTime LastActivity { get; internal set; }

    /// <summary>The newest vDisk stream packet: where a booted session ends once streaming settles.</summary>
    public DateTime? LastStreamActivity { get; internal set; }

    /// <summary>Phases that started, in order.</summary>
    public IEnumerable<PhaseProgress> Phases => phases.Where(p => p.Started);
    public IReadOnlyList<BootIssue> Issues => issues;

    // DHCP state: the client's previous message, to tell its retries from a relay's copy of the same message.
    internal DhcpMessageType LastClientMessage;
    internal uint LastClientXid;
    internal ushort LastClientSecs;
    internal byte LastClientHops;
    internal uint LastClientRelay;
    internal bool AddressAcknowledged;

    // What the DHCP servers offered: a PXE client ignores offers without boot information and asks again.
    internal bool PxeOfferSeen;
    internal uint PxeInformationServer;
    internal bool MultiplePxeServersReported;
    internal bool FragmentationReported;
    internal bool FirmwareMismatchReported;
    internal bool NoPxeOfferReported;
    internal uint[]? PlainOfferServers;

    // Boot server discovery on UDP 4011: the device's REQUEST to a proxyDHCP server, and whether it answered.
    internal uint ProxyServer;
    internal bool ProxyAnswered;
    internal int ProxyRequests;

    // The read transaction on the Stream Service: the device's request that a burst of large datagrams answers.
    internal DateTime? PendingRequestAt;
    internal long PendingRequestFrame;
    internal int PendingRequestRetries;
    internal int RequestsSinceServerSpoke;
    internal DateTime LastRequestAt;

    /// <summary>Below this, a second request of the same size is another I/O, not the first one sent again.</summary>
    private static readonly TimeSpan MinimumResendInterval = TimeSpan.FromMilliseconds(250);
    internal bool ServerSpokeSinceDevice = true;
    internal ushort LastRequestPort;
    internal int LastRequestLength;

    internal TftpTransfer Transfer;

    /// <summary>The bootstrap's TFTP transfer once one started.</summary>
    internal TftpTransfer? Bootstrap => TransferStarted ? Transfer : null;
    internal bool TransferStarted;
    internal bool BootstrapComplete;
    internal bool RetransmitStormReported;

    public PhaseProgress this[BootPhase phase] => phases[(int)phase];

    internal void EnterPhase(BootPhase phase, DateTime at, long frame)
    {
        // Phases are contiguous: skipped ones (a missed packet, a two-stage boot) start and end at the same moment.
        for (var p = Phase; p < phase; p++)
        {
            ref var previous = ref phases[(int)p];
            if (!previous.Started)
            {
                previous.Started = true;
                previous.Start = at;
                previous.StartFrame = frame;
            }

            previous.End ??= at;
        }

        ref var entered = ref phases[(int)phase];
        entered.Started = true;
        entered.Start = at;
        entered.StartFrame = frame;
        Phase = phase;
        RetransmitStormReported = false;
        Progress(at, frame);
    }

    /// <summary>Remembers an offer without PXE boot information from <paramref name="server"/> (up to three servers).</summary>
    internal void AddPlainOffer(uint server)
    {
        PlainOfferServers ??= new uint[3];
        for (var i = 0; i < PlainOfferServers.Length; i++)
        {
            if (PlainOfferServers[i] == server)
            {
                return;
            }

            if (PlainOfferServers[i] == 0)
            {
                PlainOfferServers[i] = server;
                return;
            }
        }
    }

    /// <summary>
    /// Notes a device datagram to the Stream Service. Returns true when it re-sends the outstanding request: in
    /// SingleReadMode one I/O is outstanding at a time, so a second request of the same size to the same port with no
    /// server datagram in between is the same request sent again. Any other request opens a new transaction.
    /// </summary>
    internal bool NoteStreamRequest(DateTime at, long frame, ushort serverPort, int length)
    {
        // A re-send waits for the read timeout (5 s, doubling); same-size requests microseconds apart are concurrent I/O.
        var resent = !ServerSpokeSinceDevice && serverPort == LastRequestPort && length == LastRequestLength
            && at - LastRequestAt >= MinimumResendInterval;
        LastRequestAt = at;
        if (!resent || PendingRequestAt is null)
        {
            PendingRequestAt = at;
            PendingRequestFrame = frame;
            PendingRequestRetries = 0;
        }

        RequestsSinceServerSpoke = ServerSpokeSinceDevice ? 1 : resent ? RequestsSinceServerSpoke : RequestsSinceServerSpoke + 1;

        ServerSpokeSinceDevice = false;
        LastRequestPort = serverPort;
        LastRequestLength = length;
        return resent;
    }

    /// <summary>Returns how long the boot had not moved before this progress.</summary>
    internal TimeSpan Progress(DateTime at, long frame)
    {
        var gap = at - LastProgress;
        if (at > LastProgress)
        {
            LastProgress = at;
            LastProgressFrame = frame;
        }

        if (Outcome == BootOutcome.Stuck)
        {
            Outcome = BootOutcome.InProgress;
        }

        return gap;
    }

    internal int AddRetry() => ++phases[(int)Phase].Retries;

    /// <summary>Retries counted in the phase before that belong to the one just entered (a read re-sent before data answered it).</summary>
    internal void MoveRetriesIntoCurrentPhase(int retries)
    {
        if (Phase == BootPhase.IpAcquisition || retries <= 0)
        {
            return;
        }

        ref var previous = ref phases[(int)Phase - 1];
        var moved = Math.Min(retries, previous.Retries);
        previous.Retries -= moved;
        phases[(int)Phase].Retries += moved;
    }

    internal void MarkBooted() => Outcome = BootOutcome.Booted;

    internal void MarkStuck() => Outcome = BootOutcome.Stuck;

    internal void Fail(DateTime at)
    {
        Outcome = BootOutcome.Failed;
        End = at;
        phases[(int)Phase].End = at;
    }

    /// <summary>A booted session ends where its streaming settled.</summary>
    internal void Settle()
    {
        var end = LastStreamActivity is { } last && last > phases[(int)BootPhase.BniStack].Start
            ? last
            : phases[(int)BootPhase.BniStack].Start;
        End = end;
        phases[(int)BootPhase.BniStack].End = end;
    }

    internal void AddIssue(BootIssue issue)
    {
        if (issues.Count < MaxIssues)
        {
            issues.Add(issue);
        }
    }

    /// <summary>
    /// Remembers a device PVS payload; true when it repeats one of the last few (a retransmitted request).
    /// A hash ring keeps this fixed-size; a 32-bit collision among eight recent payloads is negligible.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool IsRepeatedPayload(ushort serverPort, ReadOnlySpan<byte> payload)
    {
        var hash = new HashCode();
        hash.Add(serverPort);
        hash.AddBytes(payload);
        var value = hash.ToHashCode();
        for (var i = 0; i < recentPayloadFilled; i++)
        {
            if (recentPayloads[i] == value)
            {
                return true;
            }
        }

        recentPayloads[recentPayloadNext] = value;
        recentPayloadNext = (recentPayloadNext + 1) % RecentPayloadCount;
        recentPayloadFilled = Math.Min(recentPayloadFilled + 1, RecentPayloadCount);
        return false;
    }
}
