using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Ingest;

/// <summary>An event of a batch with its JSON exactly as the collector sent it (a slice of the request body).</summary>
public readonly record struct ReceivedEvent(IngestEvent Event, ReadOnlyMemory<byte> Json);

/// <summary>
/// Reads an <see cref="IngestBatch"/> body event by event, keeping each event's own bytes: they are stored as the
/// event's payload, so nothing is serialized again (re-serializing every event was ~10 µs and 2 KB of garbage each).
/// </summary>
/// <remarks>
/// Collectors in other languages need not put <c>"type"</c> first, but System.Text.Json reads such objects about
/// three times slower (it buffers the object to find the discriminator). So each event is read with the strict
/// options first and, only if that fails, read again with the lenient ones.
/// </remarks>
public sealed class IngestBatchReader
{
    private readonly JsonTypeInfo<IngestEvent> _strict;
    private readonly JsonTypeInfo<IngestEvent> _lenient;

    public IngestBatchReader(IOptions<JsonOptions> options)
    {
        var lenient = new JsonSerializerOptions(options.Value.SerializerOptions) { AllowOutOfOrderMetadataProperties = true };
        var strict = new JsonSerializerOptions(lenient) { AllowOutOfOrderMetadataProperties = false };
        _lenient = (JsonTypeInfo<IngestEvent>)lenient.GetTypeInfo(typeof(IngestEvent));
        _strict = (JsonTypeInfo<IngestEvent>)strict.GetTypeInfo(typeof(IngestEvent));
    }

    /// <summary>The events of the batch, or null when <c>"events"</c> is missing or null (the validator says so).</summary>
    /// <exception cref="JsonException">The body is not JSON, not valid UTF-8, or an event cannot be read.</exception>
    public List<ReceivedEvent>? Read(ReadOnlyMemory<byte> body)
    {
        // The payload bytes go to PostgreSQL as text, which must be valid UTF-8; the reader checks only what it decodes.
        if (!Utf8.IsValid(body.Span))
            throw new JsonException("The body is not valid UTF-8.");
        var reader = new Utf8JsonReader(body.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("A batch is a JSON object with an \"events\" array.");
        List<ReceivedEvent>? events = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEvents = reader.ValueTextEquals("events"u8) || reader.GetString() is { } name && name.Equals("events", StringComparison.OrdinalIgnoreCase);
            reader.Read();
            if (!isEvents)
            {
                reader.Skip();
                continue;
            }
            if (reader.TokenType == JsonTokenType.Null)
            {
                events = null;
                continue;
            }
            if (reader.TokenType != JsonTokenType.StartArray)
                throw new JsonException("\"events\" is an array.");
            events = [];
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                var ingestEvent = ReadEvent(ref reader, events.Count);
                events.Add(new ReceivedEvent(ingestEvent, body[start..(int)reader.BytesConsumed]));
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            throw new JsonException("The batch's JSON object is not closed, or something follows it.");
        return events;
    }

    private IngestEvent ReadEvent(ref Utf8JsonReader reader, int index)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException($"events[{index}]: an event is a JSON object.");
        var start = reader;
        try
        {
            return JsonSerializer.Deserialize(ref reader, _strict)!;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            // Perhaps only "type" is not first: read it once more, the slow way, and report that reading's error.
            reader = start;
            try
            {
                return JsonSerializer.Deserialize(ref reader, _lenient)!;
            }
            catch (Exception again) when (again is JsonException or NotSupportedException)
            {
                throw new JsonException($"events[{index}]: {again.Message}", again);
            }
        }
    }
}
