using System.Text.Json;
using Microsoft.Playwright;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;
using PvsFleet.EndToEnd.Tests.Support;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>
/// The Wireshark hand-off across the fleet: a capture replayed by the collector to the API names, on the device page,
/// the same frames as <c>analyze --json</c> of that file, so frame.number == N lands where the page says.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class FrameReferenceTests(Browser browser) : IAsyncLifetime
{
    private const string UefiMac = "52:54:00:00:00:01";
    private readonly FleetServer api = new();

    public Task InitializeAsync() => api.InitializeAsync();

    public Task DisposeAsync() => api.DisposeAsync();

    [Fact]
    public async Task A_replayed_captures_sessions_name_the_frames_analyze_names_on_the_api_and_the_device_page()
    {
        var capture = Repo.Capture("real-uefi-1.pcap");
        var analyzed = await AnalyzeAsync(capture);
        var key = await api.AddCollectorAsync("Lab-Frames", "pvs-frames");
        await Collector.ReplayAsync(api, key, capture);

        // The replay moves the boots to the present: the sessions pair up with analyze's in the order they started.
        var device = await api.GetAsync<DeviceDetail>("api/v1/devices/" + UefiMac);
        var sessions = device.Sessions.OrderBy(s => s.StartedAt).ToList();
        Assert.Equal(analyzed.Count, sessions.Count);
        for (var i = 0; i < sessions.Count; i++)
        {
            var session = await api.GetAsync<SessionDetail>($"api/v1/sessions/{sessions[i].Id}");
            var events = session.Timeline.OrderBy(t => t.Sequence)
                .Select(t => JsonSerializer.Deserialize<IngestEvent>(t.Payload, Payload)).OfType<SessionEvent>().ToList();
            Assert.Equal(analyzed[i].PhaseFrames, events[^1].Session.Phases.Select(p => p.StartFrame));
            Assert.Equal(analyzed[i].IssueFrames.Order(), events.OfType<IssueEvent>().Select(e => e.Frame).Order());
        }
        Assert.Contains(analyzed, a => a.IssueFrames.Any(f => f > 0));

        // The last session (stuck in its logon) on the device page: the frames analyze names, as the page shows them.
        var page = await browser.NewPageAsync();
        await page.GotoAsync(api.Url + $"devices/{UefiMac}?session={sessions[^1].Id}");
        await Assertions.Expect(page.Locator("[data-testid=phase-frames]")).ToBeVisibleAsync();
        Assert.Equal(analyzed[^1].PhaseFrames.Select(f => $"frame {f}"), await page.Locator("[data-testid=phase-frame]").AllTextContentsAsync());
        var problemFrames = analyzed[^1].IssueFrames.Where(f => f is not null).Select(f => $"frame {f}").Order();
        Assert.Equal(problemFrames, (await page.Locator("[data-testid=problem-frame]").AllTextContentsAsync()).Order());
        await Browser.ScreenshotAsync(page, "device-frame-references");
    }

    private static readonly JsonSerializerOptions Payload = new(FleetServer.Json) { AllowOutOfOrderMetadataProperties = true };

    private sealed record Analyzed(DateTime Start, List<long?> PhaseFrames, List<long?> IssueFrames);

    /// <summary>The collector's own <c>analyze --json</c> of the file: each session of the device, with its frame numbers.</summary>
    private static async Task<List<Analyzed>> AnalyzeAsync(string capture)
    {
        // Its own process, stdout only: the report, without the progress and warnings of stderr.
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Repo.Dll("Collector", "PvsFleet.Collector.dll"), "analyze", capture, "--json" })
            start.ArgumentList.Add(arg);
        using var analyze = System.Diagnostics.Process.Start(start)!;
        var stderr = analyze.StandardError.ReadToEndAsync();
        var json = await analyze.StandardOutput.ReadToEndAsync();
        await analyze.WaitForExitAsync();
        Assert.True(analyze.ExitCode == 0, $"analyze exited with {analyze.ExitCode}: {await stderr}");
        using var report = JsonDocument.Parse(json);
        var device = report.RootElement.GetProperty("devices").EnumerateArray()
            .Single(d => string.Equals(d.GetProperty("mac").GetString(), UefiMac, StringComparison.OrdinalIgnoreCase));
        return [.. device.GetProperty("sessions").EnumerateArray().Select(s => new Analyzed(
            s.GetProperty("start").GetDateTime(),
            [.. s.GetProperty("phases").EnumerateArray().Select(p => Number(p.GetProperty("startFrame")))],
            [.. s.GetProperty("issues").EnumerateArray().Select(i => Number(i.GetProperty("frame")))]))
            .OrderBy(a => a.Start)];
    }

    private static long? Number(JsonElement reference) =>
        reference.ValueKind == JsonValueKind.Null ? null : reference.GetProperty("number").GetInt64();
}
