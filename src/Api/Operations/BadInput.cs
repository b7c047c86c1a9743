using System.IO.Compression;
using Npgsql;

namespace PvsFleet.Api.Operations;

/// <summary>
/// Tells the exceptions that bad input causes from those of a broken server: bad input is answered with a 4xx and a
/// problem document (or, at ingest, the one event is refused), never with a 500, and never retried as if the server
/// might heal.
/// </summary>
public static class BadInput
{
    /// <summary>
    /// Reading the request failed because of what the client sent: a body truncated, too large or badly encoded, or a
    /// parameter that does not bind (ASP.NET says BadHttpRequestException for both).
    /// </summary>
    public static bool IsBodyError(Exception ex) => ex switch
    {
        BadHttpRequestException => true,
        // gzip and deflate say InvalidDataException; brotli says InvalidOperationException from its decoder.
        InvalidDataException => true,
        InvalidOperationException when FromDecompression(ex) => true,
        _ => false,
    };

    public static int StatusOf(Exception ex) => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;

    private static bool FromDecompression(Exception ex) =>
        ex.TargetSite?.DeclaringType is { } type
        && (type == typeof(BrotliStream) || type.Namespace == typeof(BrotliStream).Namespace);

    /// <summary>
    /// The database refused a value (PostgreSQL's SQLSTATE classes 22, data exception, and 23, integrity constraint
    /// violation, but a unique violation, which is a race), or the value could not be encoded or summed.
    /// </summary>
    public static bool IsDataError(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState.StartsWith("22", StringComparison.Ordinal)
            || (pg.SqlState.StartsWith("23", StringComparison.Ordinal) && pg.SqlState != PostgresErrorCodes.UniqueViolation),
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode is 19 or 20 or 25 && !IsConflict(sqlite), // constraint, mismatch, range
        OverflowException or System.Text.EncoderFallbackException => true,
        Microsoft.EntityFrameworkCore.DbUpdateException { InnerException: { } inner } => IsDataError(inner),
        NpgsqlException { InnerException: { } inner } => IsDataError(inner),
        _ => false,
    };

    /// <summary>Two copies of one batch raced each other: the loser retries and finds its events stored.</summary>
    public static bool IsConflict(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555, // unique, primary key
        Microsoft.EntityFrameworkCore.DbUpdateException { InnerException: { } inner } => IsConflict(inner) || !IsDataError(inner),
        Microsoft.EntityFrameworkCore.DbUpdateException => true,
        _ => false,
    };

    /// <summary>The database is away for a while (restart, failover): the client should send again later.</summary>
    public static bool IsTransientStorageError(Exception ex) => ex switch
    {
        NpgsqlException npgsql => npgsql.IsTransient || npgsql is not PostgresException,
        TimeoutException => true,
        Microsoft.EntityFrameworkCore.Storage.RetryLimitExceededException => true,
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 5 or 6 } => true, // busy, locked
        _ => false,
    };

    public static string Describe(Exception ex) => ex switch
    {
        PostgresException pg => $"{pg.SqlState} {pg.MessageText}",
        { InnerException: { } inner } when ex is Microsoft.EntityFrameworkCore.DbUpdateException or NpgsqlException => Describe(inner),
        _ => ex.Message,
    };
}
