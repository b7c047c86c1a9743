using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tracking;

/// <summary>A problem seen in a boot, in plain words, with what an admin should check.</summary>
public sealed record BootIssue(BootIssueKind Kind, DateTime At, BootPhase Phase, string Detail, string Hint)
{
    /// <summary>The ordinal of the frame that showed the problem in the recording (for Stuck: the last one that made progress).</summary>
    public long Frame { get; init; }

    /// <summary>The server (or servers, sorted) a network-hygiene finding is about, so the API groups findings per server.</summary>
    public string? Server { get; init; }
}
