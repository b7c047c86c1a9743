using System.Globalization;

namespace PvsFleet.Collector.Evidence;

/// <summary>File names of clips: the device, the time of its first frame and why, so a folder of them sorts by device and time.</summary>
public static class ClipFiles
{
    public static string Name(EvidenceClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var mac = clip.Mac.ToString().Replace(':', '-');
        var at = clip.FirstFrameAt.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return $"{mac}_{at}_{clip.Reason.ToString().ToLowerInvariant()}_{clip.SessionId:N}.pcapng";
    }
}
