using System.Globalization;
using PvsFleet.Contracts;

namespace PvsFleet.Collector.Analysis;

/// <summary>The human form of a report: one row per boot session, then every problem in plain words with a hint.</summary>
public static class ReportTable
{
    private static readonly string[] Headers =
        ["MAC", "IP", "FIRMWARE", "BOOT FILE", "IP ACQ", "BOOTSTRAP", "LOGON", "SINGLE READ", "BNISTACK", "OUTCOME", "RETRIES"];

    public static void Write(AnalysisReport report, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(writer);
        var span = report.CaptureStart is { } s && report.CaptureEnd is { } e
            ? $"{Time(s)} → {Time(e)} ({(e - s).TotalSeconds:0.0} s), "
            : "";
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Capture {span}{report.Packets:N0} packets, {report.Malformed:N0} malformed, {report.DuplicateFrames:N0} copies, {report.Devices.Count} devices"));
        foreach (var warning in report.Warnings)
        {
            writer.WriteLine($"warning: {warning}");
        }

        writer.WriteLine();
        var rows = report.Devices
            .SelectMany(d => d.Sessions.Select(session => Row(d.Mac, session, report.CaptureEnd)))
            .ToList();
        if (rows.Count == 0)
        {
            writer.WriteLine("No PXE boot was seen in this capture.");
            return;
        }

        var widths = Headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        WriteRow(writer, Headers, widths);
        foreach (var row in rows)
        {
            WriteRow(writer, row, widths);
        }

        var problems = report.Devices
            .SelectMany(d => d.Sessions.SelectMany(session => session.Issues.Select(issue => (d.Mac, issue))))
            .ToList();
        if (problems.Count == 0)
        {
            return;
        }

        writer.WriteLine();
        writer.WriteLine("Problems:");
        foreach (var (mac, issue) in problems)
        {
            writer.WriteLine($"  {mac}  {Time(issue.At)}  {issue.Detail}");
            if (issue.Hint is { } hint)
            {
                writer.WriteLine($"      → {hint}");
            }
        }
    }

    private static string[] Row(string mac, SessionReport session, DateTime? captureEnd)
    {
        var cells = new List<string>
        {
            mac,
            session.Ip ?? "-",
            session.Firmware.ToString(),
            session.BootFile ?? "-",
        };
        foreach (var phase in Enum.GetValues<BootPhase>())
        {
            var progress = session.Phases.FirstOrDefault(p => p.Name == phase);
            cells.Add(progress is null ? "-" : Duration(progress, captureEnd));
        }

        cells.Add(session.Outcome is BootOutcome.Booted ? "Booted" : $"{session.Outcome} ({session.Phase})");
        cells.Add(session.Phases.Sum(p => p.Retries).ToString(CultureInfo.InvariantCulture));
        return [.. cells];
    }

    /// <summary>A phase still open shows its time so far, marked with "…".</summary>
    private static string Duration(PhaseReport phase, DateTime? captureEnd)
    {
        var end = phase.End ?? captureEnd ?? phase.Start;
        var text = (end - phase.Start).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
        return phase.End is null ? text + "…" : text;
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var parts = cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]));
        writer.WriteLine(string.Join("  ", parts).TrimEnd());
    }

    private static string Time(DateTime time) => time.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
