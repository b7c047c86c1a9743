using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PvsFleet.Deploy.Tests.Support;

/// <summary>YAML files of the repository read as Helm and Compose read them: plain scalars typed, quoted ones strings.</summary>
public static class Yaml
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static YamlMappingNode Load(string relativePath)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepositoryRoot, relativePath));
        stream.Load(reader);
        return Assert.IsType<YamlMappingNode>(stream.Documents.Single().RootNode);
    }

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c =>
            KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    /// <summary>Helm's merge of a values file over the chart's defaults: maps merge key by key, the rest replaces.</summary>
    public static JsonNode? Merge(JsonNode? defaults, JsonNode? overrides)
    {
        if (defaults is JsonObject d && overrides is JsonObject o)
        {
            var merged = (JsonObject)d.DeepClone();
            foreach (var (key, value) in o)
            {
                merged[key] = Merge(merged[key], value);
            }

            return merged;
        }

        return overrides?.DeepClone();
    }

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(text);
        }

        if (text is "" or "~" or "null")
        {
            return null;
        }

        if (text is "true" or "false")
        {
            return JsonValue.Create(text == "true");
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PvsFleet.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PvsFleet.sln not found above " + AppContext.BaseDirectory);
    }
}
