using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Shipping;
using PvsFleet.Collector.Tracking;

namespace PvsFleet.Collector.Agent;

/// <summary>
/// The collector agent's settings: section <c>Collector</c> of appsettings.json, environment variables
/// (<c>Collector__ApiUrl</c>, <c>Collector__Interfaces__0</c>, …) and command-line flags, in that order of precedence.
/// </summary>
public sealed class AgentOptions
{
    public const string Section = "Collector";

    /// <summary>A label for logs; the API knows the site from the collector's key.</summary>
    public string? Site { get; set; }

    /// <summary>The API's base address, e.g. https://pvsfleet.example.com/.</summary>
    public Uri? ApiUrl { get; set; }

    /// <summary>This collector's key, from <c>collectors add</c> on the API.</summary>
    public string? Key { get; set; }

    /// <summary>Capture interfaces (the mirror ports); <c>any</c> captures on all of them at once, Linux-cooked.</summary>
    public List<string> Interfaces { get; set; } = [];

    /// <summary>A BPF filter to use instead of the default boot-traffic filter.</summary>
    public string? Filter { get; set; }

    /// <summary>The kernel capture ring per interface, in MB: it absorbs bursts (see <c>LiveCapture.Open</c>).</summary>
    public int CaptureBufferMegabytes { get; set; } = 512;

    public string SpoolDirectory { get; set; } = "spool";
    public long SpoolMaxBytes { get; set; } = 512L << 20;
    public SpoolOverflowPolicy SpoolOverflow { get; set; } = SpoolOverflowPolicy.DropOldest;

    /// <summary>How far each event is pushed to disk before it counts as spooled (README, "Reliability": the loss windows).</summary>
    public SpoolDurability SpoolDurability { get; set; } = SpoolDurability.GroupCommit;

    /// <summary>Events that may wait between capture and the spool (see <see cref="SpoolWriter"/>); when full, capture waits.</summary>
    public int SpoolQueueCapacity { get; set; } = 65_536;

    /// <summary>With <see cref="SpoolDurability.GroupCommit"/>: how often the spool is fsync'ed, the most a power cut loses.</summary>
    public TimeSpan SpoolSyncInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public int BatchMaxEvents { get; set; } = 1000;

    /// <summary>How long the first event of a batch may wait for company: the bound on delivery latency.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>PVS server ports.</summary>
    public PortSettings Ports { get; set; } = new();

    /// <summary>Stuck thresholds per phase, in seconds.</summary>
    public ThresholdSettings Thresholds { get; set; } = new();

    /// <summary>Packet clips of failed boots (Collector:Evidence).</summary>
    public EvidenceSettings Evidence { get; set; } = new();

    public TrackerOptions ToTrackerOptions() => new()
    {
        Ports = new PvsPorts
        {
            LogonPort = Ports.Logon,
            StreamPortFirst = Ports.StreamFirst,
            StreamPortLast = Ports.StreamLast,
            TwoStageBootPorts = Ports.TwoStageBoot,
        },
        IpAcquisitionThreshold = TimeSpan.FromSeconds(Thresholds.IpAcquisition),
        BootstrapDownloadThreshold = TimeSpan.FromSeconds(Thresholds.BootstrapDownload),
        PvsLogonThreshold = TimeSpan.FromSeconds(Thresholds.PvsLogon),
        SingleReadModeThreshold = TimeSpan.FromSeconds(Thresholds.SingleReadMode),
    };

    /// <summary>Every problem at once, worded for the person who edits the configuration.</summary>
    public IReadOnlyList<string> Problems(bool needsInterfaces)
    {
        var problems = new List<string>();
        if (ApiUrl is null || !ApiUrl.IsAbsoluteUri || ApiUrl.Scheme is not ("http" or "https"))
        {
            problems.Add("Collector:ApiUrl (--api) must be the API's http(s) address");
        }

        if (string.IsNullOrWhiteSpace(Key))
        {
            problems.Add("Collector:Key (--key) is missing: create one with `collectors add` on the API");
        }

        if (needsInterfaces && Interfaces.Count == 0)
        {
            problems.Add("Collector:Interfaces (--interface) names no capture interface: `interfaces` lists them");
        }

        if (CaptureBufferMegabytes is < 1 or > 2047)
        {
            problems.Add("Collector:CaptureBufferMegabytes must be between 1 and 2047");
        }

        if (Evidence.Enabled)
        {
            try
            {
                Evidence.ToEvidenceOptions().Validate();
            }
            catch (ArgumentException e)
            {
                problems.Add($"Collector:Evidence: {e.Message}");
            }
        }

        if (SpoolQueueCapacity is < 1 or > 10_000_000)
        {
            problems.Add("Collector:SpoolQueueCapacity must be between 1 and 10000000");
        }

        if (SpoolSyncInterval <= TimeSpan.Zero || SpoolSyncInterval > TimeSpan.FromMinutes(1))
        {
            problems.Add("Collector:SpoolSyncInterval must be more than 0 and at most a minute");
        }

        if (BatchMaxEvents is < 1 or > 10_000)
        {
            problems.Add("Collector:BatchMaxEvents must be between 1 and 10000");
        }

        try
        {
            ToTrackerOptions().Validate();
        }
        catch (ArgumentException e)
        {
            problems.Add(e.Message);
        }

        return problems;
    }

    public sealed class EvidenceSettings
    {
        /// <summary>Keep each boot's frames and send a clip of the failed, stuck and looping ones.</summary>
        public bool Enabled { get; set; } = true;

        /// <summary>Frame bytes kept for all boots in flight together.</summary>
        public int MaxMegabytes { get; set; } = 32;

        /// <summary>Frame bytes kept for one boot.</summary>
        public int MaxKilobytesPerDevice { get; set; } = 128;

        /// <summary>The newest streaming frames kept per boot (the last N before a failure).</summary>
        public int StreamFrames { get; set; } = 32;

        /// <summary>Streaming and TFTP data frames are cut to this many bytes (the clip records their length).</summary>
        public int SnapLength { get; set; } = 256;

        /// <summary>Clips waiting for the API; when full, the oldest goes.</summary>
        public int UploadQueueClips { get; set; } = 32;

        public Evidence.EvidenceOptions ToEvidenceOptions() => new()
        {
            MaxBytes = (long)MaxMegabytes << 20,
            MaxBytesPerDevice = MaxKilobytesPerDevice << 10,
            StreamFrames = StreamFrames,
            SnapLength = SnapLength,
        };
    }

    public sealed class PortSettings
    {
        public ushort Logon { get; set; } = 6910;
        public ushort StreamFirst { get; set; } = 6910;
        public ushort StreamLast { get; set; } = 6930;
        public List<ushort> TwoStageBoot { get; set; } = [6969, 2071];
    }

    public sealed class ThresholdSettings
    {
        public double IpAcquisition { get; set; } = 30;
        public double BootstrapDownload { get; set; } = 30;
        public double PvsLogon { get; set; } = 30;
        public double SingleReadMode { get; set; } = 60;
    }
}
