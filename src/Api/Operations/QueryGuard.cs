using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace PvsFleet.Api.Operations;

/// <summary>
/// Refuses, before any endpoint runs, query strings no query can answer: text with NUL or other control characters or
/// lone surrogates (PostgreSQL refuses NUL in text, so such a filter was a 500), and times outside the years a boot can
/// have been recorded in (date arithmetic near <see cref="DateTime"/>'s ends overflowed). One place, so every
/// endpoint, present and future, is covered the same way.
/// </summary>
public sealed class QueryGuard(RequestDelegate next)
{
    /// <summary>The range of times a query may name: ingest refuses events before 2000 too.</summary>
    public static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] TimeParameters = ["from", "to", "since", "until", "before", "after"];

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Problem(context.Request.Query) is { } problem)
        {
            var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ValidationProblemDetails(problem)
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "The query string is invalid.",
                },
            });
            return;
        }
        await next(context);
    }

    internal static Dictionary<string, string[]>? Problem(IQueryCollection query)
    {
        Dictionary<string, string[]>? errors = null;
        foreach (var (key, values) in query)
        {
            if (HasRefusedCharacters(key))
            {
                (errors ??= [])["query"] = ["A parameter name has NUL, control characters or lone surrogates."];
                continue;
            }
            foreach (var value in values)
            {
                if (HasRefusedCharacters(value))
                {
                    (errors ??= [])[key] = ["NUL, control characters and lone surrogates are not allowed."];
                }
                else if (Array.Exists(TimeParameters, p => p.Equals(key, StringComparison.OrdinalIgnoreCase))
                    && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                    && (time < Earliest || time > Latest))
                {
                    (errors ??= [])[key] = [string.Create(CultureInfo.InvariantCulture, $"A time between {Earliest:yyyy-MM-dd} and {Latest:yyyy-MM-dd}.")];
                }
            }
        }
        return errors;
    }

    private static bool HasRefusedCharacters(string? text) =>
        text is not null && (text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')) || Utf16Text.HasLoneSurrogate(text));
}

/// <summary>
/// Turns what the client's bytes caused into a client error with a problem document: a body that does not decompress
/// (brotli, gzip, deflate), is cut short or too large, or a parameter that does not bind. Everything else stays a 500
/// and is logged as the bug it is.
/// </summary>
public sealed class BadInputExceptionHandler(IProblemDetailsService problems) : Microsoft.AspNetCore.Diagnostics.IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var cause = exception;
        while (cause is not null && !BadInput.IsBodyError(cause))
            cause = cause.InnerException;
        if (cause is null || httpContext.Response.HasStarted)
            return false;
        httpContext.Response.StatusCode = BadInput.StatusOf(cause);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = httpContext.Response.StatusCode, Title = "The request could not be read.", Detail = cause.Message },
        });
    }
}
