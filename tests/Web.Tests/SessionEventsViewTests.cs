using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

public sealed class SessionEventsViewTests
{
    private static readonly DateTime At = new(2026, 12, 1, 7, 0, 0, DateTimeKind.Utc);
    private const string Session = """{"sessionId":"6f1c1f1e-0000-4000-8000-000000000001","mac":"52:54:00:aa:bb:cc","phase":"BootstrapDownload","outcome":"InProgress","startedAt":"2026-12-01T07:00:00Z"}""";

    [Fact]
    public void Reads_payloads_stored_as_sent_with_the_type_anywhere_and_skips_unreadable_ones()
    {
        TimelineEntry[] timeline =
        [
            // The API stores each event's JSON as the collector sent it: here "type" comes last.
            new(1, "issue", At, $$"""{"sequence":1,"timestamp":"2026-12-01T07:00:00Z","kind":"TftpError","phase":"BootstrapDownload","detail":"File not found","hint":"Check the TFTP path.","session":{{Session}},"type":"issue"}"""),
            new(2, "issue", At, "not json"),
            new(3, "retries", At, $$"""{"count":3,"phase":"BootstrapDownload","type":"retries","sequence":3,"timestamp":"2026-12-01T07:00:01Z","session":{{Session}}}"""),
        ];

        var problem = Assert.Single(SessionEventsView.Problems(timeline));
        Assert.Equal((BootIssueKind.TftpError, BootPhase.BootstrapDownload, "File not found"), (problem.Kind, problem.Phase, problem.Detail));
        var retry = Assert.Single(SessionEventsView.Retries(timeline));
        Assert.Equal((BootPhase.BootstrapDownload, 3), (retry.Phase, retry.Count));
    }

    [Fact]
    public void Marks_come_from_the_newest_snapshot_joined_mid_boot_and_the_loop_count()
    {
        const string joined = """{"sessionId":"6f1c1f1e-0000-4000-8000-000000000001","mac":"52:54:00:aa:bb:cc","phase":"SingleReadMode","outcome":"Failed","startedAt":"2026-12-01T07:00:00Z","joinedMidBoot":true,"loopCount":2}""";
        TimelineEntry[] timeline =
        [
            new(1, "sessionStarted", At, $$"""{"type":"sessionStarted","sequence":1,"timestamp":"2026-12-01T07:00:00Z","session":{{Session}}}"""),
            new(2, "sessionEnded", At, $$"""{"type":"sessionEnded","sequence":2,"timestamp":"2026-12-01T07:01:00Z","outcome":"Failed","session":{{joined}}}"""),
            new(3, "issue", At, "not json"),
        ];

        Assert.Equal(new SessionMarks(true, 2), SessionEventsView.Marks(timeline));
        Assert.Equal(new SessionMarks(false, 0), SessionEventsView.Marks(timeline.Take(1)));
        Assert.Equal(new SessionMarks(false, 0), SessionEventsView.Marks([]));
    }
}
