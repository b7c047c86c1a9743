using Microsoft.Playwright;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;
using PvsFleet.EndToEnd.Tests.Support;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>
/// Network hygiene findings on the Alerts page: the collector's issue events (worded as its tracker words them; the
/// tracker's detection is covered in Collector.Tests) of a storm where a second PXE service answers, UEFI clients are
/// pointed at the BIOS bootstrap and TFTP blocks arrive fragmented become one alert per finding and server, each with
/// its devices and its hint.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class HygieneTests(Browser browser) : IAsyncLifetime
{
    private const string Site = "Lab-Hygiene";
    private const string PvsPxe = "10.20.0.5";
    private const string Rogue = "10.20.0.66";

    private readonly FleetServer api = new();
    private readonly SyntheticBoots synthetic = new();
    private long sequence;

    public Task InitializeAsync() => api.InitializeAsync();

    public Task DisposeAsync() => api.DisposeAsync();

    [Fact]
    public async Task Hygiene_findings_show_on_the_alerts_page_one_per_finding_and_server_with_devices_and_a_hint()
    {
        var key = await api.AddCollectorAsync(Site, "pvs-hygiene");
        var page = await browser.NewPageAsync();
        // Filtered to hygiene as an admin would: these made-up boots stop in their bootstrap download, so they are
        // also flagged as stuck within seconds (the tests' short thresholds).
        await page.GotoAsync(api.Url + $"alerts?site={Site}&kind={AlertKind.NetworkHygiene}");
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync();

        var now = DateTimeOffset.UtcNow;
        var boots = Enumerable.Range(0, 8)
            .Select(i => synthetic.Entered(key, SyntheticBoots.Mac(21, i), BootPhase.BootstrapDownload, now.AddSeconds(-30 + i), Guid.NewGuid()))
            .ToList();
        // In ascending sequence: the boots first, then their findings.
        var events = new List<IngestEvent>(boots);
        for (var i = 0; i < boots.Count; i++)
        {
            var entered = boots[i];
            events.Add(Issue(entered.Session, BootIssueKind.MultiplePxeServers, BootPhase.IpAcquisition, $"{PvsPxe}, {Rogue}",
                $"two servers gave this PXE client boot information: {PvsPxe} and {Rogue}",
                "a rogue or second PXE service (WDS, another PVS PXE service, a DHCP scope with options 66/67) races the PVS one: keep one per segment, or scope the other away from target devices"));
            if (i < 3)
            {
                events.Add(Issue(entered.Session, BootIssueKind.BootstrapFirmwareMismatch, BootPhase.BootstrapDownload, PvsPxe,
                    "a Uefi client asked for ARDBP32.bin, the bootstrap of the other firmware",
                    "point DHCP option 67 (or the PXE service) at ARDBP32.bin for BIOS and pvsnbpx64.efi for UEFI, for example with a vendor-class (option 60/93) policy"));
            }
            if (i < 2)
            {
                events.Add(Issue(entered.Session, BootIssueKind.Fragmentation, BootPhase.BootstrapDownload, PvsPxe,
                    "the device's TFTP datagrams arrive in IP fragments",
                    "the TFTP block size is above what the path carries: lower the PXE service's or TFTP server's maximum blksize (1432 fits a 1500-byte MTU with VLAN tags), or fix the path MTU"));
            }
        }
        await api.IngestAsync(key, events);

        // The page reloads live as the evaluator opens the alerts (every second in these tests).
        var hygiene = page.Locator("[data-alert][data-state=Open]:has([data-testid=hygiene])");
        await Expect(hygiene).ToHaveCountAsync(3, new() { Timeout = 60_000 });
        await Expect(page.Locator("[data-alert]")).ToHaveCountAsync(3);
        var rogue = hygiene.Filter(new() { HasText = "Several PXE servers" });
        await Expect(rogue.Locator("[data-testid=hygiene-server]")).ToHaveTextAsync($"{PvsPxe}, {Rogue}");
        await Expect(rogue.Locator("[data-testid=hygiene-devices]")).ToHaveTextAsync("8 devices");
        await Expect(rogue.Locator("[data-testid=hygiene-hint]")).ToContainTextAsync("rogue or second PXE service");
        var mismatch = hygiene.Filter(new() { HasText = "Bootstrap for the other firmware" });
        await Expect(mismatch.Locator("[data-testid=hygiene-devices]")).ToHaveTextAsync("3 devices");
        await Expect(mismatch).ToContainTextAsync("ARDBP32.bin");
        var fragments = hygiene.Filter(new() { HasText = "IP fragmentation" });
        await Expect(fragments.Locator("[data-testid=hygiene-devices]")).ToHaveTextAsync("2 devices");
        await Expect(fragments.Locator("[data-testid=hygiene-hint]")).ToContainTextAsync("blksize");

        var stored = await api.GetAsync<Paged<AlertView>>($"api/v1/alerts?site={Site}&kind=NetworkHygiene");
        Assert.Equal([HygieneFinding.MultiplePxeServers, HygieneFinding.Fragmentation, HygieneFinding.BootstrapFirmwareMismatch],
            stored.Items.Select(a => a.Finding!.Value).Order());
        await Browser.ScreenshotAsync(page, "hygiene-alerts");
    }

    private IssueEvent Issue(SessionSnapshot session, BootIssueKind kind, BootPhase phase, string server, string detail, string hint) => new()
    {
        // After the boots' own events: the synthetic boots number theirs from 1 per collector, these from 1,000.
        Sequence = 1000 + ++sequence, Timestamp = DateTimeOffset.UtcNow, Session = session, Kind = kind, Phase = phase,
        Detail = detail, Hint = hint, Server = server,
    };

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
