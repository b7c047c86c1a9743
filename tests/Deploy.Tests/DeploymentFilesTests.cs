using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using PvsFleet.Deploy.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace PvsFleet.Deploy.Tests;

/// <summary>
/// What can be checked here without Docker or Helm: the compose file and the chart's values are well-formed and
/// consistent with each other and with the files they name. The templates themselves are not rendered.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private const string Chart = "deploy/helm/pvsfleet";

    // Built once per process: the library registers a schema by its URI and refuses a second registration.
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(Path.Combine(Yaml.RepositoryRoot, Chart, "values.schema.json")));

    [Fact]
    public void Compose_file_runs_postgres_the_api_and_a_replaying_collector_with_health_checks_and_volumes()
    {
        var compose = Yaml.Load("docker-compose.yml");
        var services = (YamlMappingNode)compose["services"];
        var names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToHashSet();
        Assert.Superset(new HashSet<string?> { "postgres", "api", "collector", "collector-live", "otel-collector", "prometheus", "grafana" }, names);

        Assert.True(((YamlMappingNode)services["postgres"]).Children.ContainsKey("healthcheck"));
        Assert.True(((YamlMappingNode)services["api"]).Children.ContainsKey("healthcheck"));
        Assert.Contains("replay", Text(services["collector"]["command"]), StringComparison.Ordinal);

        // The real-capture collector: host network and the capture capabilities only.
        var live = (YamlMappingNode)services["collector-live"];
        Assert.Equal("host", Text(live["network_mode"]));
        Assert.Contains("NET_RAW", Text(live["cap_add"]), StringComparison.Ordinal);
        Assert.Contains("ALL", Text(live["cap_drop"]), StringComparison.Ordinal);

        foreach (var name in new[] { "otel-collector", "prometheus", "grafana" })
        {
            Assert.Equal("observability", Text(services[name]["profiles"]));
        }

        // Every named volume a service mounts is declared; every file or folder it mounts or builds from exists.
        var declared = ((YamlMappingNode)compose["volumes"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToHashSet();
        foreach (var (key, service) in services.Children)
        {
            var s = (YamlMappingNode)service;
            if (s.Children.TryGetValue("volumes", out var volumes))
            {
                foreach (var volume in ((YamlSequenceNode)volumes).Children.Select(Text))
                {
                    var source = volume.Split(':')[0];
                    if (source.StartsWith("./", StringComparison.Ordinal))
                    {
                        Assert.True(Path.Exists(Path.Combine(Yaml.RepositoryRoot, source)), $"{key}: {source} does not exist");
                    }
                    else
                    {
                        Assert.True(declared.Contains(source), $"{key}: volume {source} is not declared");
                    }
                }
            }

            if (s.Children.TryGetValue("build", out var build))
            {
                var dockerfile = Text(build["dockerfile"]);
                Assert.True(File.Exists(Path.Combine(Yaml.RepositoryRoot, dockerfile)), $"{key}: {dockerfile} does not exist");
            }
        }
    }

    [Fact]
    public void Dockerfiles_build_in_stages_run_as_non_root_and_name_no_registry()
    {
        foreach (var file in new[] { "deploy/api/Dockerfile", "deploy/collector/Dockerfile" })
        {
            var text = File.ReadAllText(Path.Combine(Yaml.RepositoryRoot, file));
            Assert.True(Regex.Count(text, "^FROM ", RegexOptions.Multiline) >= 2, $"{file} is not multi-stage");
            Assert.Matches(new Regex("^USER 10001$", RegexOptions.Multiline), text);
            Assert.Matches(new Regex(@"^ARG SDK_IMAGE=dotnet/sdk:10\.0$", RegexOptions.Multiline), text);
        }
    }

    [Fact]
    public void Default_values_are_valid_against_the_schema() => AssertValid(Values("values.yaml"));

    [Fact]
    public void Sample_production_values_merged_over_the_defaults_are_valid_against_the_schema() =>
        AssertValid(Yaml.Merge(Values("values.yaml"), Yaml.ToJson(Yaml.Load("deploy/helm/values-production.yaml"))));

    [Fact]
    public void Schema_rejects_a_misspelt_key_and_a_collector_site_without_nodes()
    {
        var typo = Yaml.Merge(Values("values.yaml"), JsonNode.Parse("""{"api":{"replicas":3}}"""));
        Assert.False(Evaluate(typo).IsValid);
        var noNodes = Yaml.Merge(Values("values.yaml"), JsonNode.Parse("""{"collector":{"sites":[{"name":"a","interfaces":["eth1"]}]}}"""));
        Assert.False(Evaluate(noNodes).IsValid);
        var badInterval = Yaml.Merge(Values("values.yaml"), JsonNode.Parse("""{"api":{"alerts":{"evaluationInterval":"10s"}}}"""));
        Assert.False(Evaluate(badInterval).IsValid);
    }

    [Fact]
    public void Every_value_a_template_references_exists_in_values_yaml()
    {
        var values = Values("values.yaml");
        var templates = Directory.GetFiles(Path.Combine(Yaml.RepositoryRoot, Chart, "templates"));
        Assert.NotEmpty(templates);
        var references = 0;
        foreach (var template in templates)
        {
            foreach (Match m in ValuesReference().Matches(File.ReadAllText(template)))
            {
                references++;
                var node = values;
                foreach (var part in m.Groups[1].Value.Split('.'))
                {
                    Assert.True(node is JsonObject o && o.ContainsKey(part),
                        $"{Path.GetFileName(template)} references .Values.{m.Groups[1].Value}, which values.yaml does not define");
                    node = node[part];
                }
            }
        }

        Assert.True(references > 40, $"only {references} references found: is the pattern still right?");
    }

    [Fact]
    public void Chart_has_the_parts_an_operator_expects()
    {
        var dir = Path.Combine(Yaml.RepositoryRoot, Chart, "templates");
        var all = string.Join("\n", Directory.GetFiles(dir).Select(File.ReadAllText));
        foreach (var kind in new[] { "Deployment", "DaemonSet", "Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Secret" })
        {
            Assert.Contains("kind: " + kind, all, StringComparison.Ordinal);
        }

        Assert.Contains("hostNetwork: true", all, StringComparison.Ordinal);
        Assert.Contains("NET_RAW", all, StringComparison.Ordinal);
        Assert.Contains("/readyz", all, StringComparison.Ordinal);
        Assert.Contains("/healthz", all, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Redis", all, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir, "NOTES.txt")));
        Assert.Equal("v2", Text(Yaml.Load(Chart + "/Chart.yaml")["apiVersion"]));
    }

    private static JsonNode? Values(string file) => Yaml.ToJson(Yaml.Load($"{Chart}/{file}"));

    private static EvaluationResults Evaluate(JsonNode? values)
    {
        using var document = JsonDocument.Parse(values?.ToJsonString() ?? "null");
        return Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static void AssertValid(JsonNode? values)
    {
        var result = Evaluate(values);
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"));
        Assert.True(result.IsValid, string.Join("\n", errors));
    }

    private static string Text(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode q => string.Join(" ", q.Children.Select(Text)),
        _ => node.ToString(),
    };

    [GeneratedRegex(@"\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesReference();
}
