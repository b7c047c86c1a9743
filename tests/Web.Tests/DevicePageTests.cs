using System.Net;
using System.Text.Json;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Live;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Pages;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

public sealed class DevicePageTests : PageTest
{
    private const string Mac = "52:54:00:00:00:01";
    private static readonly Guid SessionId = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private static readonly DateTime T0 = Now.AddMinutes(-5);

    private void Known(BootPhase phase = BootPhase.PvsLogon, BootOutcome outcome = BootOutcome.Stuck, bool withSessions = true,
        params TimelineEntry[] more)
    {
        var device = Device(Mac, phase: phase, outcome: outcome) with { LastSessionId = withSessions ? SessionId : null };
        var session = new SessionView(SessionId, Mac, "10.1.1.156", null, Firmware.Bios, "ARDBP32.bin", phase, outcome, T0, null, null, 5,
            "10.1.1.1", "10.1.1.1", null);
        Api.Json("api/v1/devices/" + Mac, new DeviceDetail(device, withSessions ? [session] : []));
        var phases = new List<PhaseView>
        {
            new(BootPhase.IpAcquisition, T0, T0.AddSeconds(4), 4000, 2),
            new(BootPhase.BootstrapDownload, T0.AddSeconds(4), T0.AddSeconds(6), 2000, 3),
        };
        if (phase >= BootPhase.PvsLogon)
            phases.Add(new(BootPhase.PvsLogon, T0.AddSeconds(6), null, null, 0));
        var timeline = new List<TimelineEntry>
        {
            Entry(1, "retries", T0.AddSeconds(2), new RetriesEvent { Sequence = 1, Timestamp = T0.AddSeconds(2), Session = Snapshot(phase), Phase = BootPhase.IpAcquisition, Count = 2 }),
            Entry(2, "issue", T0.AddSeconds(40), new IssueEvent
            {
                Sequence = 2, Timestamp = T0.AddSeconds(40), Session = Snapshot(phase), Kind = BootIssueKind.Stuck, Phase = BootPhase.PvsLogon,
                Detail = "no progress for 30 s in PvsLogon", Hint = "check the Stream Service is running", Frame = 139,
            }),
            Entry(3, "issue", T0.AddSeconds(41), new IssueEvent
            {
                Sequence = 3, Timestamp = T0.AddSeconds(41), Session = Snapshot(phase), Kind = BootIssueKind.RetransmitStorm, Phase = BootPhase.BootstrapDownload,
            }),
        };
        Api.Json("api/v1/sessions/" + SessionId, new SessionDetail(session, "HQ", phases, [.. timeline, .. more]));
    }

    [Fact]
    public void Shows_progress_while_loading()
    {
        Known();
        var gate = Api.Hold("api/v1/devices/" + Mac);

        var page = Render<Device>(p => p.Add(x => x.Mac, Mac));

        Assert.True(page.FindAll("[data-testid=loading]").Count == 1, page.Markup);
        gate.SetResult();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=waterfall]")));
    }

    [Fact]
    public void Says_so_when_no_device_has_the_mac_or_it_has_no_session()
    {
        var page = Render<Device>(p => p.Add(x => x.Mac, "52:54:00:99:99:99"));
        page.WaitForAssertion(() => Assert.Contains("No device with MAC 52:54:00:99:99:99", page.Find("[data-testid=not-found]").TextContent, StringComparison.Ordinal));

        Known(withSessions: false);
        var empty = Render<Device>(p => p.Add(x => x.Mac, Mac));
        empty.WaitForAssertion(() => Assert.NotNull(empty.Find("[data-testid=empty]")));
    }

    [Fact]
    public void Draws_a_bar_per_phase_reached_with_retries_marked_and_lists_problems_with_hints()
    {
        Known();

        var page = Render<Device>(p => p.Add(x => x.Mac, Mac));

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=phase-bar]").Count));
        Assert.Equal(5, page.FindAll(".wf-row").Count);
        Assert.Equal("false", page.Find(".wf-row[data-phase=BniStack]").GetAttribute("data-reached"));
        Assert.Contains("open", page.Find(".wf-row[data-phase=PvsLogon] .wf-bar").ClassName, StringComparison.Ordinal);
        Assert.Single(page.FindAll(".wf-row[data-phase=IpAcquisition] [data-testid=retry-mark]"));
        Assert.Contains("3 retries", page.Find(".wf-row[data-phase=BootstrapDownload]").TextContent, StringComparison.Ordinal);
        var problems = page.FindAll("[data-testid=problems] li");
        Assert.Equal(2, problems.Count);
        Assert.Contains("check the Stream Service is running", problems[0].TextContent, StringComparison.Ordinal);
        // No hint from the collector: the dashboard's own word for the kind.
        Assert.Contains("Large Send Offload", problems[1].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_the_frame_each_phase_began_with_and_each_problem_showed_at_as_the_collector_counted_them()
    {
        // The newest snapshot naming frames speaks for the session; the problem without a frame shows none.
        var withFrames = Snapshot(BootPhase.PvsLogon) with
        {
            Phases =
            [
                new() { Phase = BootPhase.IpAcquisition, StartedAt = T0, EndedAt = T0.AddSeconds(4), StartFrame = 1 },
                new() { Phase = BootPhase.BootstrapDownload, StartedAt = T0.AddSeconds(4), EndedAt = T0.AddSeconds(6), StartFrame = 17 },
                new() { Phase = BootPhase.PvsLogon, StartedAt = T0.AddSeconds(6), StartFrame = 139 },
            ],
        };
        Known(more: Entry(4, "phaseEntered", T0.AddSeconds(6),
            new PhaseEnteredEvent { Sequence = 4, Timestamp = T0.AddSeconds(6), Session = withFrames, Phase = BootPhase.PvsLogon }));

        var page = Render<Device>(p => p.Add(x => x.Mac, Mac));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=phase-frames]")));
        Assert.Equal(["frame 1", "frame 17", "frame 139"], page.FindAll("[data-testid=phase-frame]").Select(e => e.TextContent));
        Assert.Equal("frame 17", page.Find("[data-testid=phase-frames] [data-phase=BootstrapDownload] [data-testid=phase-frame]").TextContent);
        var problems = page.FindAll("[data-testid=problems] li");
        Assert.Equal("frame 139", problems[0].QuerySelector("[data-testid=problem-frame]")!.TextContent);
        Assert.Null(problems[1].QuerySelector("[data-testid=problem-frame]"));
    }

    [Fact]
    public void Names_no_frames_when_the_collector_sent_none()
    {
        Known();

        var page = Render<Device>(p => p.Add(x => x.Mac, Mac));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=problems] li").Count));
        Assert.Empty(page.FindAll("[data-testid=phase-frames]"));
    }

    [Fact]
    public void Shows_the_api_error()
    {
        Api.Problem("api/v1/devices/" + Mac, HttpStatusCode.ServiceUnavailable, "Database busy.");

        var page = Render<Device>(p => p.Add(x => x.Mac, Mac));

        page.WaitForAssertion(() => Assert.Contains("Database busy.", page.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void Reloads_when_the_device_changes_live()
    {
        Known(BootPhase.BootstrapDownload, BootOutcome.InProgress);
        var page = Render<Device>(p => p.Add(x => x.Mac, Mac));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=phase-bar]").Count));

        Known(BootPhase.PvsLogon, BootOutcome.InProgress);
        Live.Push(new SessionChange("HQ", SessionId, "52:54:00:00:00:02", null, null, BootPhase.PvsLogon, BootOutcome.InProgress,
            new DateTimeOffset(T0), null, new DateTimeOffset(Now)));
        Live.Push(new SessionChange("HQ", SessionId, Mac, null, null, BootPhase.PvsLogon, BootOutcome.InProgress,
            new DateTimeOffset(T0), null, new DateTimeOffset(Now)));

        Eventually(() => Assert.Equal(3, page.FindAll("[data-testid=phase-bar]").Count));
        Assert.Equal(2, Api.Count("api/v1/devices/" + Mac));
    }

    private static SessionSnapshot Snapshot(BootPhase phase) => new()
    {
        SessionId = SessionId, Mac = Mac, Phase = phase, Outcome = BootOutcome.InProgress, StartedAt = T0,
    };

    private static TimelineEntry Entry(long sequence, string type, DateTime at, IngestEvent e) =>
        new(sequence, type, at, JsonSerializer.Serialize(e, FleetApi.Json));
}
