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
