namespace PvsFleet.Api.Operations;

internal static class Listening
{
    /// <summary>Rewrites the configured URLs so that every one of them binds to the loopback interface only.</summary>
    public static string[] LocalhostOnly(string? urls)
    {
        var list = (urls ?? "http://localhost:5080").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return [.. list.Select(u =>
        {
            // "http://*:80" and "http://+:80" are not valid URIs; swap the host by hand.
            var scheme = u.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
                return u;
            var rest = u[(scheme + 3)..];
            var port = rest.LastIndexOf(':');
            var host = port > 0 ? rest[..port] : rest.TrimEnd('/');
            var tail = port > 0 ? rest[port..] : "";
            return host is "localhost" or "127.0.0.1" or "[::1]" ? u : u[..(scheme + 3)] + "localhost" + tail;
        })];
    }

    /// <summary>
    /// Kestrel's own endpoint configuration (<c>Kestrel:Endpoints:NAME:Url</c>) wins over the URLs above, so without
    /// authentication each of those must be loopback too. Returns the first that is not, or null.
    /// </summary>
    public static string? ExposedKestrelEndpoint(IConfiguration configuration)
    {
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url && !IsLoopback(url))
                return $"Kestrel:Endpoints:{endpoint.Key}:Url = {url}";
        }
        return null;
    }

    /// <summary>Whether a listening address (as configured, or as bound) accepts loopback connections only.</summary>
    public static bool IsLoopback(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var rest = scheme < 0 ? url : url[(scheme + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
            rest = rest[..slash];
        var port = rest.LastIndexOf(':');
        var host = port > 0 && !rest.EndsWith(']') ? rest[..port] : rest;
        if (host is "localhost")
            return true;
        return System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address);
    }
}
