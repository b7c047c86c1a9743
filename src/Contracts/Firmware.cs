namespace PvsFleet.Contracts;

/// <summary>The boot firmware a device announced in DHCP (option 93, or the PXEClient vendor class).</summary>
public enum Firmware
{
    Unknown = 0,
    Bios = 1,
    Uefi = 2,
}
