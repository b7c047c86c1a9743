namespace PvsFleet.Collector.Evidence;

/// <summary>How a device's frame is kept: control frames all, the other kinds only their newest few.</summary>
public enum EvidenceKind : byte
{
    /// <summary>DHCP, TFTP RRQ/WRQ/OACK/ERROR and a transfer's first block and ACK, the PVS logon: what a failure is read from.</summary>
    Control,

    /// <summary>TFTP DATA and ACK after the first block: only the newest few (the last block, or where the server stopped).</summary>
    Transfer,

    /// <summary>vDisk streaming: the last N.</summary>
    Stream,
}
