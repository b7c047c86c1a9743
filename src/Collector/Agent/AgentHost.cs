using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using PvsFleet.Collector.Capture;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Evidence;
using PvsFleet.Collector.Shipping;

namespace PvsFleet.Collector.Agent;

/// <summary>Builds and runs the collector agent as a generic host: configuration, logging, systemd, telemetry.</summary>
public static class AgentHost
{
    /// <summary>
    /// Runs a collector over <paramref name="sourceFactory"/>'s frames. Flags given on the command line win over
    /// environment variables, which win over appsettings.json. Returns the process exit code.
    /// </summary>
    public static async Task<int> RunAsync(IDictionary<string, string?> flags, bool needsInterfaces, Func<AgentOptions, TimeProvider, IFrameSource> sourceFactory)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Configuration.AddInMemoryCollection(flags);
        builder.Services.AddSystemd();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });

        var options = builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();
        var problems = options.Problems(needsInterfaces);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync($"collector: {problem}");
            }

            return 2;
        }

        IFrameSource source;
        EventSpool spool;
        // The spool starts before the host's logging: its warnings go to standard error the same way.
        var spoolLog = LoggerFactory.Create(l => l.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
        var spoolLogger = spoolLog.CreateLogger<EventSpool>();
        try
        {
            source = sourceFactory(options, TimeProvider.System);
            spool = new EventSpool(options.SpoolDirectory, options.SpoolMaxBytes, policy: options.SpoolOverflow,
                durability: options.SpoolDurability, syncInterval: options.SpoolSyncInterval,
                warn: message => spoolLogger.LogWarning("Spool: {Message}", message));
        }
        catch (Exception e) when (e is CaptureException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"collector: {e.Message.ReplaceLineEndings(" ")}");
            return 2;
        }

        var metrics = new CollectorMetrics();
        metrics.Observe(spool);
        metrics.Observe(() => source.Statistics);
        builder.Services.AddOpenTelemetry().WithMetrics(m =>
        {
            m.AddMeter(CollectorMetrics.MeterName);
            if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            {
                m.AddOtlpExporter();
            }
        });
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(source);
        builder.Services.AddSingleton(spool);
        builder.Services.AddSingleton(metrics);
        var writer = new SpoolWriter(spool, options.SpoolQueueCapacity, message => spoolLogger.LogWarning("Spool: {Message}", message));
        metrics.Observe(writer);
        builder.Services.AddSingleton(writer);
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        EvidenceUploader? uploader = null;
        EvidenceCollector? evidence = null;
        if (options.Evidence.Enabled)
        {
            uploader = new EvidenceUploader(http, options, spoolLog.CreateLogger<EvidenceUploader>());
            evidence = new EvidenceCollector(options.Evidence.ToEvidenceOptions(), uploader.Enqueue);
            evidence.NameInterface(0, source.Name);
            metrics.Observe(uploader);
            builder.Services.AddSingleton(uploader);
        }

        builder.Services.AddSingleton(new CollectorPipeline(options.ToTrackerOptions(), spool, metrics, writer, evidence));
        builder.Services.AddSingleton(http);
        builder.Services.AddSingleton<Shipper>();
        var exit = new AgentExit();
        builder.Services.AddSingleton(exit);
        builder.Services.AddHostedService<CollectorService>();

        using (var host = builder.Build())
        {
            await host.RunAsync();
        }

        source.Dispose();
        await writer.DisposeAsync();
        spool.Dispose();
        spoolLog.Dispose();
        return exit.Code;
    }
}
