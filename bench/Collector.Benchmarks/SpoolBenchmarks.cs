using BenchmarkDotNet.Attributes;
using PvsFleet.Collector.Shipping;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Collector.Benchmarks;

/// <summary>
/// What each spool durability policy costs per event: the time <see cref="EventSpool.Append"/> takes for a typical
/// event (a retries report with its session snapshot, ~600 bytes of JSON), on the disk the spool directory is on.
/// Run: <c>dotnet run -c Release --project bench/Collector.Benchmarks -- --filter *SpoolBenchmarks* --job short</c>
/// (SPOOL_BENCH_DIR picks the disk; the default is the temp directory).
/// </summary>
[MemoryDiagnoser]
public class SpoolBenchmarks
{
    private const int EventsPerInvoke = 200;
    private string directory = "";
    private EventSpool spool = null!;
    private RetriesEvent sample = null!;

    [Params(SpoolDurability.Kernel, SpoolDurability.GroupCommit, SpoolDurability.EveryEvent)]
    public SpoolDurability Durability { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var root = Environment.GetEnvironmentVariable("SPOOL_BENCH_DIR") is { Length: > 0 } dir ? dir : Path.GetTempPath();
        directory = Path.Combine(root, "pvsfleet-spool-bench-" + Guid.NewGuid().ToString("N"));
        spool = new EventSpool(directory, maxBytes: 8L << 30, durability: Durability);
        var start = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        sample = new RetriesEvent
        {
            Sequence = 0, Timestamp = start.AddSeconds(40), Phase = BootPhase.SingleReadMode, Count = 1,
            Session = new SessionSnapshot
            {
                SessionId = Guid.CreateVersion7(), Mac = "52:54:00:12:34:56", Ip = "10.20.30.40", Firmware = Firmware.Uefi,
                BootFile = "pvsnbpx64.efi", HostName = "VDA-0042", Phase = BootPhase.SingleReadMode, Outcome = BootOutcome.InProgress,
                StartedAt = start, LastProgressAt = start.AddSeconds(40),
                Phases =
                [
                    new PhaseTiming { Phase = BootPhase.IpAcquisition, StartedAt = start, EndedAt = start.AddSeconds(4), Retries = 1 },
                    new PhaseTiming { Phase = BootPhase.BootstrapDownload, StartedAt = start.AddSeconds(4), EndedAt = start.AddSeconds(6) },
                    new PhaseTiming { Phase = BootPhase.PvsLogon, StartedAt = start.AddSeconds(6), EndedAt = start.AddSeconds(7) },
                    new PhaseTiming { Phase = BootPhase.SingleReadMode, StartedAt = start.AddSeconds(7), Retries = 3 },
                ],
                Servers = new SessionServers { Dhcp = "10.20.0.1", Tftp = "10.20.0.2", Pvs = "10.20.0.3" },
            },
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        spool.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public long Append()
    {
        long last = 0;
        for (var i = 0; i < EventsPerInvoke; i++)
        {
            last = spool.Append(sample).Sequence;
        }

        spool.Acknowledge(last); // keeps the spool from growing: segments behind the acknowledgement are deleted
        return last;
    }
}
