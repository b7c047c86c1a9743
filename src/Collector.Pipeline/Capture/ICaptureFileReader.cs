using PvsFleet.Collector.Decoding;

namespace PvsFleet.Collector.Capture;

/// <summary>Reads a capture file frame by frame; the frame span is valid until the next call.</summary>
public interface ICaptureFileReader : IDisposable
{
    string Path { get; }

    /// <summary>Size of the file in bytes, for progress reports.</summary>
    long Length { get; }

    /// <summary>Bytes consumed so far.</summary>
    long Position { get; }

    /// <param name="linkType">The frame's link layer: per frame, since a pcapng file may hold interfaces of several.</param>
    bool TryRead(out DateTime timestamp, out ReadOnlySpan<byte> frame, out LinkType linkType);

    /// <summary>For callers that only look at Ethernet captures' bytes.</summary>
    bool TryRead(out DateTime timestamp, out ReadOnlySpan<byte> frame) => TryRead(out timestamp, out frame, out _);

    /// <summary>Set when reading stopped at damage (a truncated or corrupt record) rather than at the end.</summary>
    string? Damage { get; }
}
