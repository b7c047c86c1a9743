namespace PvsFleet.Collector.Analysis;

/// <summary>
/// Turns the tracker's frame ordinals (1, 2, … across every file of a recording) into Wireshark's frame numbers per
/// file, so a phase boundary or a problem can be found with <c>frame.number == N</c> in the file it names.
/// </summary>
public sealed class CaptureFrameIndex
{
    private readonly List<(string File, long FirstOrdinal)> files = [];

    /// <summary>The next file of the recording begins after <paramref name="framesSoFar"/> frames of the files before it.</summary>
    public IReadOnlyList<(string File, long FirstOrdinal)> Files => files;

    public void BeginFile(string path, long framesSoFar) => files.Add((Path.GetFileName(path), framesSoFar + 1));

    public FrameReference? Find(long ordinal)
    {
        for (var i = files.Count - 1; i >= 0 && ordinal > 0; i--)
        {
            if (ordinal >= files[i].FirstOrdinal)
            {
                return new FrameReference(files[i].File, ordinal - files[i].FirstOrdinal + 1);
            }
        }

        return null;
    }
}
