using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PvsFleet.Api.Data;

namespace PvsFleet.Api.Security;

public static class AuthSetup
{
    public const string CollectorScheme = "CollectorKey";
    public const string AdminKeyScheme = "AdminKey";
    public const string ReaderScheme = "Reader";
    public const string CollectorPolicy = "Collector";
    public const string ReaderPolicy = "Reader";
    public const string AdminPolicy = "Admin";
    public const string CollectorIdClaim = "pvsfleet:collector_id";
    public const string SiteIdClaim = "pvsfleet:site_id";
    public const string SiteClaim = "pvsfleet:site";

    public static IServiceCollection AddFleetAuth(this IServiceCollection services)
    {
        // All schemes are registered; what is configured decides at request time whether they accept anything.
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, CollectorKeyHandler>(CollectorScheme, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyHandler>(AdminKeyScheme, null)
            .AddJwtBearer(JwtBearerDefaults.AuthenticationScheme, o =>
            {
                o.MapInboundClaims = false;
                o.Events = new JwtBearerEvents { OnMessageReceived = TokenFromQueryForHub };
            })
            // One scheme for readers, so that a refusal is answered (challenged) once: a token that looks like a
            // JWT goes to OIDC when that is configured, anything else is compared with the admin key.
            .AddPolicyScheme(ReaderScheme, ReaderScheme, o => o.ForwardDefaultSelector = context =>
            {
                var auth = context.RequestServices.GetRequiredService<IOptions<FleetOptions>>().Value.Auth;
                var token = BearerToken(context.Request);
                return !string.IsNullOrWhiteSpace(auth.Authority) && token is not null && token.Count(c => c == '.') == 2
                    ? JwtBearerDefaults.AuthenticationScheme
                    : AdminKeyScheme;
            });
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<FleetOptions>>((o, fleet) =>
            {
                if (!string.IsNullOrWhiteSpace(fleet.Value.Auth.Authority))
                {
                    o.Authority = fleet.Value.Auth.Authority;
                    o.Audience = fleet.Value.Auth.Audience;
                }
            });
        services.AddSingleton<IAuthorizationHandler, ReaderHandler>();
        services.AddSingleton<IAuthorizationHandler, AdminHandler>();

        services.AddAuthorizationBuilder()
            .AddPolicy(CollectorPolicy, p => p.AddAuthenticationSchemes(CollectorScheme).RequireClaim(CollectorIdClaim))
            .AddPolicy(ReaderPolicy, p => p
                .AddAuthenticationSchemes(ReaderScheme)
                .AddRequirements(new ReaderRequirement()))
            .AddPolicy(AdminPolicy, p => p
                .AddAuthenticationSchemes(ReaderScheme)
                .AddRequirements(new AdminRequirement()));
        return services;
    }

    // Browsers cannot set headers on WebSocket requests, so SignalR sends the token as access_token.
    private static Task TokenFromQueryForHub(MessageReceivedContext context)
    {
        if (context.Request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase)
            && context.Request.Query.TryGetValue("access_token", out var token))
        {
            context.Token = token;
        }
        return Task.CompletedTask;
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        if (request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase)
            && request.Query.TryGetValue("access_token", out var token))
        {
            return token.ToString();
        }
        return null;
    }

    internal static async Task WriteProblemChallengeAsync(HttpContext context, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = 401, Title = "Unauthorized", Detail = detail },
        });
    }
}

/// <summary>Reading needs an authenticated user once authentication is configured, nothing before.</summary>
public sealed class ReaderRequirement : IAuthorizationRequirement;

public sealed class ReaderHandler(IOptionsMonitor<FleetOptions> options) : AuthorizationHandler<ReaderRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ReaderRequirement requirement)
    {
        // Without authentication the host listens on localhost only (see Program).
        if (!options.CurrentValue.Auth.IsConfigured || context.User.Identities.Any(i => i.IsAuthenticated))
            context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>Changing things (collector keys, alert acknowledgements) needs an admin once authentication is configured.</summary>
public sealed class AdminRequirement : IAuthorizationRequirement;

/// <summary>
/// An admin is the admin key's bearer, or an OIDC identity with the configured role claim; anyone else authenticated
/// is refused with 403 (and anyone not authenticated challenged with 401).
/// </summary>
public sealed class AdminHandler(IOptionsMonitor<FleetOptions> options) : AuthorizationHandler<AdminRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRequirement requirement)
    {
        var auth = options.CurrentValue.Auth;
        if (!auth.IsConfigured || IsAdmin(context.User, auth))
            context.Succeed(requirement);
        return Task.CompletedTask;
    }

    public static bool IsAdmin(ClaimsPrincipal user, AuthOptions auth) =>
        user.Identities.Any(i => i.IsAuthenticated && (
            i.AuthenticationType == AuthSetup.AdminKeyScheme
            || i.Claims.Any(c => c.Type == auth.AdminClaimType && string.Equals(c.Value, auth.AdminClaimValue, StringComparison.Ordinal))));
}

/// <summary>Authenticates a collector by its key; revoked keys fail.</summary>
public sealed class CollectorKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, FleetDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = AuthSetup.BearerToken(Request);
        if (string.IsNullOrEmpty(key))
            return AuthenticateResult.NoResult();
        var hash = CollectorKeys.Hash(key);
        var collector = await db.Collectors.AsNoTracking()
            .Where(c => c.KeyHash == hash && c.RevokedAt == null)
            .Select(c => new { c.Id, c.Name, c.SiteId, Site = c.Site.Name })
            .SingleOrDefaultAsync(Context.RequestAborted);
        if (collector is null)
            return AuthenticateResult.Fail("Unknown or revoked collector key.");
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, collector.Name),
                new Claim(AuthSetup.CollectorIdClaim, collector.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(AuthSetup.SiteIdClaim, collector.SiteId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(AuthSetup.SiteClaim, collector.Site),
            ], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        AuthSetup.WriteProblemChallengeAsync(Context, "A valid collector key is required: Authorization: Bearer <key>.");
}

/// <summary>The static admin key of small installs.</summary>
public sealed class AdminKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IOptions<FleetOptions> fleet)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = AuthSetup.BearerToken(Request);
        var expected = fleet.Value.Auth.AdminKey;
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(expected))
            return Task.FromResult(AuthenticateResult.NoResult());
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(expected)))
            return Task.FromResult(AuthenticateResult.NoResult());
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, "admin")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        AuthSetup.WriteProblemChallengeAsync(Context, "Authentication is required: Authorization: Bearer <admin key or token>.");
}
