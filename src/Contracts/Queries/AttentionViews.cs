namespace PvsFleet.Contracts.Queries;

/// <summary>Why something is on the "needs attention" list.</summary>
public enum AttentionKind
{
    /// <summary>The device's latest boot made no progress for longer than its phase's threshold.</summary>
    Stuck = 0,
    /// <summary>The device's latest boot ended in a definitive error.</summary>
    Failed = 1,
    /// <summary>The device started booting again and again without reaching BNIStack.</summary>
    Looping = 2,
    /// <summary>The device booted, but took far longer than its site's usual boot.</summary>
    Slow = 3,
    /// <summary>A collector sent nothing for longer than the silence threshold.</summary>
    CollectorSilent = 4,
}

/// <summary>
/// One thing an admin should look at. <see cref="Since"/> is when the wait began (the boot's start, the last word of a
/// silent collector): the list is longest-waiting first. <see cref="Mac"/> is set for devices, <see cref="CollectorId"/>
/// for collectors.
/// </summary>
public sealed record AttentionItem(string Site, AttentionKind Kind, DateTimeOffset Since, string Detail, string? Mac = null,
    string? HostName = null, BootPhase? Phase = null, Guid? SessionId = null, int? CollectorId = null, string? Collector = null);
