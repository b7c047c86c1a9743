using PvsFleet.Contracts;

namespace PvsFleet.Collector.Simulation;

/// <summary>The PVS bootstrap a firmware asks for over TFTP, and how it is cut into blocks.</summary>
internal sealed record BootstrapFile(string Name, int Size, int BlockSize)
{
    // Sizes of the order of the real files (~72 KB); not a multiple of the block size, as in practice.
    private static readonly BootstrapFile Bios = new("ARDBP32.bin", 73_412, 1432);
    private static readonly BootstrapFile Uefi = new("pvsnbpx64.efi", 73_894, 1468);

    public static BootstrapFile For(Firmware firmware) => firmware == Firmware.Uefi ? Uefi : Bios;

    /// <summary>The transfer ends with a block shorter than blksize — an empty one if the size divides evenly.</summary>
    public int Blocks => Size / BlockSize + 1;

    public int BlockLength(int block) => block < Blocks ? BlockSize : Size - (Blocks - 1) * BlockSize;

    /// <summary>x86 PXE stacks ask for ARDBP32.bin (arch 0); UEFI x64 ones for pvsnbpx64.efi (arch 7).</summary>
    public static ushort ClientArchitecture(Firmware firmware) => firmware == Firmware.Uefi ? (ushort)7 : (ushort)0;

    public static string VendorClass(Firmware firmware) =>
        firmware == Firmware.Uefi ? "PXEClient:Arch:00007:UNDI:003016" : "PXEClient:Arch:00000:UNDI:002001";
}
