using System.Globalization;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Data;
using PvsFleet.Api.Security;

namespace PvsFleet.Api.Cli;

/// <summary>
/// Operator commands run through the same host as the server (same configuration and storage):
/// <c>migrate</c>, <c>collectors add --site S --name N</c>, <c>collectors list</c>, <c>collectors revoke --id N</c>.
/// </summary>
public static class Commands
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "migrate" or "collectors";

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        var clock = services.GetRequiredService<TimeProvider>();
        await StorageSetup.MigrateAsync(services);
        if (args[0] == "migrate")
        {
            Console.WriteLine("Database is up to date.");
            return 0;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FleetDbContext>();
        var verb = args.Length > 1 ? args[1] : "";
        switch (verb)
        {
            case "add":
                var site = Option(args, "--site");
                var name = Option(args, "--name");
                if (site is null || name is null)
                    return Usage();
                var (collector, key) = await CreateCollectorAsync(db, site, name, clock.GetUtcNow().UtcDateTime);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Collector {collector.Id} '{collector.Name}' on site '{site}' created. Its key is shown once:"));
                Console.WriteLine(key);
                return 0;
            case "list":
                foreach (var c in await db.Collectors.AsNoTracking().Include(c => c.Site).OrderBy(c => c.Id).ToListAsync())
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{c.Id}\t{c.Site.Name}\t{c.Name}\t{c.KeyPrefix}…\t{(c.RevokedAt is null ? "active" : "revoked")}\t{c.LastSeenAt:u}"));
                }
                return 0;
            case "revoke":
                if (!int.TryParse(Option(args, "--id"), CultureInfo.InvariantCulture, out var id))
                    return Usage();
                var revoked = await db.Collectors.Where(c => c.Id == id && c.RevokedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.RevokedAt, clock.GetUtcNow().UtcDateTime));
                Console.WriteLine(revoked == 1 ? "Revoked." : "No such active collector.");
                return revoked == 1 ? 0 : 1;
            default:
                return Usage();
        }
    }

    /// <summary>Creates the site if needed and a collector with a new key; returns the key, which is never stored.</summary>
    public static async Task<(Data.Collector Collector, string Key)> CreateCollectorAsync(FleetDbContext db, string siteName, string name, DateTime now)
    {
        var site = await db.Sites.SingleOrDefaultAsync(s => s.Name == siteName);
        if (site is null)
        {
            site = new Site { Name = siteName, CreatedAt = now };
            db.Sites.Add(site);
        }
        var key = CollectorKeys.NewKey();
        var collector = new Data.Collector
        {
            Site = site,
            Name = name,
            KeyHash = CollectorKeys.Hash(key),
            KeyPrefix = CollectorKeys.DisplayPrefix(key),
            CreatedAt = now,
        };
        db.Collectors.Add(collector);
        await db.SaveChangesAsync();
        return (collector, key);
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage: PvsFleet.Api migrate
                   PvsFleet.Api collectors add --site NAME --name NAME
                   PvsFleet.Api collectors list
                   PvsFleet.Api collectors revoke --id ID
            """);
        return 2;
    }
}
