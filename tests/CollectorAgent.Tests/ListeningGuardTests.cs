using PvsFleet.CollectorAgent.Tests.Support;

namespace PvsFleet.CollectorAgent.Tests;

/// <summary>Without authentication the API serves loopback only, however Kestrel is told where to listen.</summary>
public sealed class ListeningGuardTests
{
    private static Dictionary<string, string> Environment(string data, params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string>
        {
            ["PvsFleet__DataDirectory"] = data, ["ConnectionStrings__Postgres"] = "", ["PvsFleet__Alerts__Enabled"] = "false",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in more)
            environment[key] = value;
        return environment;
    }

    [Fact]
    public async Task A_kestrel_endpoint_beyond_localhost_without_authentication_stops_the_start()
    {
        var data = CollectorProgram.TemporaryDirectory();
        try
        {
            var (code, output) = await ChildProcess.RunAsync("PvsFleet.Api.dll",
                Environment(data, ("Kestrel__Endpoints__Http__Url", "http://0.0.0.0:5994")), TimeSpan.FromMinutes(1));
            Assert.True(code == 2, output);
            Assert.Contains("Kestrel:Endpoints:Http:Url = http://0.0.0.0:5994 listens beyond localhost", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Urls_beyond_localhost_without_authentication_are_bound_to_localhost()
    {
        var data = CollectorProgram.TemporaryDirectory();
        try
        {
            using var api = ChildProcess.Start("PvsFleet.Api.dll", Environment(data, ("ASPNETCORE_URLS", "http://0.0.0.0:5993")));
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (!api.Output.Contains("Now listening on", StringComparison.Ordinal) && !api.HasExited && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.Contains("Now listening on: http://localhost:5993", api.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("0.0.0.0", api.Output.Split('\n').Where(l => l.Contains("Now listening", StringComparison.Ordinal)).FirstOrDefault() ?? "", StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
