using PvsFleet.Api.Evidence;
using System.Text.Json.Serialization;
using PvsFleet.Api;
using PvsFleet.Api.Alerts;
using PvsFleet.Api.Cli;
using PvsFleet.Api.Data;
using PvsFleet.Api.Embedded;
using PvsFleet.Api.Hosting;
using PvsFleet.Api.Ingest;
using PvsFleet.Api.Live;
using PvsFleet.Api.Operations;
using PvsFleet.Api.Queries;
using PvsFleet.Api.ScaleOut;
using PvsFleet.Api.Security;
using Scalar.AspNetCore;

// `--demo`: the sample captures and a simulated storm replayed in a loop through an in-process collector.
var demo = args.Contains("--demo");
var builder = WebApplication.CreateBuilder(args.Where(a => a != "--demo").ToArray());
if (demo)
    builder.Configuration.AddInMemoryCollection([new("PvsFleet:Demo", "true")]);
// `dotnet run` serves the Blazor client from the build output in every environment, not only Development;
// a published app has no static web assets manifest and this does nothing.
builder.WebHost.UseStaticWebAssets();
builder.Services.Configure<FleetOptions>(builder.Configuration.GetSection(FleetOptions.Section));
builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<FleetOptions>, FleetOptionsValidation>();
builder.Services.AddOptions<FleetOptions>().ValidateOnStart();

var auth = builder.Configuration.GetSection(FleetOptions.Section).Get<FleetOptions>()?.Auth ?? new AuthOptions();
if (!auth.IsConfigured)
{
    builder.WebHost.UseUrls(Listening.LocalhostOnly(builder.Configuration["urls"]));
    if (Listening.ExposedKestrelEndpoint(builder.Configuration) is { } exposed)
    {
        await Console.Error.WriteLineAsync(
            $"pvsfleet: {exposed} listens beyond localhost, but no authentication is configured (PvsFleet:Auth:AdminKey or " +
            "PvsFleet:Auth:Authority). Configure authentication, or bind that endpoint to localhost.");
        return 2;
    }
}
// The request log names the URL with its query, and SignalR clients send their token as ?access_token=: keep it out.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.AspNetCore.Http.Connections", LogLevel.Warning);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<IngestBatchReader>();
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<BadInputExceptionHandler>();
// A query value or body that does not bind (from=yesterday) throws instead of answering a bare 400, so that the
// handler above can say which parameter and why.
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddRequestDecompression();
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
    // Collectors in other languages need not put "type" first.
    o.SerializerOptions.AllowOutOfOrderMetadataProperties = true;
});
builder.Services.AddOpenApi();
builder.Services.AddFleetStorage(builder.Configuration);
builder.Services.AddFleetAuth();
builder.Services.AddSignalR()
    .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
    .AddFleetScaleOut(builder.Configuration);
builder.Services.AddFleetAlerts();
builder.Services.AddFleetOperations(builder.Configuration);
builder.Services.AddDashboard();
if (EmbeddedCollector.IsWanted(builder.Configuration))
    builder.Services.AddHostedService<EmbeddedCollector>();

var app = builder.Build();
try
{
    _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<FleetOptions>>().Value;
}
catch (Microsoft.Extensions.Options.OptionsValidationException invalid)
{
    await Console.Error.WriteLineAsync("pvsfleet: the configuration is invalid: " + string.Join(" ", invalid.Failures));
    return 2;
}

if (Commands.IsCommand(args))
    return await Commands.RunAsync(app.Services, args);

await StorageSetup.MigrateAsync(app.Services);
if (!app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<FleetOptions>>().Value.Auth.IsConfigured)
{
    app.Logger.LogWarning(
        "No authentication is configured (PvsFleet:Auth:AdminKey or PvsFleet:Auth:Authority): the read API and the hub " +
        "are open to anyone who can reach them, so the API listens on localhost only.");
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<QueryGuard>();
app.UseRequestDecompression();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapOperations();
app.MapOpenApi().RequireAuthorization(AuthSetup.ReaderPolicy);
app.MapScalarApiReference().RequireAuthorization(AuthSetup.ReaderPolicy);
app.MapIngestApi();
app.MapAdminApi();
app.MapFleetQueries();
app.MapStatsApi();
app.MapAlertsApi();
app.MapAttentionApi();
app.MapEvidenceApi();
app.MapHub<FleetHub>(FleetHub.Path);
app.MapFallback("/api/{**rest}", () => TypedResults.Problem("No such API route.", statusCode: StatusCodes.Status404NotFound));
app.MapDashboard();

await app.StartAsync();
// However the addresses were given (--urls, ASPNETCORE_URLS, HTTP_PORTS, Kestrel:Endpoints, code), what was bound is
// what counts: without authentication, anything but loopback stops the API.
if (!app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<FleetOptions>>().Value.Auth.IsConfigured
    && app.Urls.FirstOrDefault(u => !Listening.IsLoopback(u)) is { } open)
{
    await Console.Error.WriteLineAsync($"pvsfleet: the API listens on {open} without authentication: stopping. Configure PvsFleet:Auth, or listen on localhost.");
    await app.StopAsync();
    return 2;
}
await app.WaitForShutdownAsync();
return 0;

/// <summary>Entry point, public so that tests can host the API with WebApplicationFactory.</summary>
public partial class Program;
