namespace PvsFleet.Contracts.Queries;

/// <summary>
/// A pcapng clip of a session's packets, stored by the API: download it from <see cref="DownloadPath"/> (readers only).
/// <see cref="Reason"/> is Failed, Stuck, BootLoop, or Requested (asked from the device page while the boot was in flight).
/// </summary>
public sealed record EvidenceView(long Id, Guid SessionId, string Mac, string Reason, DateTimeOffset CreatedAt, DateTimeOffset FirstFrameAt,
    DateTimeOffset LastFrameAt, int Frames, int Bytes)
{
    public string DownloadPath => $"api/v1/sessions/{SessionId}/evidence?clip={Id}";
}
