using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using PvsFleet.Deploy.Tests.Support;

namespace PvsFleet.Deploy.Tests;

/// <summary>
/// What the API image ships: <c>dotnet publish src/Api</c>, as deploy/api/Dockerfile runs it. The collector's pipeline
/// library, the demo's capture files; no simulator, no collector exe, no benchmark or test code.
/// </summary>
public sealed class PublishedApiTests : IDisposable
{
    private readonly string output = Path.Combine(Path.GetTempPath(), "pvsfleet-publish-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Published_api_holds_the_pipeline_library_and_the_demo_files_but_no_simulator_benchmark_or_test_assembly()
    {
        var (code, log) = await PublishAsync();
        Assert.True(code == 0, "dotnet publish failed:\n" + log);

        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(output, f).Replace('\\', '/')).ToList();
        Assert.Contains("PvsFleet.Api.dll", files);
        Assert.Contains("PvsFleet.Collector.Pipeline.dll", files);
        Assert.DoesNotContain("PvsFleet.Collector.dll", files);
        Assert.DoesNotContain(files, f => f.Contains("Simulat", StringComparison.OrdinalIgnoreCase)
            || f.Contains("Bench", StringComparison.OrdinalIgnoreCase)
            || f.Contains("Tests", StringComparison.OrdinalIgnoreCase)
            || f.Contains("xunit", StringComparison.OrdinalIgnoreCase)
            || f.Contains("TestPlatform", StringComparison.OrdinalIgnoreCase)
            || f.Contains("System.CommandLine", StringComparison.OrdinalIgnoreCase));
        // The demo replays files the build wrote: one storm per demo collector, and the bundled real captures.
        Assert.Equal(6, files.Count(f => f.StartsWith("demo/demo-storm-", StringComparison.Ordinal) && f.EndsWith(".pcapng", StringComparison.Ordinal)));
        Assert.Contains("demo/captures/real-bios-1.pcap", files);
        Assert.Contains("demo/captures/real-uefi-1.pcap", files);

        // By content, not only by file name: no PvsFleet assembly defines the simulator's, the CLI's or the analyzer's
        // types, or refers to the collector exe.
        foreach (var assembly in files.Where(f => f.StartsWith("PvsFleet.", StringComparison.Ordinal) && f.EndsWith(".dll", StringComparison.Ordinal)))
        {
            var (namespaces, references) = Read(Path.Combine(output, assembly));
            Assert.DoesNotContain(references, r => r is "PvsFleet.Collector" or "BenchmarkDotNet" or "System.CommandLine");
            Assert.DoesNotContain(namespaces, n => n.StartsWith("PvsFleet.Collector.Simulation", StringComparison.Ordinal)
                || n.StartsWith("PvsFleet.Collector.Cli", StringComparison.Ordinal)
                || n.StartsWith("PvsFleet.Collector.Analysis", StringComparison.Ordinal));
        }
        Assert.Contains("PvsFleet.Collector.Tracking", Read(Path.Combine(output, "PvsFleet.Collector.Pipeline.dll")).Namespaces);
    }

    private Task<(int Code, string Log)> PublishAsync() => DotnetCli.RunAsync(Yaml.RepositoryRoot, TimeSpan.FromMinutes(10), "publish", "src/Api/Api.csproj", "-c", "Release", "-o", output, "-nologo", "-nodeReuse:false");

    private static (HashSet<string> Namespaces, HashSet<string> References) Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var namespaces = metadata.TypeDefinitions.Select(t => metadata.GetString(metadata.GetTypeDefinition(t).Namespace)).ToHashSet(StringComparer.Ordinal);
        var references = metadata.AssemblyReferences.Select(r => metadata.GetString(metadata.GetAssemblyReference(r).Name)).ToHashSet(StringComparer.Ordinal);
        return (namespaces, references);
    }

    public void Dispose()
    {
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
