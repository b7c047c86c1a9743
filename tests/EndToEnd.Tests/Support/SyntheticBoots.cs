using System.Globalization;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.EndToEnd.Tests.Support;

/// <summary>
/// Ingest events of made-up boots, as a collector would send them: many devices at once without a capture to replay.
/// Keeps each collector's sequence numbers ascending.
/// </summary>
public sealed class SyntheticBoots
{
    private readonly Dictionary<string, long> sequences = [];

    /// <summary>A MAC of its own per site and index (locally administered, so it collides with no real NIC).</summary>
    public static string Mac(int site, int i) => string.Create(CultureInfo.InvariantCulture, $"02:00:{site:x2}:{i >> 16:x2}:{(i >> 8) & 0xff:x2}:{i & 0xff:x2}");

    /// <summary>The session of <paramref name="mac"/> has just entered <paramref name="phase"/>; earlier phases took 2 s each.</summary>
    public PhaseEnteredEvent Entered(string key, string mac, BootPhase phase, DateTimeOffset started, Guid session,
        BootOutcome outcome = BootOutcome.InProgress)
    {
        var sequence = sequences[key] = sequences.GetValueOrDefault(key) + 1;
        var phases = Enumerable.Range(0, (int)phase + 1).Select(p => new PhaseTiming
        {
            Phase = (BootPhase)p,
            StartedAt = started.AddSeconds(p * 2),
            EndedAt = p < (int)phase ? started.AddSeconds((p * 2) + 2) : null,
            Retries = p == 0 ? 1 : 0,
        }).ToList();
        return new PhaseEnteredEvent
        {
            Sequence = sequence,
            Timestamp = started.AddSeconds((int)phase * 2),
            Phase = phase,
            Session = new SessionSnapshot
            {
                SessionId = session, Mac = mac, Ip = "10.50." + (mac.GetHashCode(StringComparison.Ordinal) & 0xff).ToString(CultureInfo.InvariantCulture) + ".9",
                Firmware = Firmware.Uefi, BootFile = "pvsnbpx64.efi", HostName = phase == BootPhase.BniStack ? "VDA-" + mac[^5..].Replace(":", "", StringComparison.Ordinal) : null,
                Phase = phase, Outcome = outcome, StartedAt = started, Phases = phases,
            },
        };
    }

    /// <summary>
    /// Devices <paramref name="from"/> to <paramref name="to"/> (exclusive) of a site, each somewhere in its boot, posted
    /// in batches of 5,000 (the API takes up to 10,000 events per batch).
    /// </summary>
    public async Task IngestFleetAsync(FleetServer api, string key, int site, int from, int to)
    {
        var now = DateTimeOffset.UtcNow;
        for (var start = from; start < to; start += 5000)
        {
            var events = Enumerable.Range(start, Math.Min(5000, to - start))
                .Select(i => Entered(key, Mac(site, i), (BootPhase)(i % 5), now.AddSeconds(-(i % 300)), Guid.NewGuid()))
                .ToList<IngestEvent>();
            await api.IngestAsync(key, events);
        }
    }
}
