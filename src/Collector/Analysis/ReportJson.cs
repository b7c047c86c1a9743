using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PvsFleet.Collector.Analysis;

/// <summary>The one JSON form of <see cref="AnalysisReport"/>, shared by <c>analyze --json</c> and the simulator's truth files.</summary>
public static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter(), new UtcTimestampConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Serialize(AnalysisReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>
    /// Builds the serializer's metadata and code for every report type by writing a one-device sample. The first
    /// report written in a process costs ~0.15 s of CPU this way, later ones ~0.02 s: <c>analyze --json</c> runs
    /// this beside the analysis (which keeps one core busy) so the real report is written warm.
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
