using PvsFleet.Collector.Analysis;
using PvsFleet.Contracts;

namespace PvsFleet.CollectorAgent.Tests.Support;

/// <summary>Boot sessions as the API stored them, in the shape <c>analyze</c> reports them, to compare the two.</summary>
public static class StoredBoots
{
    public sealed record Session(string Mac, DateTime Start, DateTime? End, BootOutcome Outcome, BootPhase Phase, IReadOnlyList<PhaseReport> Phases)
    {
        public override string ToString() =>
            $"{Mac} {Start:O}–{End:O} {Outcome} in {Phase}: {string.Join("; ", Phases.Select(p => $"{p.Name} {p.Start:HH:mm:ss.ffffff}–{p.End:HH:mm:ss.ffffff} r{p.Retries}"))}";
    }

    public static async Task<List<Session>> ReadAsync(TestDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        var phases = (await database.QueryAsync(
                """SELECT "SessionId", "Phase", "StartedAt", "EndedAt", "Retries" FROM "SessionPhases" ORDER BY "Phase" """,
                r => (Id: r.GetGuid(0), Phase: new PhaseReport((BootPhase)r.GetInt32(1), Utc(r.GetDateTime(2)), r.IsDBNull(3) ? null : Utc(r.GetDateTime(3)), r.GetInt32(4)))))
            .ToLookup(p => p.Id, p => p.Phase);
        return (await database.QueryAsync(
                """SELECT "Id", "Mac", "StartedAt", "EndedAt", "Outcome", "Phase" FROM "Sessions" """,
                r => (Id: r.GetGuid(0), Mac: r.GetString(1), Start: Utc(r.GetDateTime(2)), End: r.IsDBNull(3) ? (DateTime?)null : Utc(r.GetDateTime(3)),
                    Outcome: (BootOutcome)r.GetInt32(4), Phase: (BootPhase)r.GetInt32(5))))
            .Select(s => new Session(s.Mac, s.Start, s.End, s.Outcome, s.Phase, phases[s.Id].ToList()))
            .OrderBy(s => s.Mac, StringComparer.Ordinal).ThenBy(s => s.Start)
            .ToList();
    }

    public static List<Session> From(AnalysisReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Devices
            .SelectMany(d => d.Sessions.Select(s => new Session(d.Mac, s.Start, s.End, s.Outcome, s.Phase, s.Phases)))
            .OrderBy(s => s.Mac, StringComparer.Ordinal).ThenBy(s => s.Start)
            .ToList();
    }

    /// <summary>Lists every difference, so a failure says what differs rather than that something does.</summary>
    public static void AssertSame(IReadOnlyList<Session> expected, IReadOnlyList<Session> stored)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(stored);
        var missing = expected.Where(e => !stored.Any(s => Same(e, s))).Take(5).ToList();
        var extra = stored.Where(s => !expected.Any(e => Same(e, s))).Take(5).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && expected.Count == stored.Count,
            $"{expected.Count} sessions analysed, {stored.Count} stored.\nAnalysed, not stored:\n  {string.Join("\n  ", missing)}\nStored, not analysed:\n  {string.Join("\n  ", extra)}");
    }

    private static bool Same(Session a, Session b) =>
        a.Mac == b.Mac && a.Start == b.Start && a.End == b.End && a.Outcome == b.Outcome && a.Phase == b.Phase && a.Phases.Select(p => p.Timing).SequenceEqual(b.Phases.Select(p => p.Timing));

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
