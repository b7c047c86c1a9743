namespace PvsFleet.Collector.Decoding;

/// <summary>What a UDP port on the PVS server's side means for a boot.</summary>
public enum PvsPortKind
{
    None,

    /// <summary>The Stream Service's login port (default 6910, the first stream port): the device logs on, and may stream there too.</summary>
    Logon,

    /// <summary>Another stream port (default 6911–6930): the vDisk is read.</summary>
    Stream,

    /// <summary>Two-stage boot (Boot Device Manager): the bootstrap comes over 6969 or 2071 instead of TFTP.</summary>
    TwoStageBoot,
}

/// <summary>
/// The PVS server ports, configurable because farms move them. The Stream Service listens on 6910–6930 and the login
/// server on the first of them, so the login port lies inside the stream range and is tested first. Which phase a
/// packet belongs to is decided by the traffic (a read answered by large datagrams), not by the port alone.
/// 6890–6909 are server-to-server ports and never a target device's traffic.
/// </summary>
public sealed class PvsPorts
{
    public ushort LogonPort { get; init; } = 6910;
    public ushort StreamPortFirst { get; init; } = 6910;
    public ushort StreamPortLast { get; init; } = 6930;
    public IReadOnlyList<ushort> TwoStageBootPorts { get; init; } = [6969, 2071];

    public PvsPortKind Classify(ushort serverPort)
    {
        if (serverPort == LogonPort)
        {
            return PvsPortKind.Logon;
        }

        if (serverPort >= StreamPortFirst && serverPort <= StreamPortLast)
        {
            return PvsPortKind.Stream;
        }

        for (var i = 0; i < TwoStageBootPorts.Count; i++)
        {
            if (TwoStageBootPorts[i] == serverPort)
            {
                return PvsPortKind.TwoStageBoot;
            }
        }

        return PvsPortKind.None;
    }

    /// <summary>The login or a stream port: the device talks to the Stream Service.</summary>
    public bool IsStreamService(ushort serverPort) => Classify(serverPort) is PvsPortKind.Logon or PvsPortKind.Stream;

    public void Validate()
    {
        if (StreamPortFirst > StreamPortLast)
        {
            throw new ArgumentException($"The stream port range {StreamPortFirst}–{StreamPortLast} is empty: the first port must not exceed the last.");
        }

        if (LogonPort == 0)
        {
            throw new ArgumentException("The PVS logon port must be between 1 and 65535.");
        }
    }
}
