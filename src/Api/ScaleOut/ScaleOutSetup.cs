using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace PvsFleet.Api.ScaleOut;

public static class ScaleOutSetup
{
    /// <summary>
    /// With <c>ConnectionStrings:Redis</c> set, hub messages go through Redis so that a client connected to any
    /// replica receives what another replica pushes. One replica needs none of it.
    /// </summary>
    public static ISignalRServerBuilder AddFleetScaleOut(this ISignalRServerBuilder signalR, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        signalR.Services.AddSingleton<AlertLeadership>();
        var redis = configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            signalR.AddStackExchangeRedis(redis, o =>
            {
                // Several installations may share one Redis server.
                o.Configuration.ChannelPrefix = RedisChannel.Literal(configuration["PvsFleet:RedisChannelPrefix"] ?? "pvsfleet");
                o.Configuration.AbortOnConnectFail = false;
            });
        }
        return signalR;
    }
}
