using Microsoft.Extensions.Options;
using PvsFleet.Contracts;

namespace PvsFleet.Api;

/// <summary>The <c>PvsFleet</c> configuration section.</summary>
public sealed class FleetOptions
{
    public const string Section = "PvsFleet";

    /// <summary>Where the embedded SQLite database lives when no PostgreSQL connection is configured.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Raw events older than this are deleted. On PostgreSQL by whole months of event time: a month goes once all of it
    /// is older, so events are kept between this many days and a month more.
    /// </summary>
    public int EventRetentionDays { get; set; } = 30;

    /// <summary>
    /// Sessions (with their phases and, on PostgreSQL, their duration histogram) older than this are deleted, by whole
    /// months on PostgreSQL as for events; 0, the default, keeps them. Devices and alerts are kept.
    /// </summary>
    public int SessionRetentionDays { get; set; }

    public IngestOptions Ingest { get; set; } = new();
    public StatsOptions Stats { get; set; } = new();
    public CapacityOptions Capacity { get; set; } = new();
    public AlertOptions Alerts { get; set; } = new();
    public AuthOptions Auth { get; set; } = new();
    public EvidenceStorageOptions Evidence { get; set; } = new();
}

/// <summary>Bounds of the packet clips collectors send (see Evidence/EvidenceApi).</summary>
public sealed class EvidenceStorageOptions
{
    /// <summary>One clip's size; a larger upload is refused with 413.</summary>
    public int MaxClipBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Clips older than this are deleted by the retention pass.</summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>All clips together; past it the oldest are deleted first (after each upload and by the retention pass).</summary>
    public long MaxTotalBytes { get; set; } = 2L * 1024 * 1024 * 1024;
}

public sealed class IngestOptions
{
    /// <summary>Largest accepted batch after decompression; a gzip bomb stops here.</summary>
    public int MaxBatchBytes { get; set; } = 16 * 1024 * 1024;
    public int MaxEventsPerBatch { get; set; } = 10_000;
    /// <summary>How far ahead of the server's clock an event's timestamp may be (collector clock skew).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromHours(1);
}

public sealed class StatsOptions
{
    /// <summary>
    /// Boot-duration statistics on PostgreSQL are exact (<c>percentile_cont</c> over the rows) while the range holds at
    /// most this many durations; above it they are read from the duration histogram: count and max exact, percentiles
    /// within <see cref="Data.DurationBins.RelativeError"/> (0.79 %). Sorting ~30,000 values answers in well under
    /// 200 ms on a small server; the histogram answers a million in about the same.
    /// </summary>
    public long ExactUpTo { get; set; } = 30_000;

    /// <summary>A breakdown group with fewer boots is shown but not compared: a median of a handful of boots says little.</summary>
    public int BreakdownMinBoots { get; set; } = 20;

    /// <summary>A comparable group whose median is at least this many times the fastest group's is marked slow.</summary>
    public double BreakdownSlowFactor { get; set; } = 2.0;
}

/// <summary>
/// Checks the settings a wrong value of which would make figures meaningless rather than fail loudly later: at start-up
/// (<c>ValidateOnStart</c>), so the API refuses to run with them and says which setting is wrong.
/// </summary>
public sealed class FleetOptionsValidation : IValidateOptions<FleetOptions>
{
    public ValidateOptionsResult Validate(string? name, FleetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Capacity.Problems().ToList();
        if (options.Stats.BreakdownMinBoots < 1)
            problems.Add($"PvsFleet:Stats:BreakdownMinBoots is {options.Stats.BreakdownMinBoots}: it must be at least 1.");
        if (!(options.Stats.BreakdownSlowFactor > 1) || !double.IsFinite(options.Stats.BreakdownSlowFactor))
            problems.Add($"PvsFleet:Stats:BreakdownSlowFactor is {options.Stats.BreakdownSlowFactor}: it must be a number above 1.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// The farm's limits the capacity view and the capacity gauges measure storms against, per PVS server (PVS's defaults);
/// a site whose servers are set up otherwise overrides them under <c>Sites:&lt;site&gt;</c>.
/// </summary>
public sealed class CapacityOptions
{
    /// <summary>PVS's <c>MaxBootDevicesAllowed</c>: devices one server boots at once before it pauses logons.</summary>
    public int MaxBootDevicesAllowed { get; set; } = 500;

    /// <summary>Stream Service ports per server (6910–6930 by default: 21).</summary>
    public int StreamPorts { get; set; } = 21;

    /// <summary>Threads per port: with the ports, the devices one server streams to at once.</summary>
    public int ThreadsPerPort { get; set; } = 8;

    /// <summary>
    /// The longest a session counts as booting: an open phase of a session that never ended stops counting then, and
    /// sessions started this long before a range are read to find the boots already running at its start.
    /// </summary>
    public TimeSpan MaxBootLength { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Per-site limits, keyed by site name; what a site does not set, it takes from the ones above.</summary>
    public Dictionary<string, SiteFarmLimits> Sites { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The per-server limits of a site.</summary>
    public FarmLimits For(string site)
    {
        var own = Sites.GetValueOrDefault(site);
        return new FarmLimits(
            own?.MaxBootDevicesAllowed ?? MaxBootDevicesAllowed, own?.StreamPorts ?? StreamPorts, own?.ThreadsPerPort ?? ThreadsPerPort);
    }

    /// <summary>What is wrong with these limits, in words naming the settings; empty when nothing is.</summary>
    public IEnumerable<string> Problems()
    {
        var flat = new FarmLimits(MaxBootDevicesAllowed, StreamPorts, ThreadsPerPort).Problems("PvsFleet:Capacity").ToList();
        // A site takes what it leaves out from the flat settings: only once those are right would its own words be true.
        var sites = flat.Count > 0 ? [] : Sites.Keys.SelectMany(site => For(site).Problems($"PvsFleet:Capacity:Sites:{site}"));
        foreach (var problem in flat.Concat(sites))
            yield return problem;
        if (MaxBootLength < TimeSpan.FromMinutes(1) || MaxBootLength > TimeSpan.FromDays(1))
            yield return $"PvsFleet:Capacity:MaxBootLength is {MaxBootLength}: it must be between 00:01:00 and 1.00:00:00.";
    }
}

/// <summary>A site's own settings under <c>PvsFleet:Capacity:Sites:&lt;site&gt;</c>; each one left out is the flat one.</summary>
public sealed class SiteFarmLimits
{
    public int? MaxBootDevicesAllowed { get; set; }
    public int? StreamPorts { get; set; }
    public int? ThreadsPerPort { get; set; }
}

/// <summary>One PVS server's limits, as they apply to a site.</summary>
public sealed record FarmLimits(int MaxBootDevicesAllowed, int StreamPorts, int ThreadsPerPort)
{
    /// <summary>The devices one server streams to at once.</summary>
    public int StreamThreads => StreamPorts * ThreadsPerPort;

    internal IEnumerable<string> Problems(string section)
    {
        if (MaxBootDevicesAllowed is < 1 or > 100_000)
            yield return $"{section}:MaxBootDevicesAllowed is {MaxBootDevicesAllowed}: it must be between 1 and 100000 (PVS's default is 500).";
        if (StreamPorts is < 1 or > 1_000)
            yield return $"{section}:StreamPorts is {StreamPorts}: it must be between 1 and 1000 (UDP 6910-6930 are 21).";
        if (ThreadsPerPort is < 1 or > 1_000)
            yield return $"{section}:ThreadsPerPort is {ThreadsPerPort}: it must be between 1 and 1000 (PVS's default is 8).";
    }
}

public sealed class AlertOptions
{
    public bool Enabled { get; set; } = true;
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan CollectorSilentAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Seconds without progress before a session counts as stuck, per phase before BNIStack.</summary>
    public Dictionary<BootPhase, int> StuckThresholds { get; set; } = new()
    {
        [BootPhase.IpAcquisition] = 30,
        [BootPhase.BootstrapDownload] = 30,
        [BootPhase.PvsLogon] = 30,
        [BootPhase.SingleReadMode] = 60,
    };

    /// <summary>
    /// Seconds in a phase after which a session that still makes progress raises a "slow phase" alert: long but healthy
    /// phases (a busy vDisk in SingleReadMode) are worth a look without being called stuck. Empty, so off, by default;
    /// per-site limits under <c>Sites:&lt;site&gt;:SlowPhaseSeconds</c>.
    /// </summary>
    public Dictionary<BootPhase, int> SlowPhaseSeconds { get; set; } = [];

    /// <summary>Per-site overrides of <see cref="StuckThresholds"/>, keyed by site name.</summary>
    public Dictionary<string, SiteAlertOptions> Sites { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When set, every opened or resolved alert is POSTed there as JSON.</summary>
    public Uri? WebhookUrl { get; set; }
    public int WebhookMaxAttempts { get; set; } = 5;
    public TimeSpan WebhookFirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Network-hygiene findings: grouping, resolution and the slow-TFTP rule.</summary>
    public HygieneOptions Hygiene { get; set; } = new();

    /// <summary>The site's slow-phase limit for the phase, or null when none is set.</summary>
    public TimeSpan? SlowPhaseLimit(string site, BootPhase phase)
    {
        if (Sites.TryGetValue(site, out var s) && s.SlowPhaseSeconds.TryGetValue(phase, out var siteSeconds))
            return TimeSpan.FromSeconds(siteSeconds);
        return SlowPhaseSeconds.TryGetValue(phase, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
    }

    public TimeSpan StuckThreshold(string site, BootPhase phase)
    {
        if (Sites.TryGetValue(site, out var s) && s.StuckThresholds.TryGetValue(phase, out var siteSeconds))
            return TimeSpan.FromSeconds(siteSeconds);
        return TimeSpan.FromSeconds(StuckThresholds.TryGetValue(phase, out var seconds) ? seconds : 60);
    }
}

public sealed class HygieneOptions
{
    /// <summary>A hygiene alert resolves once no device has shown its finding for this long.</summary>
    public TimeSpan ResolveAfterQuiet { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Sessions that started within this window feed the slow-TFTP rule.</summary>
    public TimeSpan SlowTftpWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A TFTP server is slow when its median bootstrap download of a file is at least this many times the fastest server's.</summary>
    public double SlowTftpFactor { get; set; } = 2.0;

    /// <summary>Downloads of a file each server (the slow and the fastest) needs in the window before the rule judges it.</summary>
    public int SlowTftpMinSamples { get; set; } = 20;
}

public sealed class SiteAlertOptions
{
    public Dictionary<BootPhase, int> StuckThresholds { get; set; } = [];
    public Dictionary<BootPhase, int> SlowPhaseSeconds { get; set; } = [];
}

public sealed class AuthOptions
{
    /// <summary>A static key for small installs: <c>Authorization: Bearer &lt;key&gt;</c> reads and administers.</summary>
    public string? AdminKey { get; set; }

    /// <summary>OpenID Connect authority whose bearer tokens are accepted.</summary>
    public string? Authority { get; set; }
    public string? Audience { get; set; }

    /// <summary>
    /// The claim of an OIDC token that names its roles (a JSON array becomes one claim per element), and the value that
    /// makes its bearer an admin: managing collectors and acknowledging alerts. Any other valid token reads only.
    /// </summary>
    public string AdminClaimType { get; set; } = "roles";
    public string AdminClaimValue { get; set; } = "pvsfleet-admin";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AdminKey) || !string.IsNullOrWhiteSpace(Authority);
}
