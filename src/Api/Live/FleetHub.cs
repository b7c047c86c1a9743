using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using PvsFleet.Api.Data;
using PvsFleet.Api.Security;
using PvsFleet.Contracts.Live;

namespace PvsFleet.Api.Live;

/// <summary>Live fleet updates; a client joins the group of each site it shows.</summary>
[Authorize(Policy = AuthSetup.ReaderPolicy)]
public sealed class FleetHub : Hub<IFleetClient>
{
    public const string Path = "/hubs/fleet";

    public Task SubscribeSite(string site) => Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(site));

    public Task UnsubscribeSite(string site) => Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupFor(site));

    public static string GroupFor(string site) => "site:" + site.ToUpperInvariant();

    public static SessionChange ToChange(string site, StoredSession s) => new(
        site, s.Id, s.Mac, s.Ip, s.HostName, s.Phase, s.Outcome,
        Utc(s.StartedAt), s.EndedAt is { } e ? Utc(e) : null, Utc(s.PhaseStartedAt), s.TotalRetries);

    public static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
