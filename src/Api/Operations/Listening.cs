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
}
