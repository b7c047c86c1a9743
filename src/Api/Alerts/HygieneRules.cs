using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Data;
using PvsFleet.Api.Ingest;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Ingest;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Alerts;

/// <summary>
/// Network-hygiene alerts: one open alert per site, finding and server, however many devices show it (a storm of 500
/// devices seeing one rogue PXE server is one alert counting 500 devices). The collector's findings come from the
/// stored issue events; the slow TFTP server is computed here from the sessions' bootstrap downloads.
/// </summary>
internal sealed class HygieneRules(JsonSerializerOptions json)
{
    // Issue events are re-read with this overlap: an ingest transaction may commit a little after a later one, and
    // re-reading is harmless (devices are counted once, last seen is a maximum).
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(2);
    private DateTime? readUntil;

    public static HygieneFinding? FindingOf(BootIssueKind kind) => kind switch
    {
        BootIssueKind.MultiplePxeServers => HygieneFinding.MultiplePxeServers,
        BootIssueKind.NoPxeOffer => HygieneFinding.NoPxeOffer,
        BootIssueKind.Fragmentation => HygieneFinding.Fragmentation,
        BootIssueKind.BootstrapFirmwareMismatch => HygieneFinding.BootstrapFirmwareMismatch,
        _ => null,
    };

    private sealed record Sighting(int SiteId, HygieneFinding Finding, string Server, string Mac, DateTime At, string? Detail, string? Hint);

    /// <summary>Adds new alerts to <paramref name="opened"/>, ended ones to <paramref name="resolved"/>; returns the open alerts whose count changed.</summary>
    public async Task<List<Alert>> EvaluateAsync(FleetDbContext db, HygieneOptions o, DateTime now, List<Alert> active,
        List<Alert> opened, List<Alert> resolved, CancellationToken ct)
    {
        var hygiene = active.Where(a => a.Kind == AlertKind.NetworkHygiene).ToList();
        var open = hygiene.ToDictionary(a => (a.SiteId, a.Finding!.Value, a.Server ?? ""));
        var changed = new HashSet<Alert>();

        // The collector's findings since the previous pass (after a restart: as far back as an alert stays open).
        var from = (readUntil ?? now - o.ResolveAfterQuiet) - Overlap;
        var rows = await db.Events.AsNoTracking()
            .Where(e => e.Type == "issue" && e.ReceivedAt >= from)
            .Select(e => new { e.CollectorId, e.ReceivedAt, e.Payload })
            .ToListAsync(ct);
        readUntil = now;
        var siteOf = rows.Count == 0
            ? []
            : await db.Collectors.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.SiteId, ct);
        var sightings = new List<Sighting>();
        foreach (var row in rows)
        {
            if (Read(row.Payload) is { } issue && FindingOf(issue.Kind) is { } finding && siteOf.TryGetValue(row.CollectorId, out var site))
            {
                sightings.Add(new Sighting(site, finding, issue.Server ?? "", Macs.Normalize(issue.Session.Mac), row.ReceivedAt,
                    issue.Detail, issue.Hint));
            }
        }

        foreach (var group in sightings.GroupBy(s => (s.SiteId, s.Finding, s.Server)))
        {
            var last = group.MaxBy(s => s.At)!;
            if (!open.TryGetValue(group.Key, out var alert))
            {
                alert = new Alert
                {
                    Kind = AlertKind.NetworkHygiene, State = AlertState.Open, SiteId = group.Key.SiteId, OpenedAt = now,
                    Finding = group.Key.Finding, Server = group.Key.Server.Length > 0 ? group.Key.Server : null,
                    Hint = last.Hint, Message = "",
                };
                open[group.Key] = alert;
                opened.Add(alert);
                db.Alerts.Add(alert);
            }
            var known = alert.Id == 0
                ? []
                : (await db.AlertDevices.AsNoTracking().Where(d => d.AlertId == alert.Id).Select(d => d.Mac).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
            var added = group.Select(s => s.Mac).Distinct(StringComparer.Ordinal).Where(known.Add).ToList();
            foreach (var mac in added)
                db.AlertDevices.Add(new AlertDevice { Alert = alert, Mac = mac });
            if (added.Count > 0 || alert.LastSeenAt is null || last.At > alert.LastSeenAt)
            {
                alert.DeviceCount = known.Count;
                alert.LastSeenAt = alert.LastSeenAt is { } seen && seen > last.At ? seen : last.At;
                alert.Hint ??= last.Hint;
                alert.Message = Describe(alert.Finding!.Value, alert.Server, alert.DeviceCount, last.Detail);
                if (alert.Id != 0 && added.Count > 0)
                    changed.Add(alert);
            }
        }

        // A finding no device has shown for a while is gone (the rogue server was switched off, the MTU fixed).
        foreach (var a in hygiene.Where(a => a.Finding != HygieneFinding.SlowTftpServer && now - (a.LastSeenAt ?? a.OpenedAt) > o.ResolveAfterQuiet))
            resolved.Add(a);

        await SlowTftpAsync(db, o, now, open, opened, resolved, changed, ct);
        return [.. changed.Where(a => !resolved.Contains(a))];
    }

    /// <summary>
    /// A TFTP server whose median bootstrap download of a file is at least the configured factor times the fastest
    /// server's median for that file, both with enough samples in the window. Resolves when that no longer holds.
    /// </summary>
    private static async Task SlowTftpAsync(FleetDbContext db, HygieneOptions o, DateTime now,
        Dictionary<(int, HygieneFinding, string), Alert> open, List<Alert> opened, List<Alert> resolved, HashSet<Alert> changed,
        CancellationToken ct)
    {
        var since = now - o.SlowTftpWindow;
        var downloads = await db.SessionPhases.AsNoTracking()
            .Where(p => p.Phase == BootPhase.BootstrapDownload && p.SessionStartedAt >= since && p.DurationMs != null)
            .Join(db.Sessions.AsNoTracking().Where(s => s.TftpServer != null && s.BootFile != null && s.StartedAt >= since),
                p => p.SessionId, s => s.Id, (p, s) => new { s.SiteId, s.BootFile, s.TftpServer, Ms = p.DurationMs!.Value, s.StartedAt })
            .ToListAsync(ct);

        var slow = new Dictionary<(int, HygieneFinding, string), (string File, double Median, double Fastest, string FastServer, int Samples, DateTime Last)>();
        foreach (var file in downloads.GroupBy(d => (d.SiteId, File: d.BootFile!.ToLowerInvariant())))
        {
            var servers = file.GroupBy(d => d.TftpServer!)
                .Where(g => g.Count() >= o.SlowTftpMinSamples)
                .Select(g => (Server: g.Key, Median: Median([.. g.Select(d => d.Ms)]), Samples: g.Count(), Last: g.Max(d => d.StartedAt)))
                .ToList();
            if (servers.Count < 2)
                continue;
            var fastest = servers.MinBy(s => s.Median);
            foreach (var s in servers.Where(s => fastest.Median > 0 && s.Median >= o.SlowTftpFactor * fastest.Median))
            {
                var key = (file.Key.SiteId, HygieneFinding.SlowTftpServer, s.Server);
                // One alert per server: the file where it lags most speaks for it.
                if (!slow.TryGetValue(key, out var known) || s.Median / fastest.Median > known.Median / known.Fastest)
                    slow[key] = (file.First().BootFile!, s.Median, fastest.Median, fastest.Server, s.Samples, s.Last);
            }
        }

        foreach (var (key, s) in slow)
        {
            var message = string.Create(CultureInfo.InvariantCulture,
                $"TFTP server {key.Item3} serves {s.File} in {s.Median / 1000:0.0} s (median of {s.Samples} downloads), {s.Median / s.Fastest:0.0}× the {s.Fastest / 1000:0.0} s of {s.FastServer}.");
            if (!open.TryGetValue(key, out var alert))
            {
                alert = new Alert
                {
                    Kind = AlertKind.NetworkHygiene, State = AlertState.Open, SiteId = key.Item1, OpenedAt = now,
                    Finding = HygieneFinding.SlowTftpServer, Server = key.Item3, Message = message,
                    Hint = "compare that server's load, disk and network path with the fast one's (TFTP block size and window size negotiated, NIC offload settings, antivirus scanning the TFTP root), or take it out of the PXE rotation",
                };
                open[key] = alert;
                opened.Add(alert);
                db.Alerts.Add(alert);
            }
            else if (alert.DeviceCount != s.Samples)
            {
                changed.Add(alert);
            }
            alert.Message = message;
            alert.DeviceCount = s.Samples;
            alert.LastSeenAt = s.Last;
        }
        foreach (var (key, alert) in open)
        {
            if (key.Item2 == HygieneFinding.SlowTftpServer && alert.Id != 0 && !slow.ContainsKey(key))
                resolved.Add(alert);
        }
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private static string Describe(HygieneFinding finding, string? server, int devices, string? detail)
    {
        var who = devices == 1 ? "1 device" : string.Create(CultureInfo.InvariantCulture, $"{devices} devices");
        var text = finding switch
        {
            HygieneFinding.MultiplePxeServers => $"More than one server gives PXE clients boot information ({server ?? "servers unknown"}), seen by {who}.",
            HygieneFinding.NoPxeOffer => $"PXE clients only get offers without PXE boot information (from {server ?? "unknown servers"}), seen by {who}.",
            HygieneFinding.Fragmentation => $"TFTP or PVS datagrams arrive in IP fragments{(server is null ? "" : $" (server {server})")}, seen by {who}.",
            HygieneFinding.BootstrapFirmwareMismatch => $"A bootstrap of the other firmware is asked for{(server is null ? "" : $" from {server}")}, by {who}.",
            _ => $"{finding}, seen by {who}.",
        };
        if (detail is { Length: > 0 })
            text += $" Latest: {detail}";
        return text.Length > 1000 ? text[..1000] : text;
    }

    private IssueEvent? Read(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize<IngestEvent>(payload, json) is IssueEvent issue ? (IssueEvent)IngestSanitizer.Clean(issue) : null;
        }
        catch (JsonException)
        {
            // Stored payloads passed validation on the way in; one that no longer reads is skipped, not fatal.
            return null;
        }
    }
}
