namespace PvsFleet.Web.Services;

public static class WebServices
{
    /// <summary>The dashboard's own services; the host adds the HttpClient (tests add one of their own).</summary>
    public static IServiceCollection AddWebServices(this IServiceCollection services)
    {
        services.AddScoped<ApiKey>();
        services.AddScoped<FleetApi>();
        services.AddScoped<LiveFleet>();
        services.AddScoped<ILiveFleet>(sp => sp.GetRequiredService<LiveFleet>());
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
