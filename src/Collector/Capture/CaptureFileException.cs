namespace PvsFleet.Collector.Capture;

/// <summary>A capture file that cannot be read at all; the message is one line, fit for an operator.</summary>
public sealed class CaptureFileException : Exception
{
    public CaptureFileException(string message) : base(message)
    {
    }

    public CaptureFileException(string message, Exception inner) : base(message, inner)
    {
    }

    public CaptureFileException()
    {
    }
}
