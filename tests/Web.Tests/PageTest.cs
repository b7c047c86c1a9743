using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

/// <summary>A page with the real API client over <see cref="StubApi"/>, a fake hub and a clock that moves only when told.</summary>
public abstract class PageTest : BunitContext
{
    public static readonly DateTime Now = new(2026, 12, 1, 7, 30, 0, DateTimeKind.Utc);

    protected StubApi Api { get; } = new();
    protected FakeLive Live { get; } = new();
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(Now));

    protected PageTest()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(new HttpClient(Api) { BaseAddress = new Uri("http://localhost/") });
        Services.AddScoped<ApiKey>();
        Services.AddScoped<FleetApi>();
        Services.AddSingleton<ILiveFleet>(Live);
        Services.AddSingleton<TimeProvider>(Clock);
        // The pages run in the browser (interactive); the server-rendered first paint is covered by the end-to-end tests.
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("WebAssembly", isInteractive: true));
    }

    /// <summary>
    /// Lets the fake clock run (throttled redraws and reloads wait on it) until the assertion holds, for at most
    /// about 5 s of real time.
    /// </summary>
    protected void Eventually(Action assertion)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                assertion();
                return;
            }
            catch (Exception) when (i < 100)
            {
                Clock.Advance(TimeSpan.FromMilliseconds(300));
                Thread.Sleep(50);
            }
        }
    }

    protected void GoTo(string relative) => Services.GetRequiredService<NavigationManager>().NavigateTo(relative);

    protected static SiteView Site(string name, int openAlerts = 0, int collectors = 1, int silent = 0) =>
        new(name, collectors, silent, 0, Enum.GetValues<BootPhase>().ToDictionary(p => p, _ => 0), 0, openAlerts);

    protected static DeviceView Device(string mac, string site = "HQ", BootPhase phase = BootPhase.BootstrapDownload,
        BootOutcome outcome = BootOutcome.InProgress, string? host = null, string? ip = null, double startedSecondsAgo = 10, int retries = 0) =>
        new(mac, site, ip, host, Firmware.Bios, Now.AddHours(-1), Now.AddSeconds(-1), Guid.NewGuid(), phase, outcome,
            Now.AddSeconds(-startedSecondsAgo), outcome == BootOutcome.Booted ? Now.AddSeconds(-startedSecondsAgo + 42) : null, retries);

    protected static Paged<T> Page<T>(params T[] items) => new(items, 1, 500, items.Length);
}
