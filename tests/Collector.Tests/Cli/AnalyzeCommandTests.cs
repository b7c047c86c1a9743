using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Tests.Support;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Tests.Cli;

public class AnalyzeCommandTests
{
    [Fact]
    public void Table_shows_one_row_per_session_and_each_problem_with_a_hint()
    {
        var result = CollectorProcess.Run("analyze", Repository.Sample("real-uefi-1.pcap"));

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("MAC", StringComparison.Ordinal) && l.Contains("OUTCOME", StringComparison.Ordinal));
        Assert.Equal(2, lines.Count(l => l.StartsWith("52:54:00:00:00:01", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("Failed (PvsLogon)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Stuck (PvsLogon)", StringComparison.Ordinal));
        Assert.Contains("bootstrap downloaded but the device restarted PXE", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("→ no logon or no first read: check the Stream Service", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_on_stdout_covers_several_files_as_one_recording()
    {
        var result = CollectorProcess.Run("analyze", "--json", Repository.Sample("real-bios-1.pcap"));

        Assert.Equal(0, result.ExitCode);
        var report = ReportJson.Deserialize(result.Stdout);
        Assert.Equal(135, report.Packets);
        Assert.Equal(BootOutcome.InProgress, report.Devices.Single().Sessions.Single().Outcome);
    }

    [Fact]
    public void Missing_file_gets_one_line_and_a_non_zero_exit()
    {
        var result = CollectorProcess.Run("analyze", "/nonexistent/boot.pcap");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("analyze: /nonexistent/boot.pcap: no such file", result.Stderr.Trim());
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public void Corrupt_file_gets_one_line_and_a_non_zero_exit()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "this is not a capture\n");
        try
        {
            var result = CollectorProcess.Run("analyze", path);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Single(result.Stderr.Trim().Split('\n'));
            Assert.Contains("not a capture file", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Truncated_capture_is_analysed_up_to_the_damage_and_says_so()
    {
        var bytes = File.ReadAllBytes(Repository.Sample("real-bios-1.pcap"));
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, bytes[..(bytes.Length - 700)]);
        try
        {
            var result = CollectorProcess.Run("analyze", "--json", path);

            Assert.Equal(0, result.ExitCode);
            var report = ReportJson.Deserialize(result.Stdout);
            Assert.InRange(report.Packets, 100, 134);
            Assert.Contains(report.Warnings, w => w.Contains("truncated", StringComparison.Ordinal));
            Assert.Contains("truncated", result.Stderr, StringComparison.Ordinal);
            Assert.Single(report.Devices);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
