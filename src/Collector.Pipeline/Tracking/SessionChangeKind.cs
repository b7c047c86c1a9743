namespace PvsFleet.Collector.Tracking;

/// <summary>What just happened to a session, for whoever turns sessions into reports or events.</summary>
public enum SessionChangeKind
{
    Started,
    PhaseEntered,
    IssueRaised,
    OutcomeChanged,

    /// <summary>The session is over (or given up) and the tracker has forgotten it.</summary>
    Ended,
}
