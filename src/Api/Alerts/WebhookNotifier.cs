using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PvsFleet.Contracts.Live;

namespace PvsFleet.Api.Alerts;

/// <summary>Alerts waiting to be posted; bounded so a dead webhook cannot grow memory without end.</summary>
public sealed class WebhookOutbox
{
    private readonly Channel<AlertMessage> channel =
        Channel.CreateBounded<AlertMessage>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

    public void Enqueue(AlertMessage message) => channel.Writer.TryWrite(message);

    public ChannelReader<AlertMessage> Reader => channel.Reader;
}

/// <summary>Posts each alert change as JSON to <see cref="AlertOptions.WebhookUrl"/>, retrying with exponential backoff.</summary>
public sealed class WebhookNotifier(
    WebhookOutbox queue, IHttpClientFactory http, TimeProvider clock, IOptionsMonitor<FleetOptions> options,
    ILogger<WebhookNotifier> log) : BackgroundService
{
    public const string ClientName = "webhook";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var message in queue.Reader.ReadAllAsync(stoppingToken))
        {
            var o = options.CurrentValue.Alerts;
            if (o.WebhookUrl is null)
                continue;
            await SendAsync(o, message, stoppingToken);
        }
    }

    private async Task SendAsync(AlertOptions o, AlertMessage message, CancellationToken ct)
    {
        var delay = o.WebhookFirstRetryDelay;
        for (var attempt = 1; attempt <= o.WebhookMaxAttempts; attempt++)
        {
            try
            {
                using var client = http.CreateClient(ClientName);
                using var response = await client.PostAsJsonAsync(o.WebhookUrl, message, ct);
                if (response.IsSuccessStatusCode)
                    return;
                log.LogWarning("Webhook answered {Status} for alert {Id} (attempt {Attempt})", (int)response.StatusCode, message.Id, attempt);
            }
            catch (HttpRequestException ex)
            {
                log.LogWarning(ex, "Webhook failed for alert {Id} (attempt {Attempt})", message.Id, attempt);
            }
            if (attempt < o.WebhookMaxAttempts)
            {
                await Task.Delay(delay, clock, ct);
                delay *= 2;
            }
        }
        log.LogError("Webhook gave up on alert {Id} after {Attempts} attempts", message.Id, o.WebhookMaxAttempts);
    }
}

public static class AlertSetup
{
    public static IServiceCollection AddFleetAlerts(this IServiceCollection services)
    {
        services.AddSingleton<WebhookOutbox>();
        services.AddHttpClient(WebhookNotifier.ClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddHostedService<WebhookNotifier>();
        services.AddSingleton<AlertEvaluator>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        return services;
    }
}
