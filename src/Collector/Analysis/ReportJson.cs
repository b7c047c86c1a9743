using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PvsFleet.Collector.Analysis;

/// <summary>The one JSON form of <see cref="AnalysisReport"/>, shared by <c>analyze --json</c> and the simulator's truth files.</summary>
/// <remarks>
/// The report types' metadata is source-generated (<see cref="ReportJsonContext"/>): built by reflection, it cost
/// ~0.15 s of CPU in the first report a process wrote, as long as <c>analyze --json</c> of a small file takes in all.
/// </remarks>
public static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter(), new UtcTimestampConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        TypeInfoResolver = ReportJsonContext.Default,
    };

    public static string Serialize(AnalysisReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>
    /// Compiles the serializer's code for every report type by writing a one-device sample: the generic converters
    /// and property accessors over the report types are JIT-compiled on first use even in a ReadyToRun build, which
    /// made writing a 1,000-device report (1.4 MB) take ~0.2 s. <c>analyze --json</c> runs this beside the analysis,
    /// which keeps one core busy, so the real report is written warm.
    /// </summary>
    public static void WarmUp()
    {
        var at = DateTime.UnixEpoch;
        var frame = new FrameReference("warm-up.pcapng", 1);
        var session = new SessionReport("10.0.0.1", default, "boot", at, at, default, default,
            [new PhaseReport(default, at, at, 0) { StartFrame = frame }],
            [new IssueReport(default, at, "") { Frame = frame, Phase = default }])
        {
            Bootstrap = new BootstrapReport(1, 512, 1, 512, true),
        };
        _ = Serialize(new AnalysisReport(at, at, 1, 0, [new DeviceReport("00:00:00:00:00:00", [session])]) { Warnings = [""] });
    }

    public static AnalysisReport Deserialize(string json) =>
        JsonSerializer.Deserialize<AnalysisReport>(json, Options) ?? throw new JsonException("empty report");

    /// <summary>ISO-8601 UTC with microseconds always present, so consumers can rely on one shape.</summary>
    private sealed class UtcTimestampConverter : JsonConverter<DateTime>
    {
        private const string Format = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTime.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToUniversalTime().ToString(Format, CultureInfo.InvariantCulture));
    }
}

[JsonSerializable(typeof(AnalysisReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
