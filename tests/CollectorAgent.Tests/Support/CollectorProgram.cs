using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.CollectorAgent.Tests.Support;

/// <summary>The collector program, run the way an operator runs it.</summary>
public static class CollectorProgram
{
    public const string Assembly = "PvsFleet.Collector.dll";

    /// <summary>Retries come quickly in tests: an API back after an outage is noticed within seconds.</summary>
    private static readonly Dictionary<string, string> Environment = new() { ["Collector__RetryMaxDelay"] = "00:00:02" };

    public static ChildProcess Replay(ApiServer api, string key, string spool, string speed, params string[] files)
    {
        ArgumentNullException.ThrowIfNull(api);
        return ChildProcess.Start(Assembly, Environment,
            ["replay", .. files, "--api", api.Url.ToString(), "--key", key, "--speed", speed, "--spool", spool]);
    }

    public static ChildProcess Run(ApiServer api, string key, string spool, string networkInterface)
    {
        ArgumentNullException.ThrowIfNull(api);
        return ChildProcess.Start(Assembly, Environment,
            ["run", "--interface", networkInterface, "--api", api.Url.ToString(), "--key", key, "--spool", spool]);
    }

    /// <summary>The sequence numbers of the events in a spool directory, as the files hold them.</summary>
    public static List<long> SpooledSequences(string spool) =>
        Directory.GetFiles(spool, "*.jsonl")
            .SelectMany(File.ReadAllLines)
            .Where(line => line.EndsWith('}'))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("sequence").GetInt64())
            .ToList();

    public static AnalysisReport Analyze(params string[] files) => new CaptureAnalyzer(new TrackerOptions()).Analyze(files);

    public static string Sample(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "samples", "captures", name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException(name);
    }

    public static string TemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "pvsfleet-agent-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
