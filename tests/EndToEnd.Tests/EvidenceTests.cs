using System.Buffers.Binary;
using Microsoft.Playwright;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;
using PvsFleet.EndToEnd.Tests.Support;

namespace PvsFleet.EndToEnd.Tests;

/// <summary>
/// A failed boot's packets, from the collector's replay to the browser: the collector clips the failed session and uploads
/// it, the device page offers the download, and the file the browser saves is a pcapng holding the clip's frames.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class EvidenceTests(Browser browser) : IAsyncLifetime
{
    private readonly FleetServer api = new();

    public Task InitializeAsync() => this.api.InitializeAsync();

    public Task DisposeAsync() => this.api.DisposeAsync();

    [Fact]
    public async Task A_failed_devices_page_offers_its_packets_and_the_download_is_a_pcapng_of_its_frames()
    {
        var key = await this.api.AddCollectorAsync("Lab-Evidence", "pvs-evidence");
        var storm = await Collector.SimulateAsync(devices: 10, failureShare: 1);
        await Collector.ReplayAsync(this.api, key, storm);

        var devices = (await this.api.GetAsync<Paged<DeviceView>>("api/v1/devices?site=Lab-Evidence&pageSize=100")).Items;
        var sessions = new List<SessionView>();
        foreach (var d in devices)
            sessions.AddRange((await this.api.GetAsync<DeviceDetail>("api/v1/devices/" + d.Mac)).Sessions);
        var failed = sessions.First(s => s.Outcome == BootOutcome.Failed);
        var session = await this.api.GetAsync<SessionDetail>($"api/v1/sessions/{failed.Id}");
        Assert.NotNull(session.Evidence);
        Assert.Equal(failed.Mac, session.Evidence.Mac);
        // Every failed or stuck session has its clip; no booted one has.
        foreach (var s in sessions)
        {
            var evidence = (await this.api.GetAsync<SessionDetail>($"api/v1/sessions/{s.Id}")).Evidence;
            Assert.True((evidence is not null) == (s.Outcome is BootOutcome.Failed or BootOutcome.Stuck), $"{s.Mac} {s.Outcome}: clip {evidence is not null}");
        }

        var page = await browser.NewPageAsync();
        await page.GotoAsync(this.api.Url + $"devices/{failed.Mac}?session={failed.Id}");
        // The server-rendered page does not act on clicks: wait for the browser's runtime (its live connection).
        await Expect(page.Locator("[data-testid=live-state][data-state=Live]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var button = page.Locator("[data-testid=evidence-download]");
        await Expect(button).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(button).ToContainTextAsync("Download the packets of this boot");
        await Expect(page.Locator("[data-testid=evidence-summary]")).ToContainTextAsync($"{session.Evidence.Frames} frames");
        await Browser.ScreenshotAsync(page, "evidence-download");

        var download = await page.RunAndWaitForDownloadAsync(() => button.ClickAsync());

        Assert.EndsWith(".pcapng", download.SuggestedFilename, StringComparison.Ordinal);
        Assert.StartsWith(failed.Mac.Replace(':', '-'), download.SuggestedFilename, StringComparison.Ordinal);
        var path = Path.Combine(Repo.TemporaryDirectory(), download.SuggestedFilename);
        await download.SaveAsAsync(path);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(session.Evidence.Bytes, bytes.Length);
        var (interfaces, packets) = CountBlocks(bytes);
        Assert.True(interfaces >= 1, "no interface description");
        Assert.Equal(session.Evidence.Frames, packets);
        // A boot that is over offers no capture.
        await Expect(page.Locator("[data-testid=evidence-capture]")).ToHaveCountAsync(0);
    }

    /// <summary>Walks the pcapng blocks: a section header first, then interface descriptions and enhanced packet blocks.</summary>
    private static (int Interfaces, int Packets) CountBlocks(byte[] file)
    {
        Assert.Equal(0x0A0D0D0Au, BinaryPrimitives.ReadUInt32LittleEndian(file));
        Assert.Equal(0x1A2B3C4Du, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8)));
        int interfaces = 0, packets = 0, offset = 0;
        while (offset < file.Length)
        {
            var type = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset));
            var length = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(offset + 4));
            Assert.True(length >= 12 && length % 4 == 0 && offset + length <= file.Length, $"block at {offset} is damaged");
            Assert.Equal(length, BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(offset + length - 4)));
            interfaces += type == 1 ? 1 : 0;
            packets += type == 6 ? 1 : 0;
            offset += length;
        }

        return (interfaces, packets);
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
