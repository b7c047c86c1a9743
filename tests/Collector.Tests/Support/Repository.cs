namespace PvsFleet.Collector.Tests.Support;

/// <summary>Finds files of the repository from wherever the test runner put the test assembly.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Sample(string name) => Path.Combine(Root, "samples", "captures", name);

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
