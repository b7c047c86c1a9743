using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Cli;
using PvsFleet.Api.Data;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Simulation;

namespace PvsFleet.Api.Embedded;

/// <summary>
/// The collector pipeline inside the API process: the demo (<c>--demo</c>: the sample captures and a simulated storm
/// replayed in a loop, shifted to now) or single-site mode (<c>Collector:Interfaces</c>: live capture on this box).
/// It is the collector agent's own code — source, tracker, spool, shipper — shipping to this API over loopback HTTP,
/// so what the dashboard shows went through the same ingest path as a remote collector's batches.
/// </summary>
public sealed partial class EmbeddedCollector(
    IServiceProvider services, IServer server, IHostApplicationLifetime lifetime, IConfiguration configuration,
    ILoggerFactory loggers, ILogger<EmbeddedCollector> log) : BackgroundService
{
    public const string DemoSite = "demo";
    private const string CollectorName = "in-process";

    /// <summary>True when this configuration asks for an in-process collector.</summary>
    public static bool IsWanted(IConfiguration configuration) =>
        configuration.GetValue<bool>("PvsFleet:Demo") || configuration.GetSection("Collector:Interfaces").GetChildren().Any();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The API must listen before the shipper can reach it.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var demo = configuration.GetValue<bool>("PvsFleet:Demo");
        var options = configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();
        var site = demo ? DemoSite : options.Site ?? Environment.MachineName.ToLowerInvariant();
        options.Site = site;
        options.ApiUrl = OwnAddress();
        options.Key = await RegisterAsync(site, stoppingToken);
        var dataDirectory = Path.GetFullPath(configuration["PvsFleet:DataDirectory"] ?? "data");
        // A fresh spool per start: the collector registered above is new, its sequences start again.
        options.SpoolDirectory = Path.Combine(dataDirectory, "embedded-spool");
        if (Directory.Exists(options.SpoolDirectory))
            Directory.Delete(options.SpoolDirectory, recursive: true);

        IFrameSource source;
        if (demo)
        {
            var files = DemoFiles(dataDirectory);
            var names = string.Join(", ", files.Select(Path.GetFileName));
            LogDemo(names);
            source = new ConcurrentReplay(files, TimeProvider.System);
        }
        else
        {
            source = new LiveSource(options.Interfaces, AgentHost.Filter(options), options.CaptureBufferMegabytes << 20);
        }

        using (source)
        using (var spool = new EventSpool(options.SpoolDirectory, options.SpoolMaxBytes, policy: options.SpoolOverflow))
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            var metrics = new CollectorMetrics();
            var pipeline = new CollectorPipeline(options.ToTrackerOptions(), spool, metrics);
            var shipper = new Shipper(spool, http, options, loggers.CreateLogger<Shipper>(), metrics);
            var service = new CollectorService(source, pipeline, shipper, spool, Microsoft.Extensions.Options.Options.Create(options),
                lifetime, new AgentExit(), loggers.CreateLogger<CollectorService>(), TimeProvider.System);
            await service.StartAsync(stoppingToken);
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }

            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }
    }

    /// <summary>This API's own address on loopback, from the addresses Kestrel actually bound.</summary>
    private Uri OwnAddress()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("The in-process collector needs the API to listen on plain http.");
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "localhost")
            uri.Host = "127.0.0.1";
        uri.Path = "/";
        return uri.Uri;
    }

    /// <summary>A collector for this process: earlier in-process collectors of the site are revoked, their keys unknown now.</summary>
    private async Task<string> RegisterAsync(string site, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var now = DateTime.UtcNow;
        var old = await db.Collectors.Where(c => c.Name == CollectorName && c.Site.Name == site && c.RevokedAt == null).ToListAsync(ct);
        foreach (var c in old)
            c.RevokedAt = now;
        await db.SaveChangesAsync(ct);
        var (_, key) = await Commands.CreateCollectorAsync(db, site, CollectorName, now);
        return key;
    }

    /// <summary>The bundled real captures, and a simulated storm with injected failures written once to the data directory.</summary>
    private List<string> DemoFiles(string dataDirectory)
    {
        var captures = configuration["PvsFleet:DemoCaptures"] is { Length: > 0 } configured ? configured : FindSamples();
        var files = Directory.GetFiles(captures, "*.pcap*").Where(f => !f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var storm = Path.Combine(dataDirectory, "demo-storm.pcapng");
        if (!File.Exists(storm))
        {
            BootStormSimulator.Run(new SimulationOptions
            {
                Devices = 60, OutputPath = storm, Seed = 7, FailureShare = 0.25, StaggerSeconds = 90, SingleReadIos = 20, BniStackIos = 40,
            });
        }

        files.Add(storm);
        return files;
    }

    private static string FindSamples()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "captures");
                if (Directory.Exists(candidate))
                    return candidate;
            }
        }

        throw new DirectoryNotFoundException("samples/captures not found: set PvsFleet:DemoCaptures to a folder of pcap files.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: replaying {Files} in a loop, shifted to now, through the in-process collector")]
    private partial void LogDemo(string files);
}
