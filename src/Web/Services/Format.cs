using System.Globalization;
using PvsFleet.Contracts;

namespace PvsFleet.Web.Services;

/// <summary>How times, durations and phases read on every page.</summary>
public static class Format
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    public static string Duration(TimeSpan? span) => span is { } s ? Duration(s.TotalMilliseconds) : "–";

    /// <summary>A duration; a negative one (a collector's clock ahead of this browser's) reads as 0, never "-13 s".</summary>
    public static string Duration(double? ms) => (ms is { } v && v < 0 ? 0 : ms) switch
    {
        null => "–",
        { } d and < 1000 => string.Create(Culture, $"{d:0} ms"),
        { } d and < 60_000 => string.Create(Culture, $"{d / 1000:0.0} s"),
        { } d and < 3_600_000 => string.Create(Culture, $"{Math.Floor(d / 60_000):0} min {Math.Floor(d % 60_000 / 1000):00} s"),
        { } d => string.Create(Culture, $"{Math.Floor(d / 3_600_000):0} h {Math.Floor(d % 3_600_000 / 60_000):00} min"),
    };

    /// <summary>
    /// How long a session took: its stored duration, else start to end, else start to now while it runs (or waits,
    /// stuck); a session that ended without an end time (booted, failed) has no known duration.
    /// </summary>
    public static double? SessionMs(double? durationMs, DateTimeOffset startedAt, DateTimeOffset? endedAt, BootOutcome? outcome, DateTimeOffset now)
    {
        if (durationMs is { } d)
            return Math.Max(d, 0);
        if (endedAt is { } e)
            return Math.Max((e - startedAt).TotalMilliseconds, 0);
        return outcome is BootOutcome.InProgress or BootOutcome.Stuck ? Math.Max((now - startedAt).TotalMilliseconds, 0) : null;
    }

    /// <summary>
    /// Tick marks for a time axis of <paramref name="spanMs"/>: a round step (1, 2 or 5 of ms, s, 10 s, min …) so that
    /// about four to eight ticks fit, each labelled in that step's unit ("0 s", "5 s", "10 s").
    /// </summary>
    public static IReadOnlyList<(double Ms, string Label)> AxisTicks(double spanMs)
    {
        spanMs = Math.Max(spanMs, 1);
        double[] steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
            600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 43_200_000, 86_400_000];
        var step = steps.FirstOrDefault(s => spanMs / s <= 8, steps[^1]);
        var ticks = new List<(double, string)>();
        for (var t = 0.0; t <= spanMs + (step / 1000); t += step)
            ticks.Add((t, AxisLabel(t, step)));
        return ticks;
    }

    private static string AxisLabel(double ms, double step) => step switch
    {
        < 1000 => string.Create(Culture, $"{ms:0} ms"),
        < 60_000 => string.Create(Culture, $"{ms / 1000:0} s"),
        < 3_600_000 => string.Create(Culture, $"{ms / 60_000:0} min"),
        _ => string.Create(Culture, $"{ms / 3_600_000:0} h"),
    };

    public static string Ago(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is not { } t)
            return "never";
        var s = (now - t).TotalSeconds;
        return s switch
        {
            < 2 => "just now",
            < 90 => string.Create(Culture, $"{s:0} s ago"),
            < 5400 => string.Create(Culture, $"{s / 60:0} min ago"),
            < 172_800 => string.Create(Culture, $"{s / 3600:0} h ago"),
            _ => string.Create(Culture, $"{s / 86400:0} days ago"),
        };
    }

    public static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Culture) + " UTC" : "–";

    public static string Count(long n) => n.ToString("#,0", Culture);

    public static string Phase(BootPhase? phase) => phase switch
    {
        BootPhase.IpAcquisition => "IP acquisition",
        BootPhase.BootstrapDownload => "Bootstrap download",
        BootPhase.PvsLogon => "PVS logon",
        BootPhase.SingleReadMode => "Single read mode",
        BootPhase.BniStack => "BNIStack",
        _ => "–",
    };

    public static string PhaseShort(BootPhase phase) => phase switch
    {
        BootPhase.IpAcquisition => "IP",
        BootPhase.BootstrapDownload => "TFTP",
        BootPhase.PvsLogon => "Logon",
        BootPhase.SingleReadMode => "SRM",
        BootPhase.BniStack => "BNI",
        _ => "?",
    };

    /// <summary>A CSS class per phase, so a phase has one colour everywhere (badges, cards, waterfall bars).</summary>
    public static string PhaseClass(BootPhase? phase) => phase is { } p ? "phase-" + ((int)p).ToString(Culture) : "phase-none";

    public static string Outcome(BootOutcome? outcome) => outcome switch
    {
        BootOutcome.InProgress => "In progress",
        BootOutcome.Booted => "Booted",
        BootOutcome.Failed => "Failed",
        BootOutcome.Stuck => "Stuck",
        _ => "–",
    };

    /// <summary>The problem kinds in the words a PVS admin uses.</summary>
    public static string Issue(BootIssueKind kind) => kind switch
    {
        BootIssueKind.TftpError => "The TFTP server refused the bootstrap",
        BootIssueKind.DhcpNak => "DHCP refused the address",
        BootIssueKind.PxeRestarted => "The device started PXE again",
        BootIssueKind.Stuck => "No progress: the boot is stuck",
        BootIssueKind.Stall => "The boot paused, then went on",
        BootIssueKind.TftpClientAbort => "The device aborted the bootstrap download",
        BootIssueKind.RetransmitStorm => "Many retransmits",
        BootIssueKind.NoPxeOffer => "Only offers without PXE boot information",
        BootIssueKind.BootLoop => "Boot loop: PXE again while streaming (BNIStack hand-off)",
        BootIssueKind.MultiplePxeServers => "Network: more than one PXE server answers",
        BootIssueKind.Fragmentation => "Network: boot traffic is IP-fragmented",
        BootIssueKind.BootstrapFirmwareMismatch => "Network: bootstrap does not fit the firmware",
        _ => kind.ToString(),
    };

    /// <summary>What to check first when the collector sent no hint of its own (older collectors).</summary>
    public static string FallbackHint(BootIssueKind kind, BootPhase phase) => kind switch
    {
        BootIssueKind.TftpError => "check the bootstrap file name (DHCP option 67) and the TFTP service's root and rights",
        BootIssueKind.DhcpNak => "check the scope, its reservations for this MAC and competing DHCP servers",
        BootIssueKind.RetransmitStorm => "disable Large Send Offload on the PVS servers' NICs and check the path for loss or an MTU mismatch",
        BootIssueKind.NoPxeOffer => "check the PVS PXE service, DHCP options 66/67 and option 60, and an IP helper towards the PXE server on routed subnets",
        BootIssueKind.BootLoop => "check for a replaced NIC driver or VM tools, hidden NICs in the vDisk, and STOP 0x7B on the console",
        _ => phase switch
        {
            BootPhase.IpAcquisition => "check DHCP answers reach the device (IP helpers, option 60, PXE service)",
            BootPhase.BootstrapDownload => "check the TFTP service, UDP 69 and its data ports, and the block size against the MTU",
            BootPhase.PvsLogon => "check the Stream Service, UDP 6910–6930, and that the device is in a collection",
            BootPhase.SingleReadMode => "check vDisk store access and Large Send Offload; a hang before Windows loads points at BNIStack (hypervisor tools, antivirus filter drivers)",
            _ => "check the device's console",
        },
    };
}
