using System.Net.Sockets;

namespace PvsFleet.Deploy.Tests.Support;

/// <summary>
/// The Redis server named by PVSFLEET_TEST_REDIS (host:port; .ci/run starts one on 127.0.0.1:6390). Without it the
/// scale-out tests skip with the reason — unless CI=true: then they fail.
/// </summary>
public static class TestRedis
{
    public const string Variable = "PVSFLEET_TEST_REDIS";

    public static string? Endpoint { get; } = Find();

    public static void SkipUnlessAvailable() =>
        Skip.If(Endpoint is null, $"{Variable} is not set to a reachable Redis server (e.g. 127.0.0.1:6390)");

    private static string? Find()
    {
        var endpoint = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            if (Ci.IsOn)
            {
                throw new InvalidOperationException($"{Variable} is not set, and CI=true: the scale-out tests must run in CI.");
            }

            return null;
        }

        var parts = endpoint.Split(':');
        try
        {
            using var client = new TcpClient();
            client.Connect(parts[0], parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 6379);
        }
        catch (SocketException ex)
        {
            // Set but not answering is a broken environment: fail, never skip.
            throw new InvalidOperationException($"{Variable}={endpoint} does not answer: {ex.Message}", ex);
        }

        return endpoint;
    }
}
