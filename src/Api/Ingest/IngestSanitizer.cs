using System.Text;
using PvsFleet.Api.Operations;
using PvsFleet.Contracts.Ingest;

namespace PvsFleet.Api.Ingest;

/// <summary>
/// Cleans the free text of an event before it is stored: NUL characters (PostgreSQL's text refuses them; DHCP host
/// names and TFTP file names arrive NUL-padded from some firmware) and lone UTF-16 surrogates (a JSON "\ud800" escape
/// has no UTF-8 form, so no database takes it) are removed. The event's JSON is stored as sent: there such characters
/// are escapes, which are plain text. A clean event is returned as it is, without allocating.
/// </summary>
public static class IngestSanitizer
{
    public static IngestEvent Clean(IngestEvent e) => e switch
    {
        IssueEvent ie when IsDirty(ie.Detail) || IsDirty(ie.Hint) || IsDirty(ie.Server) || IsDirty(ie.Session) =>
            ie with { Detail = Text(ie.Detail), Hint = Text(ie.Hint), Server = Text(ie.Server), Session = Clean(ie.Session) },
        SessionEvent se when IsDirty(se.Session) => se with { Session = Clean(se.Session) },
        CollectorHeartbeatEvent hb when IsDirty(hb.Interface) || IsDirty(hb.Version) || IsDirty(hb.Host) =>
            hb with { Interface = Text(hb.Interface), Version = Text(hb.Version), Host = Text(hb.Host) },
        _ => e,
    };

    private static bool IsDirty(SessionSnapshot? s) => s is not null && (IsDirty(s.HostName) || IsDirty(s.BootFile));

    private static SessionSnapshot Clean(SessionSnapshot s) => s with { HostName = Text(s.HostName), BootFile = Text(s.BootFile) };

    /// <summary>The text without what no database stores; null when nothing is left (a name of NULs is no name).</summary>
    public static string? Text(string? text)
    {
        if (!IsDirty(text))
            return text;
        var clean = new StringBuilder(text!.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
                continue;
            if (Utf16Text.IsPairAt(text, i))
            {
                clean.Append(c).Append(text[++i]);
                continue;
            }
            if (char.IsSurrogate(c))
                continue;
            clean.Append(c);
        }
        var result = clean.ToString().Trim();
        return result.Length == 0 ? null : result;
    }

    public static bool IsDirty(string? text) => text is not null && (text.Contains('\0') || Utf16Text.HasLoneSurrogate(text));
}
