using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PvsFleet.Api.Data;

namespace PvsFleet.Api.Operations;

public static class OperationsSetup
{
    public static IServiceCollection AddFleetOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<FleetMetrics>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        services.AddHostedService<HistoryMaintenance>();

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("pvsfleet-api"))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddEntityFrameworkCoreInstrumentation()
                .AddNpgsql())
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(FleetMetrics.MeterName, "Npgsql")
                // No cached answer: a scrape right after an ingest shows it (the exporter caches 300 ms by default).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        services.ConfigureOpenTelemetryMeterProvider((provider, builder) => builder.AddView(OwnMetersOnly(provider.GetRequiredService<IMeterFactory>())));
        // The standard OTEL_EXPORTER_OTLP_* variables configure the exporter; without an endpoint nothing is pushed.
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();
        return services;
    }

    /// <summary>
    /// The SDK subscribes to meters by name across the whole process, so a second host in it (test servers do this)
    /// would feed this one's streams, and when it stopped, the end of its meters would end the shared streams here too:
    /// the boot histograms vanished from /metrics for the rest of this host's life. Meters made by another host's
    /// factory are dropped; this host's own and the process-wide ones (Npgsql, the runtime) stay.
    /// </summary>
    internal static Func<Instrument, MetricStreamConfiguration?> OwnMetersOnly(IMeterFactory own) =>
        instrument => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, own) ? null : MetricStreamConfiguration.Drop;

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        // Liveness: the process answers. Readiness: the database answers too.
        app.MapHealthChecks("/healthz", new() { Predicate = _ => false }).WithTags("Operations");
        app.MapHealthChecks("/readyz", new() { Predicate = c => c.Tags.Contains("ready") }).WithTags("Operations");
        // The metrics name sites, collectors and error rates: readers only, once authentication is configured.
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Security.AuthSetup.ReaderPolicy);
        return app;
    }
}

public sealed class DatabaseHealthCheck(FleetDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The database does not answer.");
}
