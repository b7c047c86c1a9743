using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.EndToEnd.Tests.Support;

/// <summary>
/// The API as its own process on a loopback port, serving the dashboard, over a database of its own: PostgreSQL on
/// the server named by PVSFLEET_TEST_POSTGRES (required when CI=true), else an SQLite file in a temporary folder.
/// Alerts are evaluated every second with short stuck thresholds, so a stuck boot is flagged within seconds.
/// </summary>
public sealed class FleetServer(IReadOnlyDictionary<string, string>? settings = null, params string[] arguments) : IAsyncLifetime
{
    public const string PostgresVariable = "PVSFLEET_TEST_POSTGRES";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string? server = Environment.GetEnvironmentVariable(PostgresVariable);
    private readonly string database = "pvsfleet_e2e_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string data = Repo.TemporaryDirectory();
    private readonly Dictionary<string, string> environment = [];
    private ChildProcess? api;

    public int Port { get; } = FreePort();
    public Uri Url => new($"http://127.0.0.1:{Port}/");
    public HttpClient Http { get; private set; } = null!;
    public string Storage => this.server is null ? "SQLite" : "PostgreSQL";

    public async Task InitializeAsync()
    {
        if (string.IsNullOrWhiteSpace(this.server))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{PostgresVariable} is not set, and CI=true: the end-to-end tests run against PostgreSQL in CI.");
        }
        else
        {
            await using var connection = new NpgsqlConnection(this.server);
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{this.database}\"", connection);
            await create.ExecuteNonQueryAsync();
            environment["ConnectionStrings__Postgres"] = new NpgsqlConnectionStringBuilder(this.server) { Database = this.database }.ToString();
        }
        environment["PvsFleet__DataDirectory"] = data;
        environment["PvsFleet__Alerts__EvaluationInterval"] = "00:00:01";
        foreach (var phase in new[] { "IpAcquisition", "BootstrapDownload", "PvsLogon", "SingleReadMode" })
            environment[$"PvsFleet__Alerts__StuckThresholds__{phase}"] = "5";
        environment["DOTNET_ENVIRONMENT"] = "Production";
        environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
            environment[name] = value;

        var dll = Repo.Dll("Api", "PvsFleet.Api.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException("Build the solution first: the API runs from its own output folder.", dll);
        // On the command line: it outranks the appsettings.json of the API's output folder.
        this.api = ChildProcess.Start(dll, environment, ["--urls", Url.ToString().TrimEnd('/'), .. arguments]);
        Http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        for (var attempt = 0; attempt < 240; attempt++)
        {
            try
            {
                if ((await Http.GetAsync("api/v1/sites")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            if (this.api.HasExited)
                break;
            await Task.Delay(250);
        }
        throw new InvalidOperationException($"The API did not answer on {Url}:\n{this.api.Output}");
    }

    /// <summary>A collector of a site, created through the API as an admin would; returns its key.</summary>
    public async Task<string> AddCollectorAsync(string site, string name)
    {
        using var response = await Http.PostAsJsonAsync("api/v1/collectors", new CreateCollectorRequest(site, name), Json);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<CreatedCollector>(Json))!.Key;
    }

    /// <summary>Posts events as the collector of <paramref name="key"/>; they must be in ascending sequence.</summary>
    public async Task IngestAsync(string key, IReadOnlyList<IngestEvent> events)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/ingest")
        {
            Content = JsonContent.Create(new IngestBatch { Events = events }, options: Json),
        };
        request.Headers.Authorization = new("Bearer", key);
        using var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"ingest: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task<T> GetAsync<T>(string path) => (await Http.GetFromJsonAsync<T>(path, Json))!;

    public string Log => this.api?.Output ?? "";

    public async Task DisposeAsync()
    {
        this.api?.Dispose();
        Http?.Dispose();
        if (environment.ContainsKey("ConnectionStrings__Postgres"))
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(this.server);
            await connection.OpenAsync();
            // An autovacuum worker busy with a large database (the bench's 100,000 devices) cannot be terminated by
            // this role: FORCE then fails until it is done, so try again for a while.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{this.database}\" WITH (FORCE)", connection);
                    await drop.ExecuteNonQueryAsync();
                    break;
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 30)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
            }
        }
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
