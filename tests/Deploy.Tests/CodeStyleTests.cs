using PvsFleet.Deploy.Tests.Support;

namespace PvsFleet.Deploy.Tests;

/// <summary>
/// The style in .editorconfig is enforced by <c>dotnet build</c>, not only shown in an editor: a one-file project
/// under the repository's .editorconfig, Directory.Build.props and global.json, with one violation of each rule we
/// care most about, must fail to build and name every rule.
/// </summary>
public sealed class CodeStyleTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "pvsfleet-style-" + Guid.NewGuid().ToString("N")[..8]);

    private const string Violations = """
        namespace Style.Probe;

        public sealed class Counter
        {
            // IDE1006: private fields are camelCase without a prefix.
            private int _count;

            public int Add(int step)
            {
                // IDE0007: `var`, not the explicit type.
                int next = _count + step;
                // IDE0011: a statement over more than one line takes braces.
                if (next > 100)
                    next = Math.Min(next,
                        1_000);
                _count = next;
                return _count;
            }
        }

        """;

    [Fact]
    public async Task Build_fails_naming_each_violated_style_rule()
    {
        Directory.CreateDirectory(directory);
        foreach (var file in new[] { ".editorconfig", "Directory.Build.props", "global.json" })
        {
            File.Copy(Path.Combine(Yaml.RepositoryRoot, file), Path.Combine(directory, file));
        }

        File.WriteAllText(Path.Combine(directory, "Probe.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Library</OutputType>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Counter.cs"), Violations);

        var (code, log) = await BuildAsync();

        Assert.True(code != 0, "dotnet build passed although the code breaks the style:\n" + log);
        Assert.Contains("error IDE1006", log, StringComparison.Ordinal);
        Assert.Contains("error IDE0007", log, StringComparison.Ordinal);
        Assert.Contains("error IDE0011", log, StringComparison.Ordinal);
    }

    private Task<(int Code, string Log)> BuildAsync() => DotnetCli.RunAsync(directory, TimeSpan.FromMinutes(5), "build", "Probe.csproj", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false");

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
