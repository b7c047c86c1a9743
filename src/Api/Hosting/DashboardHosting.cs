using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MudBlazor.Services;
using PvsFleet.Web;
using PvsFleet.Web.Services;

namespace PvsFleet.Api.Hosting;

/// <summary>
/// The Blazor dashboard as a web app: the API renders each page on the server first, so the first paint waits for one
/// query rather than for the WebAssembly runtime (measured in README, "The dashboard"); the browser then takes the page
/// over with the runtime and the hub. On the server the pages read the API over loopback, as they do from the browser.
/// </summary>
public static partial class DashboardHosting
{
    private const string ClientName = "dashboard-server-render";

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveWebAssemblyComponents();
        services.AddMudServices();
        services.AddWebServices();
        services.AddHttpClient(ClientName, c => c.Timeout = TimeSpan.FromSeconds(30));
        // Registered after AddWebServices, so these win: the API over loopback, and no hub connection on the server.
        services.AddScoped(sp =>
        {
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
            http.BaseAddress = SelfAddress(sp.GetRequiredService<IServer>());
            return new FleetApi(http, sp.GetRequiredService<ApiKey>());
        });
        services.AddScoped<ILiveFleet, ServerRenderLive>();
        services.AddHostedService<WarmUp>();
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveWebAssemblyRenderMode();
        return app;
    }

    /// <summary>The API's own first HTTP address, with a wildcard or name host replaced by the loopback address.</summary>
    private static Uri SelfAddress(IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The API listens on no address, so its pages cannot be rendered on the server.");
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "localhost")
            uri.Host = "127.0.0.1";
        else if (uri.Host is "[::]" or "::")
            uri.Host = "[::1]";
        uri.Path = "/";
        return uri.Uri;
    }

    /// <summary>
    /// Renders the fleet page once when the API has started, so the first admin after a restart does not wait for the
    /// render path's first compilation and the database's first connections (measured: 2.3 s on SQLite and 5.8 s on
    /// PostgreSQL for that first load on a busy two-core machine, against about 1 s after it).
    /// </summary>
    private sealed partial class WarmUp(IServer server, IHttpClientFactory clients, IHostApplicationLifetime lifetime, ILogger<WarmUp> log)
        : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            if (!await lifetime.StartedAsync(stoppingToken))
                return;
            try
            {
                var http = clients.CreateClient(ClientName);
                using var response = await http.GetAsync(SelfAddress(server), stoppingToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
            {
                // Only a head start: the first admin's load then does the same work.
                LogFailed(log, ex.Message);
            }
        }

        [LoggerMessage(Level = LogLevel.Debug, Message = "Dashboard warm-up failed: {Reason}")]
        private static partial void LogFailed(ILogger log, string reason);
    }

    /// <summary>The hub as seen while a page renders on the server: never connected; the browser connects.</summary>
    private sealed class ServerRenderLive : ILiveFleet
    {
        public LiveState State => LiveState.Connecting;

        public event Action? StateChanged { add { } remove { } }
        public event Action? Resynced { add { } remove { } }
        public event Action<PvsFleet.Contracts.Live.SessionChange>? SessionChanged { add { } remove { } }
        public event Action<PvsFleet.Contracts.Live.AlertMessage>? AlertOpened { add { } remove { } }
        public event Action<PvsFleet.Contracts.Live.AlertMessage>? AlertChanged { add { } remove { } }
        public event Action<PvsFleet.Contracts.Live.CollectorStatusMessage>? CollectorStatus { add { } remove { } }

        public void EnsureStarted()
        {
        }

        public Task WatchSitesAsync(IEnumerable<string> sites) => Task.CompletedTask;
    }
}
