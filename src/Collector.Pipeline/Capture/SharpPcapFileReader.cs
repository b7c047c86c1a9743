using PvsFleet.Collector.Decoding;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Capture;

/// <summary>Any file libpcap reads, through SharpPcap. It allocates a header per frame, hence the mapped reader beside it.</summary>
public sealed class SharpPcapFileReader : ICaptureFileReader
{
    private readonly CaptureFileReaderDevice device;
    private readonly LinkType linkType;

    public SharpPcapFileReader(string path)
    {
        Path = path;
        // Of a symbolic link, the file it leads to (the link's own length would be a few bytes).
        var info = new FileInfo(path);
        Length = (info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info).Length;
        try
        {
            device = new CaptureFileReaderDevice(path);
            device.Open();
        }
        catch (DllNotFoundException e)
        {
            throw new CaptureException("libpcap is not installed: install it (Debian: apt-get install libpcap0.8)", e);
        }
        catch (PcapException e)
        {
            throw new CaptureException($"{path}: not a capture file libpcap can read ({OneLine(e.Message)})", e);
        }

        // libpcap reads pcapng only when every interface has the first one's link type: one type per file.
        var dlt = LinkTypes.FromLibPcap((int)device.LinkType);
        if (!LinkTypes.IsSupported(dlt))
        {
            device.Dispose();
            throw new CaptureException($"{path}: {LinkTypes.Unsupported(dlt)}");
        }

        linkType = (LinkType)dlt;
    }

    public string Path { get; }
    public long Length { get; }

    // libpcap does not expose its file offset; progress is reported by frames instead.
    public long Position => 0;
    public string? Damage { get; private set; }

    public bool TryRead(out DateTime timestamp, out ReadOnlySpan<byte> frame, out LinkType linkType)
    {
        linkType = this.linkType;
        GetPacketStatus status;
        PacketCapture capture;
        try
        {
            status = device.GetNextPacket(out capture);
        }
        catch (PcapException e)
        {
            Damage = $"reading stopped at damage: {OneLine(e.Message)}";
            timestamp = default;
            frame = default;
            return false;
        }

        if (status != GetPacketStatus.PacketRead)
        {
            if (status == GetPacketStatus.Error)
            {
                Damage = $"reading stopped at damage: {OneLine(device.LastError)}";
            }

            timestamp = default;
            frame = default;
            return false;
        }

        var timeval = capture.Header.Timeval;
        timestamp = DateTime.UnixEpoch.AddTicks(((long)timeval.Seconds * TimeSpan.TicksPerSecond) + ((long)timeval.MicroSeconds * 10));
        frame = capture.Data;
        return true;
    }

    public void Dispose() => device.Dispose();

    private static string OneLine(string? text) => (text ?? "unknown error").ReplaceLineEndings(" ").Trim();
}
