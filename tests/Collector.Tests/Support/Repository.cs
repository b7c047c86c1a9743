namespace PvsFleet.Collector.Tests.Support;

/// <summary>Finds files of the repository from wherever the test runner put the test assembly.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Sample(string name) => Path.Combine(Root, "samples", "captures", name);

    /// <summary>
    /// A capture from another project in ../shared/captures/external, read in place: several carry copyleft licences, so
    /// they are never copied into this repository. A missing file fails the test that needs it.
    /// </summary>
    public static string External(string name)
    {
        var path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "captures", "external", name));
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: ../shared must sit beside the repository", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PvsFleet.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PvsFleet.sln not found above " + AppContext.BaseDirectory);
    }
}
