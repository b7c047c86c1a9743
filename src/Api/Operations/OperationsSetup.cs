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
                .AddPrometheusExporter());
        // The standard OTEL_EXPORTER_OTLP_* variables configure the exporter; without an endpoint nothing is pushed.
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();
        return services;
    }

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
