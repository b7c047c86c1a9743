using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PvsFleet.Collector.Agent;
using PvsFleet.Collector.Evidence;

namespace PvsFleet.Collector.Shipping;

/// <summary>
/// Sends evidence clips to <c>POST /api/v1/evidence</c>, on its own loop: a slow or refusing API delays clips, never
/// events. The queue is bounded (the oldest clip goes when it is full, counted); each clip is retried with backoff a few
/// times, and set aside for good when the API refuses it (too large, not pcapng).
/// </summary>
public sealed partial class EvidenceUploader
{
    private const int MaxAttempts = 8;
    private static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMilliseconds(500);
    private readonly HttpClient http;
    private readonly AgentOptions options;
    private readonly ILogger<EvidenceUploader> logger;
    private readonly TimeProvider time;
    private readonly Uri endpoint;
    private readonly Channel<EvidenceClip> queue;
    private long sent;
    private long failed;
    private long dropped;
    private EvidenceClip? inFlight;

    public EvidenceUploader(HttpClient http, AgentOptions options, ILogger<EvidenceUploader> logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.http = http;
        this.options = options;
        this.logger = logger;
        time = clock ?? TimeProvider.System;
        endpoint = new Uri(options.ApiUrl!, "api/v1/evidence");
        queue = Channel.CreateBounded<EvidenceClip>(
            new BoundedChannelOptions(Math.Max(1, options.Evidence.UploadQueueClips)) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref dropped));
    }

    public long Sent => Interlocked.Read(ref sent);

    /// <summary>Clips refused by the API or given up on after the retries.</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Clips let go because the queue was full (the oldest first).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Queues a clip; never blocks (the capture thread calls it).</summary>
    public void Enqueue(EvidenceClip clip) => queue.Writer.TryWrite(clip);

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var clip in queue.Reader.ReadAllAsync(stopping))
            {
                inFlight = clip;
                await SendAsync(clip, stopping);
                inFlight = null;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Clips still queued are lost with the process: events, which are durable, say what happened.
        }
    }

    /// <summary>Sends what is queued (the clips of a replay's last boots) until done or <paramref name="cancel"/> fires.</summary>
    public async Task DrainAsync(CancellationToken cancel)
    {
        try
        {
            // The clip whose upload the stop interrupted goes first (the API may then hold it twice).
            if (inFlight is { } interrupted)
            {
                inFlight = null;
                await SendAsync(interrupted, cancel);
            }

            while (queue.Reader.TryRead(out var clip))
            {
                await SendAsync(clip, cancel);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(EvidenceClip clip, CancellationToken stopping)
    {
        var uri = new Uri(endpoint, string.Create(CultureInfo.InvariantCulture,
            $"?session={clip.SessionId}&mac={Uri.EscapeDataString(clip.Mac.ToString())}&reason={clip.Reason}&frames={clip.Frames}&first={Uri.EscapeDataString(clip.FirstFrameAt.ToString("O", CultureInfo.InvariantCulture))}&last={Uri.EscapeDataString(clip.LastFrameAt.ToString("O", CultureInfo.InvariantCulture))}"));
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            string why;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(clip.Pcapng) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-pcapng");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Key);
                using var response = await http.SendAsync(request, stopping);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref sent);
                    LogSent(clip.Mac.ToString(), clip.Reason.ToString(), clip.Frames, clip.Pcapng.Length);
                    return;
                }

                var problem = await response.Content.ReadAsStringAsync(stopping);
                if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnsupportedMediaType or HttpStatusCode.Forbidden)
                {
                    Interlocked.Increment(ref failed);
                    LogRefused(clip.Mac.ToString(), (int)response.StatusCode, problem);
                    return;
                }

                why = $"the API answered {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !stopping.IsCancellationRequested))
            {
                why = e.Message;
            }

            if (attempt < MaxAttempts)
            {
                var ceiling = Math.Min(options.RetryMaxDelay.TotalMilliseconds, RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
                await Task.Delay(TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2)), time, stopping);
            }
            else
            {
                Interlocked.Increment(ref failed);
                LogGaveUp(clip.Mac.ToString(), MaxAttempts, why);
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Sent the packet clip of {Mac} ({Reason}, {Frames} frames, {Bytes} bytes)")]
    private partial void LogSent(string mac, string reason, int frames, int bytes);

    [LoggerMessage(LogLevel.Warning, "The API refused the packet clip of {Mac} ({Status}): {Problem}")]
    private partial void LogRefused(string mac, int status, string problem);

    [LoggerMessage(LogLevel.Warning, "Gave up sending the packet clip of {Mac} after {Attempts} attempts: {Why}")]
    private partial void LogGaveUp(string mac, int attempts, string why);
}
