using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PvsFleet.Deploy.Tests.Support;

namespace PvsFleet.Deploy.Tests;

/// <summary><c>PvsFleet.Api --demo</c> on the embedded SQLite default: nothing but the API process.</summary>
public sealed class DemoTests : IDisposable
{
    private readonly string data = Path.Combine(Path.GetTempPath(), "pvsfleet-demo-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Demo_fills_three_sites_of_two_collectors_each_with_30_days_of_history_and_the_real_captures_under_macs_of_their_own()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var url = new Uri($"http://127.0.0.1:{port}/");
        using var api = ChildProcess.Start("PvsFleet.Api.dll", new Dictionary<string, string>
        {
            ["Urls"] = url.ToString(),
            ["PvsFleet__DataDirectory"] = data,
            ["ConnectionStrings__Postgres"] = "",
            ["DOTNET_ENVIRONMENT"] = "Production",
        }, "--demo");
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };

        // The history is written first, then the six collectors play: the real devices within seconds.
        Dictionary<string, (int Devices, int Collectors)> sites = [];
        for (var i = 0; i < 240 && !api.HasExited; i++)
        {
            await Task.Delay(500);
            try
            {
                using var json = JsonDocument.Parse(await http.GetStringAsync("api/v1/sites"));
                sites = json.RootElement.EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!,
                    s => (s.GetProperty("devices").GetInt32(), s.GetProperty("collectors").GetInt32()));
                if (sites.Count == 3 && await SeenAsync(http, "52:54:00:a0:00:01") && await SeenAsync(http, "52:54:00:a0:00:02"))
                    break;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
        }

        Assert.True(sites.Count == 3, $"the demo shows {sites.Count} sites:\n" + api.Output);
        foreach (var (name, (devices, collectors)) in sites)
        {
            Assert.True(devices >= 10, $"site {name} shows {devices} devices");
            Assert.Equal(2, collectors);
        }
        // Both recordings were made with one VM MAC: each plays under a MAC of its own, and nothing under the recorded one.
        Assert.True(await SeenAsync(http, "52:54:00:a0:00:01") && await SeenAsync(http, "52:54:00:a0:00:02"), api.Output);
        Assert.False(await SeenAsync(http, "52:54:00:00:00:01"));

        var to = DateTime.UtcNow;
        using var days = JsonDocument.Parse(await http.GetStringAsync(
            $"api/v1/stats/boot-durations?bucket=day&from={to.AddDays(-31):yyyy-MM-ddTHH:mm:ssZ}&to={to:yyyy-MM-ddTHH:mm:ssZ}"));
        var buckets = days.RootElement.GetProperty("buckets").EnumerateArray()
            .Where(b => b.GetProperty("stats").GetProperty("count").GetInt64() > 0).ToList();
        Assert.True(buckets.Count >= 30, $"history has {buckets.Count} days with boots");
        // The demo replays plain pcap/pcapng files through the mapped reader: libpcap stays optional for the API (its
        // image has none), so neither it nor SharpPcap may be loaded, even where libpcap is installed.
        var mapped = await File.ReadAllTextAsync($"/proc/{api.Id}/maps");
        Assert.DoesNotContain("libpcap", mapped, StringComparison.Ordinal);
        Assert.DoesNotContain("SharpPcap.dll", mapped, StringComparison.Ordinal);
        Assert.DoesNotContain("first mapped explicitly and then ignored", api.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot be executed in a transaction", api.Output, StringComparison.Ordinal);
    }

    private static async Task<bool> SeenAsync(HttpClient http, string mac) =>
        (await http.GetAsync("api/v1/devices/" + mac)).IsSuccessStatusCode;

    public void Dispose()
    {
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
