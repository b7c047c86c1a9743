// Shared by the test projects that run the real API and collector as processes (linked, not copied).
using System.Diagnostics;
using System.Text;

namespace PvsFleet.Tests.Processes;

/// <summary>A program of this repository run as a real process from the test's output folder, its output kept.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private ChildProcess(Process process) => this.process = process;

    public static ChildProcess Start(string assembly, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var child = new ChildProcess(new Process { StartInfo = start });
        child.process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child.process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child.process.Start();
        child.process.BeginOutputReadLine();
        child.process.BeginErrorReadLine();
        return child;
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;
    public int Id => process.Id;
    public int ExitCode => process.ExitCode;

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"process did not end within {timeout}:\n{Output}");
        }

        return process.ExitCode;
    }

    /// <summary>SIGKILL: no chance to flush or clean up, as when the machine loses the process.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>Runs to the end and returns the exit code and everything printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string assembly, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args)
    {
        using var child = Start(assembly, environment, args);
        var code = await child.WaitAsync(timeout);
        return (code, child.Output);
    }
}
