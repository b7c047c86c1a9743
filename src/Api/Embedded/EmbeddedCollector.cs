using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Cli;
using PvsFleet.Api.Data;
using PvsFleet.Api.Hosting;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Shipping;

namespace PvsFleet.Api.Embedded;

/// <summary>
/// The collector pipeline inside the API process: the demo (<c>--demo</c>: the sample captures and the simulated storms
/// the build wrote into <c>demo/</c>, replayed in a loop, shifted to now) or single-site mode (<c>Collector:Interfaces</c>: live capture on this box).
/// It is the collector agent's own code — source, tracker, spool, shipper — shipping to this API over loopback HTTP,
/// so what the dashboard shows went through the same ingest path as a remote collector's batches.
/// </summary>
public sealed partial class EmbeddedCollector(
    IServiceProvider services, IServer server, IHostApplicationLifetime lifetime, IConfiguration configuration,
    ILoggerFactory loggers, ILogger<EmbeddedCollector> log) : BackgroundService
{
    private const string CollectorName = "in-process";

    /// <summary>True when this configuration asks for an in-process collector.</summary>
    public static bool IsWanted(IConfiguration configuration) =>
        configuration.GetValue<bool>("PvsFleet:Demo") || configuration.GetSection("Collector:Interfaces").GetChildren().Any();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The API must listen before the shipper can reach it.
        if (!await lifetime.StartedAsync(stoppingToken))
            return;

        var demo = configuration.GetValue<bool>("PvsFleet:Demo");
        var dataDirectory = Path.GetFullPath(configuration["PvsFleet:DataDirectory"] ?? "data");
        var api = OwnAddress();
        if (!demo)
        {
            var options = Options();
            var site = options.Site ?? Environment.MachineName.ToLowerInvariant();
            await RunCollectorAsync(site, CollectorName, Path.Combine(dataDirectory, "embedded-spool"),
                o => new LiveSource(o.Interfaces, LiveSource.Filter(o), o.CaptureBufferMegabytes << 20), api, stoppingToken);
            return;
        }

        try
        {
            await new DemoHistory(services, log).WriteOnceAsync(api, DateTime.UtcNow, stoppingToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or DbUpdateException)
        {
            // The live part of the demo does not need the history: show it without.
            log.LogWarning(ex, "Demo: the 30 days of history could not be written");
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var runs = new List<Task>();
        foreach (var c in DemoPlan.Collectors)
        {
            var files = DemoFiles(c, dataDirectory);
            var names = string.Join(", ", files.Select(Path.GetFileName));
            LogDemo(c.Site, c.Name, names);
            runs.Add(RunCollectorAsync(c.Site, c.Name, Path.Combine(dataDirectory, "embedded-spool", c.Name),
                _ => new ConcurrentReplay(files, TimeProvider.System), api, stoppingToken));
        }
        await Task.WhenAll(runs);
    }

    private AgentOptions Options() => configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();

    /// <summary>One collector pipeline — source, tracker, spool, shipper — until the API stops.</summary>
    private async Task RunCollectorAsync(string site, string name, string spoolDirectory, Func<AgentOptions, IFrameSource> createSource, Uri api,
        CancellationToken stoppingToken)
    {
        var options = Options();
        options.Site = site;
        options.ApiUrl = api;
        options.Key = await RegisterAsync(site, name, stoppingToken);
        // A fresh spool per start: the collector registered above is new, its sequences start again.
        options.SpoolDirectory = spoolDirectory;
        if (Directory.Exists(options.SpoolDirectory))
            Directory.Delete(options.SpoolDirectory, recursive: true);

        using var source = createSource(options);
        using var spool = new EventSpool(options.SpoolDirectory, options.SpoolMaxBytes, policy: options.SpoolOverflow);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
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

    /// <summary>
    /// A collector for this process. Earlier ones of that name on the site are revoked (their keys are gone) and renamed,
    /// since a name is unique per site.
    /// </summary>
    private async Task<string> RegisterAsync(string site, string name, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var now = DateTime.UtcNow;
        var old = await db.Collectors.Where(c => c.Name == name && c.Site.Name == site).ToListAsync(ct);
        foreach (var c in old)
        {
            c.RevokedAt ??= now;
            c.Name = $"{name} (until {now:yyyy-MM-dd HH:mm:ss}, #{c.Id})";
        }
        await db.SaveChangesAsync(ct);
        var (_, key) = await Commands.CreateCollectorAsync(db, site, name, now);
        return key;
    }

    /// <summary>
    /// The collector's simulated storm from the demo folder the build fills (<c>demo/</c> beside the API), and on the
    /// collector that plays them the bundled real captures, copied once into the data directory under MACs of their own.
    /// </summary>
    private List<string> DemoFiles(DemoCollector c, string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var demo = Path.Combine(AppContext.BaseDirectory, "demo");
        var files = new List<string>();
        if (c.RealCaptures)
        {
            var captures = configuration["PvsFleet:DemoCaptures"] is { Length: > 0 } configured ? configured : Path.Combine(demo, "captures");
            if (!Directory.Exists(captures))
                throw new DirectoryNotFoundException($"The demo's real captures are not in {captures}: set PvsFleet:DemoCaptures to a folder of pcap files.");
            var recorded = Directory.GetFiles(captures, "*.pcap*").Where(f => !f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            for (var i = 0; i < recorded.Count; i++)
            {
                var file = recorded[i];
                if (!file.EndsWith(".pcap", StringComparison.OrdinalIgnoreCase))
                {
                    files.Add(file);
                    continue;
                }
                var copy = Path.Combine(dataDirectory, "demo-" + Path.GetFileName(file));
                if (!File.Exists(copy))
                {
                    var mac = DemoPlan.RealCaptureMacs.GetValueOrDefault(Path.GetFileName(file)) ?? [0x52, 0x54, 0x00, 0xa0, 0x01, (byte)(i + 1)];
                    CaptureRemap.Copy(file, copy, DemoPlan.RecordedMac, mac);
                }
                files.Add(copy);
            }
        }

        var storm = Path.Combine(demo, c.StormFile);
        if (!File.Exists(storm))
            throw new FileNotFoundException($"The demo's storm {storm} is missing: building the API project writes it (the collector's simulate).", storm);
        files.Add(storm);
        return files;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: site {Site}, collector {Collector} replays {Files} in a loop, shifted to now")]
    private partial void LogDemo(string site, string collector, string files);
}
