using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PvsFleet.Collector.Agent;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Shipping;

/// <summary>
/// Sends the spool to the API: batches by size and time, gzip, the collector's key, retries with exponential
/// backoff and jitter. Events leave the spool only when the API acknowledged them, so an outage only delays them.
/// </summary>
public sealed class Shipper(
    EventSpool spool, HttpClient http, AgentOptions options, ILogger<Shipper> logger, CollectorMetrics? metrics = null,
    TimeProvider? clock = null, CollectorPipeline? pipeline = null)
{
    private static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMilliseconds(250);
    private readonly TimeProvider time = clock ?? TimeProvider.System;
    private readonly Uri api = options.ApiUrl!;
    private readonly Uri ingest = new(options.ApiUrl!, "api/v1/ingest");
    private int failures;

    /// <summary>How often in a row the loop may fail on its own (not the API: a bug, the disk) before it gives up.</summary>
    public const int MaxLoopFailures = 10;

    /// <summary>
    /// Sends whatever the spool holds, as it comes, until cancelled. A failure of the loop itself is logged and the loop
    /// goes on after a pause; after <see cref="MaxLoopFailures"/> in a row it throws, and the process exits non-zero.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var loopFailures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (!await SendNextBatchAsync(stopping))
                {
                    await Delay(failures == 0 ? options.BatchLinger : Backoff(), stopping);
                }

                loopFailures = 0;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                loopFailures++;
                metrics?.ShipperRestarted();
                if (loopFailures >= MaxLoopFailures)
                {
                    if (logger.IsEnabled(LogLevel.Critical))
                    {
                        logger.LogCritical(e, "The shipper failed {Failures} times in a row and stops; {Pending} events stay in the spool", loopFailures, spool.Pending);
                    }

                    throw;
                }

                if (logger.IsEnabled(LogLevel.Error))
                {
                    logger.LogError(e, "The shipper failed ({Failures} in a row) and restarts; {Pending} events spooled", loopFailures, spool.Pending);
                }
                await Delay(TimeSpan.FromMilliseconds(RetryBaseDelay.TotalMilliseconds * loopFailures), stopping);
            }
        }
    }

    /// <summary>Sends batches until the spool is empty or <paramref name="cancel"/> fires. True when nothing is left.</summary>
    public async Task<bool> DrainAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            if (spool.Pending == 0)
            {
                return true;
            }

            if (!await SendNextBatchAsync(cancel))
            {
                await Delay(Backoff(), cancel);
            }
        }

        if (spool.Pending > 0)
        {
            logger.LogWarning("{Pending} events stay in the spool at {Directory} and will be sent at the next start", spool.Pending, options.SpoolDirectory);
        }

        return spool.Pending == 0;
    }

    /// <summary>True when a batch was acknowledged (or there was a full batch to send right away).</summary>
    private async Task<bool> SendNextBatchAsync(CancellationToken cancel)
    {
        var batch = spool.Peek(options.BatchMaxEvents);
        if (batch.Count == 0)
        {
            return false;
        }

        if (batch.Count < options.BatchMaxEvents && failures == 0 && Age(batch[0]) < options.BatchLinger)
        {
            // Let a small batch fill a little: the linger bounds the latency it adds.
            await Delay(options.BatchLinger - Age(batch[0]), cancel);
            batch = spool.Peek(options.BatchMaxEvents);
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, ingest) { Content = Gzip(batch, spool.Instance) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Key);
            using var response = await http.SendAsync(request, cancel);
            if (response.IsSuccessStatusCode)
            {
                var result = await response.Content.ReadFromJsonAsync<IngestResult>(IngestJson.Options, cancel);
                var through = result?.AcknowledgedThrough ?? batch[^1].Sequence;
                if (result?.Rejected is { Count: > 0 } rejected)
                {
                    SetAsideRejected(batch, rejected);
                }

                spool.Acknowledge(through);
                metrics?.EventsSent(batch.Count);
                RequestClips(result?.ClipRequests);
                if (failures > 0 && logger.IsEnabled(LogLevel.Information))
                {
                    logger.LogInformation("The API at {Api} is reachable again; delivery resumed", api);
                }

                failures = 0;
                return true;
            }

            await Failed(response, batch, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Stopping: the batch stays in the spool.
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Failed($"cannot reach the API at {api}: {e.Message}");
        }

        return false;
    }

    /// <summary>Clips asked for from the device page: the pipeline writes them at its next frame or tick, the uploader sends them.</summary>
    private void RequestClips(IReadOnlyList<ClipRequest>? requests)
    {
        foreach (var r in requests ?? [])
        {
            try
            {
                pipeline?.RequestClip(Decoding.MacAddress.Parse(r.Mac), r.SessionId);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                logger.LogWarning("The API asked for the packets of a device that is no MAC address: {Mac}", r.Mac);
            }
        }
    }

    /// <summary>
    /// The API stored the batch but refused some events for good: they go to <c>rejected/</c> with the reasons, are
    /// counted and logged, and delivery moves on — sending them again would be refused again.
    /// </summary>
    private void SetAsideRejected(IReadOnlyList<IngestEvent> batch, IReadOnlyList<RejectedEvent> rejected)
    {
        var sequences = rejected.Select(r => r.Sequence).ToHashSet();
        var refused = batch.Where(e => sequences.Contains(e.Sequence)).ToList();
        if (refused.Count == 0)
        {
            return;
        }

        var path = spool.SetAside(refused, JsonSerializer.Serialize(rejected, IngestJson.Options), acknowledge: false);
        logger.LogWarning("The API refused {Count} events of the batch {First}–{Last}, first {Sequence}: {Reason}. They were set aside in {Path}",
            refused.Count, batch[0].Sequence, batch[^1].Sequence, rejected[0].Sequence, rejected[0].Reasons.Count > 0 ? rejected[0].Reasons[0] : "", path);
    }

    private async Task Failed(HttpResponseMessage response, IReadOnlyList<IngestEvent> batch, CancellationToken cancel)
    {
        var problem = await response.Content.ReadAsStringAsync(cancel);
        if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge)
        {
            // The API will never take this batch as it is. Keep it on disk for a person, and move on.
            var path = spool.SetAside(batch, problem);
            var status = (int)response.StatusCode;
            logger.LogError("The API rejected events {First}–{Last} ({Status}): {Problem}. They were set aside in {Path}",
                batch[0].Sequence, batch[^1].Sequence, status, problem, path);
            failures = 0;
            return;
        }

        Failed(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? $"the API refused this collector's key ({(int)response.StatusCode}): check Collector:Key, or whether the key was revoked"
            : $"the API answered {(int)response.StatusCode}: {problem}");
    }

    private void Failed(string why)
    {
        failures++;
        metrics?.SendFailed();
        if (failures == 1 || failures % 20 == 0)
        {
            logger.LogWarning("Delivery failed ({Failures} in a row), {Pending} events spooled: {Why}", failures, spool.Pending, why);
        }
    }

    /// <summary>Exponential backoff with full jitter, capped: a fleet of collectors must not retry in step.</summary>
    private TimeSpan Backoff()
    {
        var ceiling = Math.Min(options.RetryMaxDelay.TotalMilliseconds, RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 16)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    private TimeSpan Age(IngestEvent e) => time.GetUtcNow() - e.Timestamp is { } age && age > TimeSpan.Zero ? age : TimeSpan.Zero;

    private async Task Delay(TimeSpan delay, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(delay, time, cancel);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static ByteArrayContent Gzip(IReadOnlyList<IngestEvent> batch, Guid instance)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, new IngestBatch { Events = batch, Instance = instance == Guid.Empty ? null : instance }, IngestJson.Options);
        }

        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }
}
