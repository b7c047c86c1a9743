using System.Net.Sockets;
using System.Text;
using PvsFleet.CollectorAgent.Tests.Support;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>
/// Bad requests as raw bytes against the API's real Kestrel (the in-process fuzz test runs on the test server, which
/// parses no HTTP): whatever reaches the application is answered with a problem document, never a 5xx.
/// </summary>
public sealed class KestrelBadRequestTests : ApiTestBase
{
    public static TheoryData<string, string> InApplication() => new()
    {
        { "invalid chunk size", "POST /api/v1/collectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" },
        { "Content-Length and chunked", "POST /api/v1/collectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" },
        { "body that is not brotli", "POST /api/v1/collectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: br\r\nContent-Length: 10\r\n\r\n0123456789" },
        { "ingest body that is not gzip", "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer pvsk_none\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope" },
        { "NUL in a query", "GET /api/v1/devices?q=%00 HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "year 1", "GET /api/v1/sessions?to=0001-01-01 HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "year 9999", "GET /api/v1/stats/boot-durations?from=9999-12-31T23:30Z HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "offset overflow", "GET /api/v1/devices?page=99999999&pageSize=500 HTTP/1.1\r\nHost: x\r\n\r\n" },
    };

    [SkippableTheory]
    [MemberData(nameof(InApplication))]
    public async Task A_bad_request_that_reaches_the_application_gets_a_4xx_problem_document(string why, string request)
    {
        Database.SkipUnlessAvailable();
        var (status, headers, body) = await SendAsync(request);
        Assert.True(status is >= 400 and < 500, $"{why}: {status} {body}");
        Assert.Contains("Content-Type: application/problem+json", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"status\":" + status, body, StringComparison.Ordinal);
    }

    private async Task<(int Status, string Headers, string Body)> SendAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Api.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var text = Encoding.UTF8.GetString(buffer.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var headers = text[..end];
                var length = headers.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) is { } h
                    ? int.Parse(h["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture) : 0;
                var body = text[(end + 4)..];
                if (Encoding.UTF8.GetByteCount(body) >= length || headers.Contains("chunked", StringComparison.OrdinalIgnoreCase) && body.EndsWith("0\r\n\r\n", StringComparison.Ordinal))
                    return (int.Parse(headers.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, body);
            }

            var read = await stream.ReadAsync(chunk, timeout.Token);
            if (read == 0)
                return (0, text, "");
            buffer.Write(chunk, 0, read);
        }
    }
}
