using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Contracts.Ingest;
using Xunit.Abstractions;

namespace PvsFleet.Api.Tests;

/// <summary>
/// Thousands of generated malformed and boundary requests, from a fixed seed, against PostgreSQL: ingest, every query
/// endpoint and the admin endpoints. No answer is a 5xx, every 4xx is a problem document, and no refused request
/// changes what is stored. The count is fixed, so the run is bounded (about a minute here).
/// </summary>
public sealed class FuzzTests(PostgresApi api, ITestOutputHelper output) : ApiTestBase<PostgresApi>(api), IClassFixture<PostgresApi>
{
    public const int Requests = 2_400;
    private const int Seed = 20261201;

    private static readonly string[] Nasty =
    [
        "", " ", "\\u0000", "a\\u0000b", "\\ud800", "\\udc00x", "PVS\\u0000\\u0000\\u0000", new string('x', 300), "é日本語", "\\\"", "null",
        "0", "-1", "2147483648", "9223372036854775808", "1e400", "true", "[]", "{}",
    ];

    private static readonly string[] Times =
    [
        "0001-01-01", "0001-01-01T00:00:00Z", "9999-12-31T23:30Z", "9999-12-31T23:59:59.9999999Z", "1999-12-31T23:59:59Z",
        "2026-11-30T07:00:00Z", "2026-13-45", "yesterday", "", "2026-11-30T07:00:00+14:00", "-infinity",
    ];

    private static readonly string[] QueryValues =
    [
        "", "%00", "a%00b", "%ED%A0%80", "%FF", "lab", "x%01y", "2147483647", "-2147483648", "99999999999", "-1", "0", "1",
        "Booted", "Warp", "9", "open", "hour", "day", "decade", "52:54:00:aa:bb:cc", "%27%3B--", new string('q', 2000),
    ];

    [SkippableFact]
    public async Task Generated_bad_requests_never_get_a_5xx_always_get_a_problem_and_never_change_stored_data()
    {
        SkipIfUnavailable();
        var random = new Random(Seed);
        var (collector, _) = await NewCollectorAsync("fuzz");
        long seq = 1;
        await IngestOkAsync(collector, Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-30), 1, 2, 3, 4));
        await IngestOkAsync(collector, Boot.Booted(ref seq, NewMac(), Api.Clock.GetUtcNow().AddMinutes(-20), 1, 2, 3, 4));
        var reader = Api.CreateClient();

        var statuses = new Dictionary<int, int>();
        var failures = new List<string>();
        var before = await FingerprintAsync();
        for (var i = 0; i < Requests; i++)
        {
            using var request = (i % 3) switch
            {
                0 => Ingest(random, ref seq),
                1 => Query(random),
                _ => Admin(random),
            };
            var what = $"#{i} {request.Method} {request.RequestUri}";
            var client = request.RequestUri!.OriginalString.StartsWith("/api/v1/ingest", StringComparison.Ordinal) ? collector : reader;
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var after = await FingerprintAsync();
            if (status >= 500)
                failures.Add($"{what}: {status} {await response.Content.ReadAsStringAsync()}");
            if (status is >= 400 and < 500)
            {
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{what}: {status} without a problem document ({response.Content.Headers.ContentType})");
                if (after != before)
                    failures.Add($"{what}: refused with {status}, yet the stored data changed: {before} → {after}");
            }
            before = after;
        }

        output.WriteLine($"{Requests} requests (seed {Seed}): " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        output.WriteLine($"5xx: {statuses.Where(s => s.Key >= 500).Sum(s => s.Value)}");
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(20)));
        Assert.True(statuses.Where(s => s.Key is >= 400 and < 500).Sum(s => s.Value) > Requests / 3, "the generator made too few bad requests");
        Assert.True(statuses.GetValueOrDefault(200) > Requests / 10, "the generator made too few good requests to be a fair mix");
    }

    private Task<string> FingerprintAsync() => Api.WithDbAsync(async db =>
    {
        long[] counts =
        [
            await db.Events.CountAsync(), await db.Sessions.CountAsync(), await db.SessionPhases.CountAsync(), await db.Devices.CountAsync(),
            await db.Collectors.CountAsync(), await db.Collectors.CountAsync(c => c.RevokedAt != null),
            await db.Alerts.CountAsync(a => a.AcknowledgedAt != null), await db.Sites.CountAsync(),
            await db.Sessions.SumAsync(s => (long)s.TotalRetries), await db.Devices.CountAsync(d => d.HostName != null),
        ];
        return string.Join('/', counts);
    });

    private static T Pick<T>(Random random, T[] list) => list[random.Next(list.Length)];

    private HttpRequestMessage Ingest(Random random, ref long seq)
    {
        var ts = Api.Clock.GetUtcNow().AddMinutes(-random.Next(1, 50)).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        string Text() => Pick(random, Nasty);
        string Time() => random.Next(3) == 0 ? Pick(random, Times) : ts;
        string Number() => Pick(random, ["1", "-1", "0", "2147483647", "2147483648", "99999999999999999999", "1.5", "\"3\"", "null"]);
        var session = $$"""{"sessionId":"{{(random.Next(8) == 0 ? "not-a-guid" : Guid.NewGuid().ToString())}}","mac":"{{(random.Next(6) == 0 ? Text() : NewMac())}}","phase":"{{Pick(random, ["IpAcquisition", "BniStack", "Warp", "7"])}}","outcome":"InProgress","startedAt":"{{Time()}}","hostName":"{{Text()}}","bootFile":"{{Text()}}","ip":"{{Pick(random, ["10.0.0.5", "10.0.0.999", "::1", "x"])}}","phases":[{"phase":"IpAcquisition","startedAt":"{{Time()}}","retries":{{Number()}}}]}""";
        var events = new List<string>();
        for (var n = random.Next(1, 6); n > 0; n--)
        {
            var s = random.Next(10) == 0 ? Number() : (seq++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            events.Add(random.Next(5) switch
            {
                0 => $$"""{"type":"heartbeat","sequence":{{s}},"timestamp":"{{Time()}}","interface":"{{Text()}}","version":"{{Text()}}","packetsReceived":{{Number()}}}""",
                1 => $$"""{"type":"retries","sequence":{{s}},"timestamp":"{{Time()}}","phase":"IpAcquisition","count":{{Number()}},"session":{{session}}}""",
                2 => $$"""{"type":"issue","sequence":{{s}},"timestamp":"{{Time()}}","phase":"PvsLogon","kind":"{{Pick(random, ["TftpError", "Nope"])}}","detail":"{{Text()}}","session":{{session}}}""",
                3 => $$"""{"type":"{{Pick(random, ["sessionStarted", "reboot", ""])}}","sequence":{{s}},"timestamp":"{{Time()}}","session":{{session}}}""",
                _ => $$"""{"type":"sessionEnded","sequence":{{s}},"timestamp":"{{Time()}}","outcome":"{{Pick(random, ["Booted", "InProgress", "Failed"])}}","session":{{session}}}""",
            });
        }
        var json = $$"""{"instance":{{Pick(random, ["null", "\"" + Guid.NewGuid() + "\"", "\"" + Guid.Empty + "\""])}},"events":[{{string.Join(',', events)}}]}""";
        var body = Encoding.UTF8.GetBytes(json);
        switch (random.Next(12))
        {
            case 0: body = body[..random.Next(body.Length)]; break; // cut short
            case 1: body[random.Next(body.Length)] = (byte)random.Next(256); break; // one byte flipped
            case 2: body = [.. body, .. "}}]]"u8.ToArray()]; break;
            case 3: body = Encoding.UTF8.GetBytes(new string('[', 5000)); break; // nesting beyond the reader's depth
        }
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(random.Next(15) == 0 ? "text/plain" : "application/json");
        switch (random.Next(10))
        {
            case 0:
                content = new ByteArrayContent([.. body.Take(64)]); // not brotli at all
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                content.Headers.ContentEncoding.Add("br");
                break;
            case 1:
                content = new ByteArrayContent([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, .. body.Take(32)]); // a gzip header, then garbage
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                content.Headers.ContentEncoding.Add("gzip");
                break;
            case 2:
                content = new ByteArrayContent(Compress(body));
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                content.Headers.ContentEncoding.Add("br");
                break;
        }
        return new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/ingest", UriKind.Relative)) { Content = content };
    }

    private static byte[] Compress(byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var brotli = new BrotliStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            brotli.Write(body);
        return buffer.ToArray();
    }

    private static HttpRequestMessage Query(Random random)
    {
        string V() => Pick(random, QueryValues);
        string T() => Uri.EscapeDataString(Pick(random, Times));
        var url = random.Next(9) switch
        {
            0 => $"/api/v1/sites?site={V()}",
            1 => $"/api/v1/devices?site={V()}&q={V()}&phase={V()}&outcome={V()}&page={V()}&pageSize={V()}",
            // A NUL in the path itself is refused by the server before the application sees it (see README, Reliability).
            2 => $"/api/v1/devices/{V().Replace("%00", "%01", StringComparison.Ordinal)}",
            3 => $"/api/v1/sessions?site={V()}&from={T()}&to={T()}&outcome={V()}&page={V()}&pageSize={V()}",
            4 => $"/api/v1/sessions/{Pick(random, [Guid.NewGuid().ToString(), "x", "00000000-0000-0000-0000-000000000000"])}",
            5 => $"/api/v1/sessions/export.csv?site={V()}&from={T()}&to={T()}",
            6 => $"/api/v1/stats/boot-durations?site={V()}&from={T()}&to={T()}&bucket={V()}&phase={V()}",
            7 => $"/api/v1/stats/slowest-devices?site={V()}&from={T()}&to={T()}&limit={V()}",
            _ => $"/api/v1/alerts?state={V()}&site={V()}&page={V()}&pageSize={V()}",
        };
        return new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Relative));
    }

    private static HttpRequestMessage Admin(Random random)
    {
        string Text() => Pick(random, Nasty);
        switch (random.Next(4))
        {
            case 0:
                var body = random.Next(4) switch
                {
                    0 => $$"""{"site":"{{Text()}}","name":"{{Text()}}"}""",
                    1 => "null",
                    2 => """{"site":1,"name":[]}""",
                    _ => "{\"site\":\"" + Text() + "\"",
                };
                var content = new StringContent(body, Encoding.UTF8, random.Next(8) == 0 ? "text/plain" : "application/json");
                if (random.Next(6) == 0)
                {
                    content = new StringContent(body, Encoding.UTF8, "application/json");
                    content.Headers.ContentEncoding.Add("br"); // not brotli
                }
                return new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/collectors", UriKind.Relative)) { Content = content };
            case 1:
                return new HttpRequestMessage(HttpMethod.Delete, new Uri($"/api/v1/collectors/{Pick(random, ["999999", "-1", "x", "2147483648", "0"])}", UriKind.Relative));
            case 2:
                return new HttpRequestMessage(HttpMethod.Post, new Uri($"/api/v1/alerts/{Pick(random, ["999999", "-1", "x", "9223372036854775808"])}/acknowledge", UriKind.Relative))
                {
                    Content = new StringContent(Pick(random, ["", "{}", "{\"by\":\"a\\u0000b\"}", "[", "null"]), Encoding.UTF8, "application/json"),
                };
            default:
                return new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/v1/collectors?x={Uri.EscapeDataString(Text())}", UriKind.Relative));
        }
    }
}
