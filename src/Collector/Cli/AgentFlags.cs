using System.CommandLine;

namespace PvsFleet.Collector.Cli;

/// <summary>The flags <c>run</c> and <c>replay</c> share, turned into configuration keys that override the rest.</summary>
internal sealed class AgentFlags
{
    public Option<string?> Api { get; } = new("--api") { Description = "The API's address (Collector:ApiUrl)" };
    public Option<string?> Key { get; } = new("--key") { Description = "This collector's key (Collector:Key)" };
    public Option<string?> Site { get; } = new("--site") { Description = "A site label for logs (Collector:Site)" };
    public Option<string?> Spool { get; } = new("--spool") { Description = "The spool directory (Collector:SpoolDirectory)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Api);
        command.Options.Add(Key);
        command.Options.Add(Site);
        command.Options.Add(Spool);
    }

    public Dictionary<string, string?> Read(ParseResult parse)
    {
        var flags = new Dictionary<string, string?>();
        Set(flags, "ApiUrl", parse.GetValue(Api));
        Set(flags, "Key", parse.GetValue(Key));
        Set(flags, "Site", parse.GetValue(Site));
        Set(flags, "SpoolDirectory", parse.GetValue(Spool));
        return flags;
    }

    public static void Set(Dictionary<string, string?> flags, string key, string? value)
    {
        if (value is not null)
        {
            flags[$"Collector:{key}"] = value;
        }
    }
}
