using Npgsql;

namespace PvsFleet.Api.Data;

/// <summary>The two pieces every hand-written PostgreSQL batch here is built from: a command and a typed parameter.</summary>
internal static class PostgresCommands
{
    public static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    // Positional, typed parameters: no SQL rewriting, no boxing of the value, no type inference per execution.
    public static NpgsqlParameter<T> P<T>(T value) => new() { TypedValue = value };
}
