namespace PvsFleet.Api.Embedded;

/// <summary>
/// One collector of the demo: its site, its name, and the simulated storm it replays in a loop. Each storm takes a
/// MAC range of its own (<see cref="MacOffset"/>); the collector with <see cref="RealCaptures"/> also replays the
/// recorded sample boots, each under a MAC of its own. The storms themselves are written at build time by the
/// collector's simulator (the <c>DemoStorm</c> items of Api.csproj, with the same devices and MAC ranges), so the API
/// carries no simulator.
/// </summary>
public sealed record DemoCollector(string Site, string Name, int MacOffset, int Devices, bool RealCaptures = false)
{
    /// <summary>Device n's MAC, as the simulator gives it: 52:54:00 and then <c>MacOffset + n + 1</c>.</summary>
    public string Mac(int device)
    {
        var low = MacOffset + device + 1;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"52:54:00:{(low >> 16) & 0xff:x2}:{(low >> 8) & 0xff:x2}:{low & 0xff:x2}");
    }

    /// <summary>The simulator names device n this way too.</summary>
    public static string HostName(int device) => $"VDA-{device + 1:D4}";

    /// <summary>The storm the build wrote for this collector (see Api.csproj).</summary>
    public string StormFile => $"demo-storm-{Name}.pcapng";
}

/// <summary>Three sites with two collectors each: what the demo shows.</summary>
public static class DemoPlan
{
    public static readonly IReadOnlyList<DemoCollector> Collectors =
    [
        new("hq", "pvs-hq-1", 0x01_0000, 16, RealCaptures: true),
        new("hq", "pvs-hq-2", 0x02_0000, 20),
        new("branch-east", "pvs-east-1", 0x03_0000, 18),
        new("branch-east", "pvs-east-2", 0x04_0000, 16),
        new("branch-west", "pvs-west-1", 0x05_0000, 14),
        new("branch-west", "pvs-west-2", 0x06_0000, 14),
    ];

    public static IEnumerable<string> Sites => Collectors.Select(c => c.Site).Distinct();

    /// <summary>The MAC both sample captures were recorded with, and the ones they play under in the demo.</summary>
    public static readonly byte[] RecordedMac = [0x52, 0x54, 0x00, 0x00, 0x00, 0x01];
    public static readonly IReadOnlyDictionary<string, byte[]> RealCaptureMacs = new Dictionary<string, byte[]>
    {
        ["real-bios-1.pcap"] = [0x52, 0x54, 0x00, 0xa0, 0x00, 0x01],
        ["real-uefi-1.pcap"] = [0x52, 0x54, 0x00, 0xa0, 0x00, 0x02],
    };
}
