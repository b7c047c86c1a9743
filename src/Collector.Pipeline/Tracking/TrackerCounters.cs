namespace PvsFleet.Collector.Tracking;

/// <summary>What the tracker saw, beyond sessions: the figures an operator checks when something looks off.</summary>
public sealed class TrackerCounters
{
    public long Packets { get; internal set; }

    /// <summary>Frames whose declared lengths or fields did not hold; never thrown, only counted.</summary>
    public long Malformed { get; internal set; }
    public long NonFirstFragments { get; internal set; }

    /// <summary>Copies of a datagram already seen (several capture interfaces at once): never retries or progress.</summary>
    public long DuplicateFrames { get; internal set; }

    /// <summary>DHCP options whose length or value did not hold, skipped while the rest of the message was read.</summary>
    public long MalformedDhcpOptions { get; internal set; }
    public long Dhcp { get; internal set; }
    public long Tftp { get; internal set; }
    public long Pvs { get; internal set; }
    public long Arp { get; internal set; }

    /// <summary>Boot traffic of an address no active session owns (a capture that began mid-boot, an evicted session).</summary>
    public long Unattributed { get; internal set; }

    /// <summary>Boots first seen past DHCP (bootstrap TFTP or PVS traffic), which got a session marked as joined mid-boot.</summary>
    public long JoinedMidBoot { get; internal set; }

    /// <summary>The most boot sessions tracked at one moment: what the tracker's memory had to hold.</summary>
    public int PeakSessionsInFlight { get; internal set; }
}
