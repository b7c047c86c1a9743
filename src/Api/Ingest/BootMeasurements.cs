using PvsFleet.Contracts;

namespace PvsFleet.Api.Ingest;

/// <summary>
/// What a batch taught about boots, each fact once: a session or phase counts when its stored state goes from open
/// to ended, retries by how much the phase's running total grew. A re-sent or replayed event never reaches the merge
/// (its sequence is known), so it adds nothing; a batch rolled back and retried starts from a fresh instance.
/// </summary>
public sealed class BootMeasurements
{
    private readonly List<EndedSession> sessions = [];
    private readonly List<EndedPhase> phases = [];
    private readonly List<PhaseRetries> retries = [];

    public IReadOnlyList<EndedSession> Sessions => sessions;
    public IReadOnlyList<EndedPhase> Phases => phases;
    public IReadOnlyList<PhaseRetries> Retries => this.retries;

    public void SessionEnded(BootOutcome outcome, double seconds) => sessions.Add(new(outcome, seconds));

    public void PhaseEnded(BootPhase phase, double seconds) => phases.Add(new(phase, seconds));

    public void RetriesCounted(BootPhase phase, int added) => this.retries.Add(new(phase, added));

    /// <summary>Two parts of one batch applied apart (the one-by-one fallback).</summary>
    public BootMeasurements Combine(BootMeasurements later)
    {
        ArgumentNullException.ThrowIfNull(later);
        var both = new BootMeasurements();
        both.sessions.AddRange([.. sessions, .. later.sessions]);
        both.phases.AddRange([.. phases, .. later.phases]);
        both.retries.AddRange([.. this.retries, .. later.retries]);
        return both;
    }
}

/// <summary>A session that reached its outcome; for a booted one the seconds to BNIStack, otherwise to its end.</summary>
public readonly record struct EndedSession(BootOutcome Outcome, double Seconds);

public readonly record struct EndedPhase(BootPhase Phase, double Seconds);

public readonly record struct PhaseRetries(BootPhase Phase, int Added);
