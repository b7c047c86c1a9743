using System.Runtime.CompilerServices;
using PvsFleet.Collector.Decoding;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>The tracker's rules for traffic on the PVS and TFTP data ports: logon, streaming, retries and the BNIStack hand-off.</summary>
public sealed partial class BootTracker
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnDevicePacket(DateTime at, BootSession session, uint server, ushort devicePort, ushort serverPort, ReadOnlySpan<byte> payload)
    {
        LastFrameSession = session;
        session.LastActivity = at;
        if (session.Transfer.Matches(devicePort))
        {
            OnTftpDatagram(at, session, fromDevice: true, server, serverPort, payload);
            return;
        }

        var kind = options.Ports.Classify(serverPort);
        if (kind == PvsPortKind.None)
        {
            return;
        }

        Counters.Pvs++;
        var retry = session.IsRepeatedPayload(serverPort, payload);
        if (kind == PvsPortKind.TwoStageBoot)
        {
            if (session.Phase == BootPhase.IpAcquisition)
            {
                Enter(session, BootPhase.BootstrapDownload, at);
            }
        }
        else
        {
            // Logon and streaming share the Stream Service's ports: the phase follows the traffic (see OnServerPacket). The
            // login server is the one the device asks on the logon port before its first read (the first read itself is
            // still counted in PvsLogon until its data comes, and may go to another server); a boot joined later takes the
            // first server it sees.
            if ((kind == PvsPortKind.Logon && session.Phase <= BootPhase.PvsLogon) || session.PvsServer == 0)
            {
                session.PvsServer = server;
            }
            if (session.Phase < BootPhase.PvsLogon)
            {
                Enter(session, BootPhase.PvsLogon, at);
            }

            if (session.Phase >= BootPhase.SingleReadMode)
            {
                session.LastStreamActivity = at;
            }

            var resent = session.NoteStreamRequest(at, Frame, serverPort, payload.Length);
            retry |= resent && session.Phase == BootPhase.SingleReadMode;
            if (retry)
            {
                session.PendingRequestRetries++;
            }

            if (session is { JoinedMidBoot: true, Phase: BootPhase.SingleReadMode, RequestsSinceServerSpoke: >= ConcurrentRequests })
            {
                // Several I/Os outstanding at once: only Windows' BNIStack driver does that, so a boot joined after its
                // DHCP marker has booted — it must not end as stuck in SingleReadMode when its streaming settles.
                Enter(session, BootPhase.BniStack, at);
                session.MarkBooted();
                Notify(session, SessionChangeKind.OutcomeChanged);
            }
        }

        if (retry)
        {
            CountRetry(session, at);
        }
        else
        {
            Progress(session, at);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnServerPacket(DateTime at, BootSession session, uint server, ushort serverPort, ushort devicePort, ReadOnlySpan<byte> payload)
    {
        LastFrameSession = session;
        session.LastActivity = at;
        if (session.Transfer.Matches(devicePort))
        {
            OnTftpDatagram(at, session, fromDevice: false, server, serverPort, payload);
            return;
        }

        if (!options.Ports.IsStreamService(serverPort))
        {
            return;
        }

        Counters.Pvs++;
        session.ServerSpokeSinceDevice = true;
        if (session.Phase == BootPhase.PvsLogon && payload.Length >= options.ReadDataMinPayload)
        {
            // vDisk data answers the first read: SingleReadMode began with the request it answers; what came before was the
            // logon. The data moves the boot on, so a long wait for it is a stall of the logon phase.
            Progress(session, at);
            Enter(session, BootPhase.SingleReadMode, session.PendingRequestAt ?? at, session.PendingRequestAt is null ? Frame : session.PendingRequestFrame);
            session.MoveRetriesIntoCurrentPhase(session.PendingRequestRetries);
        }

        if (session.Phase >= BootPhase.SingleReadMode)
        {
            session.LastStreamActivity = at;
            if (payload.Length >= options.ReadDataMinPayload)
            {
                // vDisk data: whoever sends it is the streaming server (the login server may have handed the device to another).
                session.StreamServer = server;
            }
        }
    }
}
