namespace PvsFleet.Collector.Capture;

/// <summary>Reads a capture file frame by frame; the frame span is valid until the next call.</summary>
public interface ICaptureFileReader : IDisposable
{
    string Path { get; }

    /// <summary>Size of the file in bytes, for progress reports.</summary>
    long Length { get; }

    /// <summary>Bytes consumed so far.</summary>
    long Position { get; }

    bool TryRead(out DateTime timestamp, out ReadOnlySpan<byte> frame);

    /// <summary>Set when reading stopped at damage (a truncated or corrupt record) rather than at the end.</summary>
    string? Damage { get; }
}
