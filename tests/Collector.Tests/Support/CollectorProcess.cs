using System.Diagnostics;

namespace PvsFleet.Collector.Tests.Support;

/// <summary>Runs the built collector as an operator would, and captures what it prints.</summary>
internal static class CollectorProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "PvsFleet.Collector.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("collector did not finish: " + string.Join(' ', args));
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
