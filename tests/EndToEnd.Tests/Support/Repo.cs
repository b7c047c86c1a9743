namespace PvsFleet.EndToEnd.Tests.Support;

/// <summary>Paths in the repository this test assembly was built from.</summary>
public static class Repo
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public static string Root { get; } = FindRoot();

    /// <summary>
    /// A host's own build output. The API is run from there rather than from a copy in this folder because its
    /// static web assets manifest (how it finds the Blazor client during development) lives beside it.
    /// </summary>
    public static string Dll(string project, string assembly) =>
        Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", assembly);

    public static string Capture(string name) => Path.Combine(Root, "samples", "captures", name);

    /// <summary>TestResults/ of the repository: screenshots and measurements are kept there as artifacts.</summary>
    public static string Results(string folder)
    {
        var path = Path.Combine(Root, "TestResults", folder);
        Directory.CreateDirectory(path);
        return path;
    }

    public static string TemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "pvsfleet-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PvsFleet.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException("PvsFleet.sln not found above " + AppContext.BaseDirectory);
    }
}
