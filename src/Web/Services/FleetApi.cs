using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Web.Services;

/// <summary>A failed API call, worded for the page that shows it.</summary>
public sealed class ApiException(string message, HttpStatusCode? status = null, Exception? inner = null) : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;

    /// <summary>The API wants a key (admin key or token) that this browser does not have or has wrong.</summary>
    public bool NeedsKey => Status == HttpStatusCode.Unauthorized;
}

/// <summary>The read API at /api/v1, typed with the shared contract.</summary>
public sealed class FleetApi(HttpClient http, ApiKey key)
{
    /// <summary>The API's largest page.</summary>
    public const int MaxPageSize = 500;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(
            FleetJson.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()),
    };

    public Task<List<SiteView>> GetSitesAsync(CancellationToken ct = default) => GetAsync<List<SiteView>>("api/v1/sites", ct);

    /// <summary>One page of the devices that match the filter, in its order: the server filters, sorts and counts.</summary>
    public Task<Paged<DeviceView>> GetDevicesAsync(FleetFilter filter, int page, int pageSize, CancellationToken ct = default) =>
        GetAsync<Paged<DeviceView>>(Query("api/v1/devices",
            ("site", filter.Site), ("phase", filter.Phase?.ToString()), ("outcome", filter.Outcome?.ToString()), ("q", filter.Text),
            ("sort", filter.Sort == FleetSort.Mac ? null : filter.Sort.ToString().ToLowerInvariant()), ("dir", filter.Descending ? "desc" : null),
            ("page", Num(page)), ("pageSize", Num(pageSize))), ct);

    /// <summary>Stuck, failed, looping and slow boots and silent collectors, longest waiting first.</summary>
    public Task<List<AttentionItem>> GetAttentionAsync(string? site, CancellationToken ct = default) =>
        GetAsync<List<AttentionItem>>(Query("api/v1/attention", ("site", site)), ct);

    /// <summary>The device, or null when no device has that MAC.</summary>
    public Task<DeviceDetail?> GetDeviceAsync(string mac, CancellationToken ct = default) =>
        GetOrNullAsync<DeviceDetail>("api/v1/devices/" + Uri.EscapeDataString(mac), ct);

    public Task<SessionDetail?> GetSessionAsync(Guid id, CancellationToken ct = default) =>
        GetOrNullAsync<SessionDetail>("api/v1/sessions/" + id.ToString(), ct);

    public Task<Paged<AlertView>> GetAlertsAsync(AlertState? state, string? site, int page, int pageSize, AlertKind? kind = null,
        CancellationToken ct = default) =>
        GetAsync<Paged<AlertView>>(Query("api/v1/alerts",
            ("state", state?.ToString().ToLowerInvariant()), ("site", site), ("kind", kind?.ToString()), ("page", Num(page)), ("pageSize", Num(pageSize))), ct);

    public async Task<AlertView> AcknowledgeAsync(long id, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/v1/alerts/" + Num(id) + "/acknowledge", ct);
        return (await response.Content.ReadFromJsonAsync<AlertView>(Json, ct))!;
    }

    public Task<BootDurationStats> GetBootDurationsAsync(string? site, DateTimeOffset from, DateTimeOffset to, string bucket, BootPhase? phase,
        CancellationToken ct = default) =>
        GetAsync<BootDurationStats>(Query("api/v1/stats/boot-durations",
            ("site", site), ("from", Iso(from)), ("to", Iso(to)), ("bucket", bucket), ("phase", phase?.ToString())), ct);

    public Task<List<SlowDevice>> GetSlowestDevicesAsync(string? site, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken ct = default) =>
        GetAsync<List<SlowDevice>>(Query("api/v1/stats/slowest-devices",
            ("site", site), ("from", Iso(from)), ("to", Iso(to)), ("limit", Num(limit))), ct);

    public Task<ServerBreakdown> GetBreakdownAsync(BreakdownBy by, string? site, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        GetAsync<ServerBreakdown>(Query("api/v1/stats/breakdown",
            ("by", by.ToString()), ("site", site), ("from", Iso(from)), ("to", Iso(to))), ct);

    public Task<CapacityView> GetCapacityAsync(string? site, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        GetAsync<CapacityView>(Query("api/v1/stats/capacity", ("site", site), ("from", Iso(from)), ("to", Iso(to))), ct);

    public Task<List<CollectorView>> GetCollectorsAsync(CancellationToken ct = default) => GetAsync<List<CollectorView>>("api/v1/collectors", ct);

    public static string ExportCsvPath(string? site, DateTimeOffset from, DateTimeOffset to) =>
        Query("api/v1/sessions/export.csv", ("site", site), ("from", Iso(from)), ("to", Iso(to)));

    public async Task<string> ExportCsvAsync(string? site, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Get, ExportCsvPath(site, from, to), ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>A session's packet clip, through the API client (with its key): a plain link could not carry the key.</summary>
    public async Task<(byte[] Bytes, string FileName)> DownloadEvidenceAsync(EvidenceView evidence, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        using var response = await SendAsync(HttpMethod.Get, evidence.DownloadPath, ct);
        var name = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"');
        return (await response.Content.ReadAsByteArrayAsync(ct), name ?? $"{evidence.Mac.Replace(':', '-')}.pcapng");
    }

    /// <summary>Asks the session's collector for a clip of the boot in flight; it arrives with the collector's next batch.</summary>
    public async Task RequestEvidenceAsync(Guid session, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/v1/sessions/{session}/evidence/request", ct);
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, path, ct);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, ct)
                ?? throw new ApiException($"The API answered {path} with nothing.");
        }
        catch (JsonException ex)
        {
            throw new ApiException($"The API's answer to {path} could not be read: {ex.Message}", response.StatusCode, ex);
        }
    }

    private async Task<T?> GetOrNullAsync<T>(string path, CancellationToken ct) where T : class
    {
        try
        {
            return await GetAsync<T>(path, ct);
        }
        catch (ApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key.Value is { Length: > 0 } k)
            request.Headers.Authorization = new("Bearer", k);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiException($"The API cannot be reached ({ex.Message}). It may be restarting: try again in a moment.", null, ex);
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
            throw new ApiException(await DescribeAsync(response, ct), response.StatusCode);
    }

    /// <summary>The problem details' title, detail and field errors, or the status line when the body is not one.</summary>
    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(Json, ct);
            if (problem is null)
                return $"The API answered {status}.";
            var text = new StringBuilder(problem.Detail ?? problem.Title ?? $"The API answered {status}.");
            if (problem.Errors is { Count: > 0 } errors)
            {
                foreach (var (field, messages) in errors)
                    text.Append(CultureInfo.InvariantCulture, $" {field}: {string.Join(" ", messages)}");
            }
            return text.ToString();
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            return $"The API answered {status}.";
        }
    }

    private sealed record ProblemBody(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors);

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return present.Count == 0 ? path : path + "?" + string.Join('&', present);
    }
}
