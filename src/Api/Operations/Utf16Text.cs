namespace PvsFleet.Api.Operations;

/// <summary>
/// Lone UTF-16 surrogates: a string holding one has no UTF-8 form, so no database stores it (a JSON "\ud800" escape
/// yields one). Ingest removes them, queries refuse them.
/// </summary>
public static class Utf16Text
{
    public static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        for (var i = text.IndexOfAnyInRange('\uD800', '\uDFFF'); i >= 0; i = text.IndexOfAnyInRange('\uD800', '\uDFFF'))
        {
            if (!IsPairAt(text, i))
                return true;
            text = text[(i + 2)..];
        }
        return false;
    }

    /// <summary>True when a high surrogate at <paramref name="i"/> is followed by its low one.</summary>
    public static bool IsPairAt(ReadOnlySpan<char> text, int i) =>
        char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
}
