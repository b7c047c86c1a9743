using System.Globalization;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Ingest;

/// <summary>An event of a batch with its JSON exactly as the collector sent it (a slice of the request body).</summary>
public readonly record struct ReceivedEvent(IngestEvent Event, ReadOnlyMemory<byte> Json, int Index = 0);

/// <summary>
/// A batch as read: its sending instance, the events that could be read, and those that could not but whose sequence
/// number is known, so they can be refused on their own (<see cref="Events"/> is null when "events" is missing).
/// </summary>
public sealed record IngestRead(Guid Instance, List<ReceivedEvent>? Events, List<RejectedEvent> Unreadable)
{
    /// <summary>Every event of the batch, read or not.</summary>
    public int Count => (Events?.Count ?? 0) + Unreadable.Count;
}

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
    private readonly JsonTypeInfo<IngestEvent> strict;
    private readonly JsonTypeInfo<IngestEvent> lenient;

    public IngestBatchReader(IOptions<JsonOptions> options)
    {
        var lenient = new JsonSerializerOptions(options.Value.SerializerOptions) { AllowOutOfOrderMetadataProperties = true };
        var strict = new JsonSerializerOptions(lenient) { AllowOutOfOrderMetadataProperties = false };
        this.lenient = (JsonTypeInfo<IngestEvent>)lenient.GetTypeInfo(typeof(IngestEvent));
        this.strict = (JsonTypeInfo<IngestEvent>)strict.GetTypeInfo(typeof(IngestEvent));
    }

    /// <summary>The batch's events; an event that cannot be read is listed apart when its sequence number can be.</summary>
    /// <exception cref="JsonException">
    /// The body is not JSON or not valid UTF-8, or an event cannot be read and has no readable sequence number (so it
    /// cannot be refused on its own).
    /// </exception>
    public IngestRead Read(ReadOnlyMemory<byte> body)
    {
        // The payload bytes go to PostgreSQL as text, which must be valid UTF-8; the reader checks only what it decodes.
        if (!Utf8.IsValid(body.Span))
            throw new JsonException("The body is not valid UTF-8.");
        var reader = new Utf8JsonReader(body.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("A batch is a JSON object with an \"events\" array.");
        List<ReceivedEvent>? events = null;
        var unreadable = new List<RejectedEvent>();
        var instance = Guid.Empty;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEvents = reader.ValueTextEquals("events"u8) || reader.GetString() is { } name && name.Equals("events", StringComparison.OrdinalIgnoreCase);
            var isInstance = !isEvents && (reader.ValueTextEquals("instance"u8) || reader.GetString()!.Equals("instance", StringComparison.OrdinalIgnoreCase));
            reader.Read();
            if (isInstance)
            {
                if (reader.TokenType == JsonTokenType.Null)
                    instance = Guid.Empty;
                else if (reader.TokenType != JsonTokenType.String || !reader.TryGetGuid(out instance))
                    throw new JsonException("\"instance\" is the collector instance's GUID.");
                continue;
            }
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
            unreadable.Clear();
            for (var index = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; index++)
            {
                var start = (int)reader.TokenStartIndex;
                if (ReadEvent(ref reader, body.Span, index, out var ingestEvent) is { } refused)
                    unreadable.Add(refused);
                else
                    events.Add(new ReceivedEvent(ingestEvent!, body[start..(int)reader.BytesConsumed], index));
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            throw new JsonException("The batch's JSON object is not closed, or something follows it.");
        return new IngestRead(instance, events, unreadable);
    }

    /// <summary>Reads one event; an object that does not read as an event but has a sequence number is refused alone.</summary>
    private RejectedEvent? ReadEvent(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, int index, out IngestEvent? read)
    {
        read = null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException($"events[{index}]: an event is a JSON object.");
        var start = reader;
        try
        {
            read = JsonSerializer.Deserialize(ref reader, this.strict)!;
            return null;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            // Perhaps only "type" is not first: read it once more, the slow way, and report that reading's error.
            reader = start;
            try
            {
                read = JsonSerializer.Deserialize(ref reader, this.lenient)!;
                return null;
            }
            catch (Exception again) when (again is JsonException or NotSupportedException)
            {
                reader = start;
                var objectStart = (int)reader.TokenStartIndex;
                reader.Skip(); // throws when the object itself is not well-formed JSON: then the batch is
                var json = body[objectStart..(int)reader.BytesConsumed];
                if (SequenceOf(json) is not { } sequence)
                    throw new JsonException($"events[{index}]: {again.Message} (and it has no sequence number ≥ 1, so it cannot be refused on its own)", again);
                return new RejectedEvent
                {
                    Sequence = sequence, Index = index,
                    Reasons = [string.Create(CultureInfo.InvariantCulture, $"events[{index}]: {again.Message}")],
                };
            }
        }
    }

    private static long? SequenceOf(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isSequence = reader.ValueTextEquals("sequence"u8);
            reader.Read();
            if (isSequence)
                return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 1 ? n : null;
            reader.Skip();
        }
        return null;
    }
}
