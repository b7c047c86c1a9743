namespace PvsFleet.Collector.Simulation;

/// <summary>
/// The device's last eight PVS payloads, by key: a packet matching one of them is a retransmit (a retry), per the
/// tracker's rule. The simulator applies the same rule so the truth counts exactly what a tracker can see.
/// </summary>
internal sealed class RecentPayloads
{
    public const int Window = 8;

    private readonly long[] keys = new long[Window];
    private int count;
    private int next;

    /// <summary>Records a device payload; returns true when it repeats one of the previous eight.</summary>
    public bool AddAndCheckRepeat(long key)
    {
        var repeat = Array.IndexOf(keys, key, 0, count) >= 0;
        keys[next] = key;
        next = (next + 1) % Window;
        count = Math.Min(count + 1, Window);
        return repeat;
    }
}
