using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Tests;

/// <summary>Builds the events a collector would send for a boot.</summary>
internal sealed class Boot(string mac, DateTimeOffset start, Guid? id = null)
{
    private readonly List<PhaseTiming> phases = [new PhaseTiming { Phase = BootPhase.IpAcquisition, StartedAt = start }];

    public Guid Id { get; } = id ?? Guid.NewGuid();
    public BootPhase Phase { get; private set; } = BootPhase.IpAcquisition;
    public BootOutcome Outcome { get; private set; } = BootOutcome.InProgress;
    public DateTimeOffset? EndedAt { get; private set; }
    public string? HostName { get; set; }
    public Firmware Firmware { get; set; } = Firmware.Uefi;
    public string? BootFile { get; set; } = "pvsnbpx64.efi";
    public SessionServers Servers { get; set; } = new() { Dhcp = "10.0.0.1", Tftp = "10.0.0.2", Pvs = "10.0.0.3" };

    /// <summary>The login server alone, for tests that only vary that one.</summary>
    public string? PvsServer { get => Servers.Pvs; set => Servers = Servers with { Pvs = value }; }

    /// <summary>Retries of the phase the boot is in, sent with the next snapshot.</summary>
    public void Retries(int count) => phases[^1] = phases[^1] with { Retries = count };

    public SessionSnapshot Snapshot() => new()
    {
        SessionId = Id, Mac = mac, Ip = "10.0.0.5", Firmware = Firmware, BootFile = BootFile, HostName = HostName,
        Phase = Phase, Outcome = Outcome, StartedAt = start, EndedAt = EndedAt, Phases = [.. phases], Servers = Servers,
    };

    public SessionStartedEvent Started(long seq) => new() { Sequence = seq, Timestamp = start, Session = Snapshot() };

    public PhaseEnteredEvent Enter(long seq, BootPhase phase, DateTimeOffset at)
    {
        phases[^1] = phases[^1] with { EndedAt = at };
        phases.Add(new PhaseTiming { Phase = phase, StartedAt = at });
        Phase = phase;
        return new PhaseEnteredEvent { Sequence = seq, Timestamp = at, Phase = phase, Session = Snapshot() };
    }

    /// <summary>Retries counted in the current phase: the snapshot carries the running total.</summary>
    public RetriesEvent Retry(long seq, int count, DateTimeOffset at)
    {
        phases[^1] = phases[^1] with { Retries = phases[^1].Retries + count };
        return new RetriesEvent { Sequence = seq, Timestamp = at, Phase = Phase, Count = count, Session = Snapshot() };
    }

    public SessionEndedEvent End(long seq, BootOutcome outcome, DateTimeOffset at)
    {
        Outcome = outcome;
        EndedAt = at;
        return new SessionEndedEvent { Sequence = seq, Timestamp = at, Outcome = outcome, Session = Snapshot() };
    }

    /// <summary>A whole successful boot: the given seconds per phase before BNIStack, then BNIStack.</summary>
    public static List<IngestEvent> Booted(ref long seq, string mac, DateTimeOffset start, params double[] phaseSeconds)
    {
        var boot = new Boot(mac, start);
        var events = new List<IngestEvent> { boot.Started(seq++) };
        var at = start;
        for (var i = 0; i < phaseSeconds.Length; i++)
        {
            at += TimeSpan.FromSeconds(phaseSeconds[i]);
            events.Add(boot.Enter(seq++, (BootPhase)(i + 1), at));
        }
        events.Add(boot.End(seq++, BootOutcome.Booted, at));
        return events;
    }
}
