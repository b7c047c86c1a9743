using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.CollectorAgent.Tests.Support;

/// <summary>The collector program, run the way an operator runs it.</summary>
public static class CollectorProgram
{
    public const string Assembly = "PvsFleet.Collector.dll";
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public static ChildProcess Replay(ApiServer api, string key, string spool, string speed, params string[] files)
    {
        ArgumentNullException.ThrowIfNull(api);
        return ChildProcess.Start(Assembly, NoEnvironment,
            ["replay", .. files, "--api", api.Url.ToString(), "--key", key, "--speed", speed, "--spool", spool]);
    }

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
