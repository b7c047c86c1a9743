using System.Net;
using System.Net.Sockets;

namespace PvsFleet.Deploy.Tests.Support;

/// <summary>One replica of the real API as its own process on a loopback port, sharing a database and Redis.</summary>
public sealed class ApiReplica : IAsyncDisposable
{
    private readonly Dictionary<string, string> environment;
    private ChildProcess? process;

    public ApiReplica(string postgres, IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Port = FreePort();
        environment = new Dictionary<string, string>(settings)
        {
            ["ConnectionStrings__Postgres"] = postgres,
            // Plain "Urls" outranks the API's appsettings.json, which names the default port.
            ["Urls"] = $"http://127.0.0.1:{Port}",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}/");
    public string Output => process?.Output ?? "";

    public async Task StartAsync()
    {
        process = ChildProcess.Start("PvsFleet.Api.dll", environment);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 240; attempt++)
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

    /// <summary>SIGKILL, as when a node dies: the replica's database sessions end with its sockets.</summary>
    public void Kill() => process?.Kill();

    /// <summary>A collector key for a site, made with the API's own command.</summary>
    public async Task<string> AddCollectorAsync(string site, string name)
    {
        var env = new Dictionary<string, string>(environment) { ["Urls"] = "http://127.0.0.1:0" };
        var (code, output) = await ChildProcess.RunAsync("PvsFleet.Api.dll", env, TimeSpan.FromMinutes(2), "collectors", "add", "--site", site, "--name", name);
        Assert.True(code == 0, output);
        return output.Trim().Split('\n')[^1].Trim();
    }

    public ValueTask DisposeAsync()
    {
        process?.Dispose();
        process = null;
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
