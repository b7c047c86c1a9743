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
    public async Task Demo_replays_the_samples_and_a_storm_side_by_side_through_the_in_process_collector()
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

        // The captures play side by side from now: the real devices within seconds, the storm's 60 over 90 s.
        var devices = 0;
        for (var i = 0; i < 240 && devices < 10 && !api.HasExited; i++)
        {
            await Task.Delay(500);
            try
            {
                using var sites = JsonDocument.Parse(await http.GetStringAsync("api/v1/sites"));
                devices = sites.RootElement.EnumerateArray()
                    .Where(s => s.GetProperty("name").GetString() == "demo")
                    .Sum(s => s.GetProperty("devices").GetInt32());
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
        }

        Assert.True(devices >= 10, $"the demo site shows {devices} devices:\n" + api.Output);
        Assert.True(File.Exists(Path.Combine(data, "demo-storm.pcapng")), "no simulated storm was written");
        Assert.Contains("Demo: replaying real-bios-1.pcap, real-uefi-1.pcap, demo-storm.pcapng", api.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
