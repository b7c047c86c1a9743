using PvsFleet.Contracts;

namespace PvsFleet.Api;

/// <summary>The <c>PvsFleet</c> configuration section.</summary>
public sealed class FleetOptions
{
    public const string Section = "PvsFleet";

    /// <summary>Where the embedded SQLite database lives when no PostgreSQL connection is configured.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Raw events older than this are deleted; sessions, devices and alerts are kept.</summary>
    public int EventRetentionDays { get; set; } = 30;

    public IngestOptions Ingest { get; set; } = new();
    public StatsOptions Stats { get; set; } = new();
    public AlertOptions Alerts { get; set; } = new();
    public AuthOptions Auth { get; set; } = new();
    public EvidenceOptions Evidence { get; set; } = new();
}

/// <summary>Bounds of the packet clips collectors send (see Evidence/EvidenceApi).</summary>
public sealed class EvidenceOptions
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
