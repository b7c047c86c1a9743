namespace PvsFleet.Collector.Capture;

/// <summary>A capture file or interface that cannot be read; the message is one line that says how to fix it.</summary>
public sealed class CaptureException : Exception
{
    public CaptureException(string message) : base(message)
    {
    }

    public CaptureException(string message, Exception inner) : base(message, inner)
    {
    }

    public CaptureException()
    {
    }
}
