using System.Text.Json;
using System.Text.Json.Serialization;

namespace PvsFleet.Collector.Shipping;

/// <summary>The JSON the API's ingest endpoint reads: web defaults, enums by name, events tagged by "type".</summary>
internal static class IngestJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };
}
