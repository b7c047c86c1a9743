using PvsFleet.Contracts;

namespace PvsFleet.Collector.Simulation;

/// <summary>The boot script: what the device, the PVS server and the relay send, when, and what it means for the truth.</summary>
internal sealed partial class SimulatedDevice
{
    private const long Us = 1;
    private const long Ms = SimulationClock.MicrosPerMillisecond;
    private const long S = SimulationClock.MicrosPerSecond;

    /// <summary>PXE DISCOVER backoff (PXE 2.1: 4, 8, 16, 32 s), as offsets from the first DISCOVER.</summary>
    private static readonly long[] PxeDiscoverRetryAt = [4 * S, 12 * S, 28 * S, 60 * S];

    /// <summary>Intervals at which a PXE TFTP client re-sends its last ACK before giving up.</summary>
    private static readonly long[] TftpAckRetryAfter = [1 * S, 2 * S, 4 * S, 8 * S];

    /// <summary>The bootstrap's logon exchange: request sizes of its three steps (login, vDisk query, logon done).</summary>
    private static readonly int[] LogonRequestLengths = [212, 148, 276];
    private static readonly int[] LogonReplyLengths = [184, 296, 104];

    private const int LogonRetransmits = 4;
    private const long LogonRetransmitAfter = 5 * S;
    private const int StallRetransmits = 4;
    private const long ReadTimeout = 5 * S;
    private const int TftpPort = 69;

    private readonly int[] waveSequences = new int[4];
    private readonly int[] wavePorts = new int[4];
    private readonly int streamPort;
    private readonly bool tftpFromPort69;
    private readonly JoinPoint joinPoint;
    private bool recording;

    private SessionRecorder session = null!;
    private long now;
    private bool halted;
    private uint pxeXid;
    private uint osXid;
    private uint sessionNonce;
    private int nextIoSequence;

    private IEnumerable<PlannedFrame> Script()
    {
        now = StartMicros;
        var restartAfterBootstrap = Failure == InjectedFailure.PxeRestart;
        var loopsLeft = Failure == InjectedFailure.BootLoop ? 2 : 0;
        while (true)
        {
            BeginSession();
            foreach (var frame in AcquireAddress())
                yield return frame;
            if (halted)
                yield break;
            foreach (var frame in DownloadBootstrap())
                yield return frame;
            if (halted)
                yield break;
            if (restartAfterBootstrap)
            {
                // The downloaded bootstrap never takes over (bad NBP, firmware quirk): PXE starts over, new transaction.
                restartAfterBootstrap = false;
                now += Between(1 * S, 4 * S);
                continue;
            }

            foreach (var frame in LogOn())
                yield return frame;
            if (halted)
                yield break;
            foreach (var frame in StreamSingleReads(loopsLeft > 0))
                yield return frame;
            if (halted)
                yield break;
            if (loopsLeft == 0)
                break;

            // Windows starts loading, loses the PVS network stack (a replaced NIC driver) and the machine resets to PXE.
            loopsLeft--;
            now += Between(1 * S, 4 * S);
        }

        foreach (var frame in RenewLeaseFromWindows())
            yield return frame;
        foreach (var frame in StreamThroughBniStack())
            yield return frame;
    }

    /// <summary>A device already booting when the recording starts: from here on its frames are on the wire.</summary>
    private void StartRecording(BootPhase phase)
    {
        recording = true;
        session.JoinAt(phase, now);
    }

    private void BeginSession()
    {
        // A DISCOVER after a completed bootstrap download ends the previous session (tracker rule: PxeRestarted),
        // and one while streaming through UNDI is a boot loop, counted per device until a boot gets through.
        if (sessions.Count > 0 && session.IsOpen && session.Phase == BootPhase.SingleReadMode)
        {
            session.LoopCount = sessions.Count(s => s.LoopCount > 0) + 1;
            session.Fail(BootIssueKind.BootLoop, now, "PXE started again while streaming through UNDI");
        }
        else if (sessions.Count > 0 && session.IsOpen)
        {
            session.Fail(BootIssueKind.PxeRestarted, now, "PXE started again after the bootstrap download");
        }

        session = new SessionRecorder(now, Firmware);
        sessions.Add(session);
        pxeXid = NextXid();
        sessionNonce = NextXid();
    }

    private IEnumerable<PlannedFrame> AcquireAddress()
    {
        var first = now;
        var retries = Failure == InjectedFailure.NoDhcpOffer
            ? PxeDiscoverRetryAt.Length
            : Pick(0.82, 0.14) switch { 0 => 0, 1 => 1, _ => 2 };

        foreach (var frame in FromClient(ScriptedDhcpMessage.PxeDiscover, secs: 0))
            yield return frame;
        for (var retry = 0; retry < retries; retry++)
        {
            // Same xid, growing secs: the PXE ROM repeating itself, which is what admins count as DHCP retries.
            now = first + PxeDiscoverRetryAt[retry] + Between(0, 50 * Ms);
            session.Retry();
            foreach (var frame in FromClient(ScriptedDhcpMessage.PxeDiscover, SecondsSince(first)))
                yield return frame;
        }

        if (Failure == InjectedFailure.NoDhcpOffer)
        {
            halted = true;
            yield break;
        }

        now += Between(200 * Ms, 1200 * Ms);
        session.Progress(now);
        session.DhcpServer = SimulatedNetwork.ServerAddress;
        session.BootFile = BootstrapFile.For(Firmware).Name;      // the offer names the boot file and next server
        session.TftpServer = SimulatedNetwork.ServerAddress;
        foreach (var frame in FromServer(ScriptedDhcpMessage.PxeOffer))
            yield return frame;
        if (Chance(0.08))
        {
            // A second OFFER (another scope answering, or a duplicated reply): never a client retry.
            now += Between(300 * Us, 3 * Ms);
            foreach (var frame in FromServer(ScriptedDhcpMessage.PxeOffer))
                yield return frame;
        }

        // PXE ROMs wait for proxyDHCP offers before choosing.
        now += Between(500 * Ms, 2000 * Ms);
        foreach (var frame in FromClient(ScriptedDhcpMessage.PxeRequest, SecondsSince(first)))
            yield return frame;
        if (Chance(0.03))
        {
            now += 4 * S + Between(0, 50 * Ms);
            session.Retry();
            foreach (var frame in FromClient(ScriptedDhcpMessage.PxeRequest, SecondsSince(first)))
                yield return frame;
        }

        now += Between(2 * Ms, 30 * Ms);
        session.Progress(now);
        session.Ip = IpText;
        foreach (var frame in FromServer(ScriptedDhcpMessage.PxeAck))
            yield return frame;

        if (Failure == InjectedFailure.ProxyUnanswered || (!Routed && Chance(0.15)))
        {
            // Boot server discovery on UDP 4011 belongs to IpAcquisition; the bootstrap download begins with the RRQ.
            now += Between(5 * Ms, 50 * Ms);
            foreach (var frame in FromClient(ScriptedDhcpMessage.ProxyRequest, SecondsSince(first)))
                yield return frame;
            if (Failure == InjectedFailure.ProxyUnanswered)
            {
                // Nobody answers on 4011: the ROM asks again with PXE's backoff, then gives up.
                foreach (var after in new[] { 4 * S, 8 * S, 16 * S })
                {
                    now += after + Between(0, 50 * Ms);
                    session.Retry();
                    foreach (var frame in FromClient(ScriptedDhcpMessage.ProxyRequest, SecondsSince(first)))
                        yield return frame;
                }

                halted = true;
                yield break;
            }

            now += Between(2 * Ms, 20 * Ms);
            session.Progress(now);
            foreach (var frame in FromServer(ScriptedDhcpMessage.ProxyAck))
                yield return frame;
        }
    }

    private IEnumerable<PlannedFrame> DownloadBootstrap()
    {
        var file = BootstrapFile.For(Firmware);
        session.BootFile = file.Name;
        session.TftpServer = SimulatedNetwork.ServerAddress;
        var clientPort = 2070 + random.Next(0, 400);
        now += Between(5 * Ms, 60 * Ms);
        if (joinPoint == JoinPoint.BootstrapRequest && sessions.Count == 1)
            StartRecording(BootPhase.BootstrapDownload);
        else
            session.EnterPhase(BootPhase.BootstrapDownload, now);

        if (Firmware == Firmware.Uefi)
        {
            // UEFI asks for the size first and aborts with ERROR 8 once it has it: normal, not a failure.
            yield return new PlannedFrame(now, FrameKind.TftpReadRequest, DevicePort: clientPort, Number: (int)TftpRequest.SizeProbe);
            var probeTid = NextServerTid();
            now += Between(1 * Ms, 5 * Ms);
            if (Failure == InjectedFailure.BootstrapNotFound)
            {
                FailFileNotFound(file);
                yield return new PlannedFrame(now, FrameKind.TftpServerError, DevicePort: clientPort, ServerPort: probeTid);
                yield break;
            }

            session.Progress(now);
            yield return new PlannedFrame(now, FrameKind.TftpOptionAck, DevicePort: clientPort, ServerPort: probeTid, Number: (int)TftpRequest.SizeProbe);
            now += Between(200 * Us, 1 * Ms);
            yield return new PlannedFrame(now, FrameKind.TftpClientError, DevicePort: clientPort, ServerPort: probeTid);
            clientPort++;
            now += Between(1 * Ms, 10 * Ms);
        }

        var request = Firmware == Firmware.Uefi ? TftpRequest.Windowed : TftpRequest.LockStep;
        yield return new PlannedFrame(now, FrameKind.TftpReadRequest, DevicePort: clientPort, Number: (int)request);
        if (Chance(0.03))
        {
            // The server was too busy to answer within the client's timeout: the same RRQ from the same port.
            now += Between(1 * S, 2 * S);
            session.Retry();
            yield return new PlannedFrame(now, FrameKind.TftpReadRequest, DevicePort: clientPort, Number: (int)request);
        }

        var tid = NextServerTid();
        now += Between(1 * Ms, 5 * Ms);
        if (Failure == InjectedFailure.BootstrapNotFound)
        {
            FailFileNotFound(file);
            yield return new PlannedFrame(now, FrameKind.TftpServerError, DevicePort: clientPort, ServerPort: tid);
            yield break;
        }

        session.Progress(now);
        yield return new PlannedFrame(now, FrameKind.TftpOptionAck, DevicePort: clientPort, ServerPort: tid, Number: (int)request);
        now += Between(100 * Us, 400 * Us);
        yield return new PlannedFrame(now, FrameKind.TftpAck, DevicePort: clientPort, ServerPort: tid, Number: 0);

        var blocks = file.Blocks;
        var window = request == TftpRequest.Windowed ? 4 : 1;
        var lastAckedBeforeStop = Failure == InjectedFailure.TftpTimeout ? window * random.Next(2, (blocks - 1) / window + 1) : -1;
        var duplicatedBlock = window == 1 && Failure == InjectedFailure.None && Chance(0.05) ? random.Next(1, blocks + 1) : -1;
        var (minPacing, maxPacing) = Chance(0.05) ? (5 * Ms, 30 * Ms) : (60 * Us, 250 * Us);
        for (var block = 1; block <= blocks; block++)
        {
            now += block % window == 1 || window == 1 ? Between(minPacing, maxPacing) : Between(12 * Us, 40 * Us);
            session.Progress(now);
            yield return new PlannedFrame(now, FrameKind.TftpData, DevicePort: clientPort, ServerPort: tid, Number: block, Length: file.BlockLength(block));
            if (block == duplicatedBlock)
            {
                // The block was lost past the mirror: the server's retransmit timer fires and it sends it again.
                now += 1 * S + Between(0, 20 * Ms);
                session.Retry();
                yield return new PlannedFrame(now, FrameKind.TftpData, DevicePort: clientPort, ServerPort: tid, Number: block, Length: file.BlockLength(block));
            }

            if (block % window != 0 && block != blocks)
                continue;
            now += Between(50 * Us, 200 * Us);
            var acknowledged = now;
            yield return new PlannedFrame(now, FrameKind.TftpAck, DevicePort: clientPort, ServerPort: tid, Number: block);
            if (block == lastAckedBeforeStop)
            {
                // The server went away mid-transfer: the client repeats its ACK, then the ROM gives up silently.
                foreach (var after in TftpAckRetryAfter)
                {
                    now += after;
                    session.Retry();
                    yield return new PlannedFrame(now, FrameKind.TftpAck, DevicePort: clientPort, ServerPort: tid, Number: block);
                }

                halted = true;
                yield break;
            }

            if (block == blocks)
                session.EnterPhase(BootPhase.PvsLogon, acknowledged);
        }
    }

    private IEnumerable<PlannedFrame> LogOn()
    {
        session.PvsServer = SimulatedNetwork.ServerAddress;
        // The bootstrap initialises UNDI and reads its configuration before it talks to the login server.
        now += Between(300 * Ms, 1000 * Ms);
        if (Failure == InjectedFailure.LogonTimeout)
        {
            yield return LogonRequest(step: 0);
            for (var resend = 0; resend < LogonRetransmits; resend++)
            {
                now += LogonRetransmitAfter + Between(0, 30 * Ms);
                yield return LogonRequest(step: 0);
            }

            halted = true;
            yield break;
        }

        if (joinPoint == JoinPoint.Logon)
            StartRecording(BootPhase.PvsLogon);
        for (var step = 0; step < LogonRequestLengths.Length; step++)
        {
            if (step > 0)
                now += Between(50 * Ms, 250 * Ms);
            yield return LogonRequest(step);
            now += Between(2 * Ms, 30 * Ms);
            yield return new PlannedFrame(now, FrameKind.PvsLogonReply, Number: step, Length: LogonReplyLengths[step]);
        }
    }

    /// <param name="loops">The boot ends in a PXE restart after a part of its reads (InjectedFailure.BootLoop).</param>
    private IEnumerable<PlannedFrame> StreamSingleReads(bool loops)
    {
        var ios = loops ? Math.Max(1, options.SingleReadIos / 2) : options.SingleReadIos;
        var joinAt = joinPoint == JoinPoint.SingleRead ? ios / 2 : -1;
        var stallAt = Failure == InjectedFailure.SingleReadStall ? (ios <= 1 ? 0 : random.Next(Math.Max(1, ios / 4), ios)) : -1;
        var port = options.BootstrapTargetPort;
        now += Between(20 * Ms, 200 * Ms);
        for (var io = 0; io < ios; io++)
        {
            if (io > 0)
                now += Between(100 * Ms, 400 * Ms);
            var sequence = nextIoSequence++;
            if (io == joinAt)
            {
                // Joined on a read: the tracker sees the logon phase begin and end at this request, which the data answers.
                StartRecording(BootPhase.PvsLogon);
                session.EnterPhase(BootPhase.SingleReadMode, now);
            }
            else if (io == 0 && io != stallAt)
            {
                // SingleReadMode begins with the first read that vDisk data answers; an unanswered one leaves the device in PvsLogon.
                session.EnterPhase(BootPhase.SingleReadMode, now);
            }

            yield return StreamRead(port, sequence);

            if (io == stallAt)
            {
                // The read is never answered: the target re-sends it with a doubling timeout, then hangs.
                var timeout = ReadTimeout;
                for (var resend = 0; resend < StallRetransmits; resend++)
                {
                    now += timeout;
                    timeout *= 2;
                    yield return StreamRead(port, sequence);
                }

                halted = true;
                yield break;
            }

            if (Failure != InjectedFailure.SingleReadStall && Chance(0.01))
            {
                now += ReadTimeout;
                yield return StreamRead(port, sequence);
            }

            now += Between(200 * Us, 2 * Ms);
            var fragments = random.Next(8, 33);
            for (var fragment = 0; fragment < fragments; fragment++)
            {
                if (fragment > 0)
                    now += Between(15 * Us, 60 * Us);
                yield return new PlannedFrame(now, FrameKind.StreamData, DevicePort: port, ServerPort: streamPort,
                    Number: sequence, Fragment: fragment, Length: PvsPayload.StandardDataLength);
            }

            now += Between(30 * Us, 150 * Us);
            yield return StreamAck(port, sequence, fragments);
        }
    }

    private IEnumerable<PlannedFrame> RenewLeaseFromWindows()
    {
        // Windows is up: its DHCP client confirms the bootstrap's lease (INIT-REBOOT). This marks BNIStack.
        now += Between(500 * Ms, 2000 * Ms);
        osXid = NextXid();
        session.EnterPhase(BootPhase.BniStack, now);
        session.HostName = HostName;
        foreach (var frame in FromClient(ScriptedDhcpMessage.OsRequest, secs: 0))
            yield return frame;
        now += Between(2 * Ms, 20 * Ms);
        foreach (var frame in FromServer(ScriptedDhcpMessage.OsAck))
            yield return frame;
    }

    private IEnumerable<PlannedFrame> StreamThroughBniStack()
    {
        var jumbo = Chance(0.3);
        var payload = jumbo ? PvsPayload.JumboDataLength : PvsPayload.StandardDataLength;
        var targets = options.BniStackTargetPorts;
        var remaining = options.BniStackIos;
        now += Between(50 * Ms, 300 * Ms);
        while (remaining > 0)
        {
            // Several I/Os outstanding at once, then the server's bursts one after another, each acknowledged.
            var wave = Math.Min(remaining, random.Next(2, waveSequences.Length + 1));
            for (var i = 0; i < wave; i++)
            {
                if (i > 0)
                    now += Between(10 * Us, 40 * Us);
                waveSequences[i] = nextIoSequence++;
                wavePorts[i] = targets[i % targets.Count];
                yield return StreamRead(wavePorts[i], waveSequences[i]);
            }

            // The first wave always storms, so even a short BNIStack phase shows the retransmits.
            if (Failure == InjectedFailure.RetransmitStorm && (remaining == options.BniStackIos || Chance(0.6)))
            {
                // Large Send Offload mangles the bursts: the target re-requests every outstanding read, round after round.
                var rounds = random.Next(1, 4);
                for (var round = 0; round < rounds; round++)
                {
                    now += Between(30 * Ms, 100 * Ms);
                    for (var i = 0; i < wave; i++)
                    {
                        if (i > 0)
                            now += Between(10 * Us, 40 * Us);
                        yield return StreamRead(wavePorts[i], waveSequences[i]);
                    }
                }
            }

            now += Between(100 * Us, 1 * Ms);
            for (var i = 0; i < wave; i++)
            {
                var fragments = jumbo ? random.Next(2, 7) : random.Next(4, 25);
                for (var fragment = 0; fragment < fragments; fragment++)
                {
                    now += fragment == 0 ? Between(5 * Us, 30 * Us) : jumbo ? Between(70 * Us, 100 * Us) : Between(12 * Us, 40 * Us);
                    session.StreamPacket(now);
                    yield return new PlannedFrame(now, FrameKind.StreamData, DevicePort: wavePorts[i], ServerPort: streamPort,
                        Number: waveSequences[i], Fragment: fragment, Length: payload);
                }

                now += Between(20 * Us, 100 * Us);
                yield return StreamAck(wavePorts[i], waveSequences[i], fragments);
            }

            remaining -= wave;
            if (remaining > 0)
                now += Between(20 * Ms, 150 * Ms);
        }
    }

    private PlannedFrame LogonRequest(int step)
    {
        RecordDevicePvsPacket(PvsPayload.Key(PvsPayload.OpLogonRequest, step));
        return new PlannedFrame(now, FrameKind.PvsLogonRequest, Number: step, Length: LogonRequestLengths[step]);
    }

    private PlannedFrame StreamRead(int devicePort, int sequence)
    {
        RecordDevicePvsPacket(PvsPayload.Key(PvsPayload.OpRead, sequence));
        session.StreamPacket(now);
        return new PlannedFrame(now, FrameKind.StreamRead, DevicePort: devicePort, ServerPort: streamPort, Number: sequence);
    }

    private PlannedFrame StreamAck(int devicePort, int sequence, int fragments)
    {
        RecordDevicePvsPacket(PvsPayload.Key(PvsPayload.OpReadAck, sequence));
        session.StreamPacket(now);
        return new PlannedFrame(now, FrameKind.StreamAck, DevicePort: devicePort, ServerPort: streamPort, Number: sequence, Fragment: fragments);
    }

    /// <summary>The tracker's retry rule for PVS traffic: a payload equal to one of the device's last eight is a retry.</summary>
    private void RecordDevicePvsPacket(long payloadKey)
    {
        if (recentPayloads.AddAndCheckRepeat(payloadKey))
            session.Retry();
        else
            session.Progress(now);
    }

    private void FailFileNotFound(BootstrapFile file)
    {
        session.Fail(BootIssueKind.TftpError, now, $"TFTP error 1 (File not found) for {file.Name}");
        halted = true;
    }

    /// <summary>A client DHCP message, plus the relay's copy towards the server on the routed subnet.</summary>
    private IEnumerable<PlannedFrame> FromClient(ScriptedDhcpMessage message, int secs)
    {
        var relayed = Routed && message != ScriptedDhcpMessage.ProxyRequest;
        yield return new PlannedFrame(now, FrameKind.Dhcp, message, relayed ? DhcpLeg.ClientSegment : DhcpLeg.Direct, Number: secs);
        if (!relayed)
            yield break;
        now += Between(80 * Us, 400 * Us);
        yield return new PlannedFrame(now, FrameKind.Dhcp, message, DhcpLeg.ServerSegment, Number: secs);
    }

    /// <summary>A server DHCP reply: to the relay first, which passes it on to the client, when routed.</summary>
    private IEnumerable<PlannedFrame> FromServer(ScriptedDhcpMessage message)
    {
        var relayed = Routed && message != ScriptedDhcpMessage.ProxyAck;
        if (!relayed)
        {
            yield return new PlannedFrame(now, FrameKind.Dhcp, message, DhcpLeg.Direct);
            yield break;
        }

        yield return new PlannedFrame(now, FrameKind.Dhcp, message, DhcpLeg.ServerSegment);
        now += Between(80 * Us, 400 * Us);
        yield return new PlannedFrame(now, FrameKind.Dhcp, message, DhcpLeg.ClientSegment);
    }

    private long Between(long minimum, long maximum) => random.NextInt64(minimum, maximum + 1);

    private bool Chance(double probability) => random.NextDouble() < probability;

    /// <summary>0 with probability <paramref name="first"/>, 1 with <paramref name="second"/>, else 2.</summary>
    private int Pick(double first, double second)
    {
        var roll = random.NextDouble();
        return roll < first ? 0 : roll < first + second ? 1 : 2;
    }

    private int SecondsSince(long start) => (int)((now - start) / S);

    private uint NextXid() => (uint)random.NextInt64(1, uint.MaxValue);

    /// <summary>
    /// TFTP servers answer from a fresh ephemeral port (the server TID), far from the PVS port range — or, some of them,
    /// from port 69 itself.
    /// </summary>
    private int NextServerTid() => tftpFromPort69 ? TftpPort : random.Next(49152, 65536);
}
