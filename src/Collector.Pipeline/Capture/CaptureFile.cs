using System.Buffers.Binary;

namespace PvsFleet.Collector.Capture;

public enum CaptureReaderKind
{
    /// <summary>Memory-mapped pcap/pcapng where the format allows, SharpPcap for anything else libpcap reads.</summary>
    Auto,
    SharpPcap,
    Mapped,
}

/// <summary>Opens capture files with the fastest reader that understands them.</summary>
public static class CaptureFile
{
    public static ICaptureFileReader Open(string path, CaptureReaderKind kind = CaptureReaderKind.Auto)
    {
        if (!File.Exists(path))
        {
            throw new CaptureException(Directory.Exists(path) ? $"{path}: is a directory, not a capture file" : $"{path}: no such file");
        }

        var mappable = IsPlainPcapOrPcapNg(path);
        return kind switch
        {
            CaptureReaderKind.Mapped when !mappable => throw new CaptureException($"{path}: not a plain pcap or pcapng file, which the mapped reader needs"),
            CaptureReaderKind.Mapped => new MappedCaptureReader(path),
            CaptureReaderKind.Auto when mappable => new MappedCaptureReader(path),
            _ => new SharpPcapFileReader(path),
        };
    }

    private static bool IsPlainPcapOrPcapNg(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
            {
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CaptureException($"{path}: cannot be read: {e.Message}", e);
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(magic);
        return value is MappedCaptureReader.PcapMagicMicro or MappedCaptureReader.PcapMagicNano
            or MappedCaptureReader.PcapMagicMicroSwapped or MappedCaptureReader.PcapMagicNanoSwapped
            or MappedCaptureReader.PcapNgSectionHeader;
    }
}
