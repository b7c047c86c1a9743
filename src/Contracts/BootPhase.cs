namespace PvsFleet.Contracts;

/// <summary>
/// The five phases of a PVS target-device boot, named as in Citrix's boot poster (CTX136378).
/// The order matters: a session only ever moves forward through them.
/// </summary>
public enum BootPhase
{
    IpAcquisition = 0,
    BootstrapDownload = 1,
    PvsLogon = 2,
    SingleReadMode = 3,
    BniStack = 4,
}
