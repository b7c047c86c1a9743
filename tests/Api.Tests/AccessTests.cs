using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using PvsFleet.Api.Operations;

namespace PvsFleet.Api.Tests;

/// <summary>
/// PostgreSQL with OpenID Connect configured. The tokens are issued by the test with its own RSA key, which the API is
/// given as its issuer's signing key instead of fetching the issuer's metadata (no network in tests); everything else
/// is the real JWT bearer validation. Every log line is kept, to show that no token reaches the logs.
/// </summary>
public sealed class OidcPostgresApi : PostgresApi
{
    public const string Issuer = "https://login.example.test/pvsfleet";
    public const string Audience = "pvsfleet-api";
    public const string AdminKey = "test-admin-key-oidc-0123456789";

    private readonly RsaSecurityKey key = new(RSA.Create(2048)) { KeyId = "test" };

    public ConcurrentQueue<string> Logs { get; } = new();

    public OidcPostgresApi()
    {
        Settings["PvsFleet:Auth:Authority"] = Issuer;
        Settings["PvsFleet:Auth:Audience"] = Audience;
        Settings["PvsFleet:Auth:AdminKey"] = AdminKey;
        Settings["Logging:LogLevel:Default"] = "Trace";
        Settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
    }

    public string Token(string subject, params string[] roles)
    {
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["name"] = subject };
        if (roles.Length > 0)
            claims["roles"] = roles;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer, Audience = Audience, Claims = claims, Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(this.key, SecurityAlgorithms.RsaSha256),
        });
    }

    public HttpClient Client(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(l => l.AddProvider(new KeepingLoggerProvider(Logs)));
        builder.ConfigureTestServices(services => services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.Configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
            o.Configuration.SigningKeys.Add(this.key);
        }));
    }

    private sealed class KeepingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Keeping(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Keeping(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}

public sealed class AccessTests(OidcPostgresApi api) : ApiTestBase<OidcPostgresApi>(api), IClassFixture<OidcPostgresApi>
{
    [SkippableFact]
    public async Task An_oidc_token_without_the_admin_role_reads_but_gets_403_on_collector_management_and_acknowledgements()
    {
        SkipIfUnavailable();
        var reader = Api.Client(Api.Token("reader@example.test"));
        var admin = Api.Client(Api.Token("admin@example.test", "pvsfleet-admin"));
        var other = Api.Client(Api.Token("other@example.test", "some-other-role"));

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/collectors")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/sites")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/alerts")).StatusCode);

        foreach (var refused in new[] { reader, other })
        {
            var create = await refused.PostAsJsonAsync("/api/v1/collectors", new { site = "lab", name = "sneaky" });
            Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
            Assert.Equal("application/problem+json", create.Content.Headers.ContentType?.MediaType);
            Assert.Equal(HttpStatusCode.Forbidden, (await refused.DeleteAsync("/api/v1/collectors/1")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await refused.PostAsync("/api/v1/alerts/1/acknowledge", null)).StatusCode);
        }
        Assert.Equal(0, await Api.WithDbAsync(db => Task.FromResult(db.Collectors.Count(c => c.Name == "sneaky"))));

        var created = await admin.PostAsJsonAsync("/api/v1/collectors", new { site = "lab", name = "c1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var keyed = CreateAdminKeyClient();
        Assert.Equal(HttpStatusCode.Created, (await keyed.PostAsJsonAsync("/api/v1/collectors", new { site = "lab", name = "c2" })).StatusCode);

        // No token, or a token of another issuer: 401.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.CreateClient().GetAsync("/api/v1/collectors")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Api.Client("e30.e30.bm90LXNpZ25lZA").GetAsync("/api/v1/collectors")).StatusCode);
    }

    [SkippableFact]
    public async Task Metrics_and_the_openapi_ui_need_authentication_once_it_is_configured()
    {
        SkipIfUnavailable();
        var anonymous = Api.CreateClient();
        foreach (var path in new[] { "/metrics", "/openapi/v1.json", "/scalar/v1" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        var reader = Api.Client(Api.Token("reader@example.test"));
        foreach (var path in new[] { "/metrics", "/openapi/v1.json", "/scalar/v1" })
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
    }

    [SkippableFact]
    public async Task A_signalr_access_token_never_reaches_the_logs()
    {
        SkipIfUnavailable();
        var token = Api.Token("viewer@example.test");
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Api.Server.BaseAddress, "/hubs/fleet"), o =>
            {
                o.HttpMessageHandlerFactory = _ => Api.Server.CreateHandler();
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling;
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .Build();
        await connection.StartAsync();
        await connection.StopAsync();
        // The same token in the query string by hand (what browsers do for WebSockets), and a wrong one.
        await Api.CreateClient().GetAsync($"/hubs/fleet/negotiate?negotiateVersion=1&access_token={token}");
        await Api.CreateClient().GetAsync("/hubs/fleet/negotiate?access_token=not-a-token-secret-XYZ");

        Assert.NotEmpty(Api.Logs);
        var signature = token.Split('.')[2];
        Assert.DoesNotContain(Api.Logs, line => line.Contains(signature, StringComparison.Ordinal));
        Assert.DoesNotContain(Api.Logs, line => line.Contains("not-a-token-secret-XYZ", StringComparison.Ordinal));
        Assert.DoesNotContain(Api.Logs, line => line.Contains(OidcPostgresApi.AdminKey, StringComparison.Ordinal));
    }

    private HttpClient CreateAdminKeyClient()
    {
        var client = Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OidcPostgresApi.AdminKey);
        return client;
    }
}

public sealed class ListeningTests
{
    [Theory]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:80", false)]
    [InlineData("http://+:80", false)]
    [InlineData("https://pvsfleet.example.com", false)]
    [InlineData("http://10.0.0.5:5080", false)]
    public void Only_loopback_addresses_count_as_local(string url, bool loopback) => Assert.Equal(loopback, Listening.IsLoopback(url));
}
