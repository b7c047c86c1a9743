using System.Diagnostics;

namespace PvsFleet.Deploy.Tests.Support;

/// <summary>The .NET CLI run in a folder, as a developer or CI would, with its exit code and its whole output.</summary>
internal static class DotnetCli
{
    public static async Task<(int Code, string Log)> RunAsync(string directory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} took more than {timeout}:\n" + await stdout);
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
