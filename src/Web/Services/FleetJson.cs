using System.Text.Json;
using System.Text.Json.Serialization;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Web.Services;

/// <summary>
/// Serialization code generated at build time for the big answers: reading 10,000 devices by reflection in the
/// browser's interpreter costs seconds. Anything not listed falls back to reflection.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(Paged<DeviceView>))]
[JsonSerializable(typeof(List<SiteView>))]
[JsonSerializable(typeof(Paged<AlertView>))]
[JsonSerializable(typeof(DeviceDetail))]
[JsonSerializable(typeof(SessionDetail))]
[JsonSerializable(typeof(List<CollectorView>))]
[JsonSerializable(typeof(BootDurationStats))]
[JsonSerializable(typeof(List<SlowDevice>))]
[JsonSerializable(typeof(List<AttentionItem>))]
internal sealed partial class FleetJson : JsonSerializerContext;
