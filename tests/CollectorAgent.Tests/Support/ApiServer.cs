using System.Net;
using System.Net.Sockets;

namespace PvsFleet.CollectorAgent.Tests.Support;

/// <summary>
/// The real API as its own process on a loopback port over a test database — so a test can stop it and start it
/// again on the same address, as an outage does.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private readonly Dictionary<string, string> environment;
    private ChildProcess? process;

    public ApiServer(TestDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        Port = FreePort();
        environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.ConnectionString ?? "",
            ["PvsFleet__Alerts__Enabled"] = "false",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public async Task StartAsync()
    {
        process = ChildProcess.Start("PvsFleet.Api.dll", environment);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 120; attempt++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(Url, "readyz"))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException($"the API did not become ready on {Url}:\n{process.Output}");
    }

    public void Stop()
    {
        process?.Dispose();
        process = null;
    }

    /// <summary>A collector key for a site, made with the API's own command, as an admin would.</summary>
    public async Task<string> AddCollectorAsync(string site, string name)
    {
        var env = new Dictionary<string, string>(environment) { ["ASPNETCORE_URLS"] = "http://127.0.0.1:0" };
        var (code, output) = await ChildProcess.RunAsync("PvsFleet.Api.dll", env, TimeSpan.FromMinutes(2), "collectors", "add", "--site", site, "--name", name);
        Assert.True(code == 0, output);
        return output.Trim().Split('\n')[^1].Trim();
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
