using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using PvsFleet.Api.Data;
using PvsFleet.Api.Evidence;
using PvsFleet.Contracts;
using PvsFleet.Contracts.Queries;

namespace PvsFleet.Api.Tests;

/// <summary>PostgreSQL with small evidence bounds, so the size limit and the total-bytes retention are reached in a test.</summary>
public sealed class EvidencePostgresApi : PostgresApi
{
    public const int MaxClipBytes = 64 * 1024;
    public const long MaxTotalBytes = 100 * 1024;

    public EvidencePostgresApi()
    {
        Settings["PvsFleet:Evidence:MaxClipBytes"] = MaxClipBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["PvsFleet:Evidence:MaxTotalBytes"] = MaxTotalBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["PvsFleet:Evidence:RetentionDays"] = "7";
    }
}

/// <summary>SQLite, the embedded default, with the same small evidence bounds.</summary>
public sealed class EvidenceSqliteApi : SqliteApi
{
    public EvidenceSqliteApi()
    {
        Settings["PvsFleet:Evidence:MaxClipBytes"] = EvidencePostgresApi.MaxClipBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["PvsFleet:Evidence:MaxTotalBytes"] = EvidencePostgresApi.MaxTotalBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>Evidence tests on either provider: uploads clips the way a collector does.</summary>
public abstract class EvidenceTestBase<TApi>(TApi api) : ApiTestBase<TApi>(api) where TApi : ApiFactory
{
    /// <summary>Ingests a boot and uploads a 30 KB clip of it, <paramref name="count"/> times, the test's clock moved on by <paramref name="apart"/> after each.</summary>
    protected async Task<List<Guid>> UploadClipsAsync(HttpClient collector, int count, TimeSpan apart)
    {
        var sessions = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var mac = NewMac();
            var boot = new Boot(mac, Api.Clock.GetUtcNow());
            await IngestOkAsync(collector, [boot.Started(i + 1)]);
            Assert.Equal(HttpStatusCode.Created, (await EvidenceTests.UploadAsync(collector, boot.Id, mac, EvidenceTests.Pcapng(30 * 1024))).StatusCode);
            sessions.Add(boot.Id);
            Api.Clock.Advance(apart);
        }

        return sessions;
    }
}

public sealed class EvidenceTests_Sqlite(EvidenceSqliteApi api) : EvidenceTestBase<EvidenceSqliteApi>(api), IClassFixture<EvidenceSqliteApi>
{
    [Fact]
    public async Task An_upload_past_the_total_bytes_deletes_the_oldest_clips_until_the_rest_fit()
    {
        var (collector, _) = await NewCollectorAsync();
        var sessions = await UploadClipsAsync(collector, 5, TimeSpan.FromMinutes(1));

        var kept = await Api.WithDbAsync(async db => await db.EvidenceClips.OrderBy(c => c.CreatedAt).Select(c => c.SessionId).ToListAsync());
        Assert.Equal(sessions[^3..], kept);
    }
}

public sealed class EvidenceTests(EvidencePostgresApi api) : EvidenceTestBase<EvidencePostgresApi>(api), IClassFixture<EvidencePostgresApi>
{
    [SkippableFact]
    public async Task A_collectors_clip_is_stored_shown_with_its_session_and_downloaded_as_pcapng()
    {
        SkipIfUnavailable();
        var (collector, _) = await NewCollectorAsync();
        var mac = NewMac();
        var start = Api.Clock.GetUtcNow();
        var boot = new Boot(mac, start);
        long seq = 1;
        await IngestOkAsync(collector, [boot.Started(seq++), boot.End(seq++, BootOutcome.Failed, start.AddSeconds(3))]);
        var clip = Pcapng(3000);

        var upload = await UploadAsync(collector, boot.Id, mac, clip);

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var detail = await Api.CreateClient().GetFromJsonAsync<SessionDetail>($"/api/v1/sessions/{boot.Id}", ApiFactory.Json);
        var evidence = detail!.Evidence;
        Assert.NotNull(evidence);
        Assert.Equal(clip.Length, evidence.Bytes);
        Assert.Equal(12, evidence.Frames);
        Assert.Equal("Failed", evidence.Reason);
        Assert.Equal(mac, evidence.Mac);

        var download = await Api.CreateClient().GetAsync("/" + evidence.DownloadPath);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(EvidenceApi.PcapNgContentType, download.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"{mac.Replace(':', '-')}_{start.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}.pcapng", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal(clip, await download.Content.ReadAsByteArrayAsync());

        // A session without a clip says so, and has nothing to download.
        var other = new Boot(NewMac(), start);
        await IngestOkAsync(collector, [other.Started(seq++)]);
        Assert.Null((await Api.CreateClient().GetFromJsonAsync<SessionDetail>($"/api/v1/sessions/{other.Id}", ApiFactory.Json))!.Evidence);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.CreateClient().GetAsync($"/api/v1/sessions/{other.Id}/evidence")).StatusCode);
    }

    [SkippableFact]
    public async Task Uploads_past_the_size_limit_or_not_pcapng_or_from_anyone_but_a_collector_are_refused()
    {
        SkipIfUnavailable();
        var (collector, _) = await NewCollectorAsync();
        var (otherCollector, _) = await NewCollectorAsync();
        var mac = NewMac();
        var boot = new Boot(mac, Api.Clock.GetUtcNow());
        await IngestOkAsync(collector, [boot.Started(1)]);

        var tooLarge = await UploadAsync(collector, boot.Id, mac, Pcapng(EvidencePostgresApi.MaxClipBytes + 1));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal("application/problem+json", tooLarge.Content.Headers.ContentType?.MediaType);

        // Without a Content-Length (chunked), the limit holds while reading.
        var chunked = new StreamContent(new MemoryStream(Pcapng(EvidencePostgresApi.MaxClipBytes + 4096)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue(EvidenceApi.PcapNgContentType);
        var request = new HttpRequestMessage(HttpMethod.Post, UploadUri(boot.Id, mac)) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await collector.SendAsync(request)).StatusCode);

        var text = new ByteArrayContent("not a capture, just text"u8.ToArray().Concat(new byte[40]).ToArray());
        text.Headers.ContentType = new MediaTypeHeaderValue(EvidenceApi.PcapNgContentType);
        Assert.Equal(HttpStatusCode.BadRequest, (await collector.PostAsync(UploadUri(boot.Id, mac), text)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await UploadAsync(collector, boot.Id, "not-a-mac", Pcapng(100))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(otherCollector, boot.Id, mac, Pcapng(100))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await UploadAsync(Api.CreateClient(), boot.Id, mac, Pcapng(100))).StatusCode);

        Assert.Equal(0, await Api.WithDbAsync(db => Task.FromResult(db.EvidenceClips.Count(c => c.SessionId == boot.Id))));
    }

    [SkippableFact]
    public async Task Retention_deletes_clips_past_their_days_then_the_oldest_past_the_total_bytes()
    {
        SkipIfUnavailable();
        var (collector, _) = await NewCollectorAsync();
        await Api.WithDbAsync(async db => await db.EvidenceClips.ExecuteDeleteAsync());
        // Six clips of 30 KB a day apart: the API keeps the newest that fit 100 KB after each upload.
        var sessions = await UploadClipsAsync(collector, 6, TimeSpan.FromDays(1));

        var kept = await Api.WithDbAsync(async db => await db.EvidenceClips.OrderBy(c => c.CreatedAt).Select(c => c.SessionId).ToListAsync());
        Assert.Equal(sessions[^3..], kept);

        // Days: a week after the fourth clip was made, the hourly retention pass (its timer runs on the test's clock)
        // deletes it; the fifth and sixth stay.
        Api.Clock.Advance(TimeSpan.FromDays(5));
        var deadline = DateTime.UtcNow.AddSeconds(15);
        do
        {
            kept = await Api.WithDbAsync(async db => await db.EvidenceClips.OrderBy(c => c.CreatedAt).Select(c => c.SessionId).ToListAsync());
            if (kept.Count == 2)
                break;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(sessions[^2..], kept);
        var again = await Api.WithDbAsync(db => EvidenceApi.ApplyRetentionAsync(db, new EvidenceStorageOptions { RetentionDays = 7, MaxTotalBytes = EvidencePostgresApi.MaxTotalBytes }, Api.Clock.GetUtcNow().UtcDateTime, default));
        Assert.Equal(0, again);
    }

    [SkippableFact]
    public async Task Trims_running_at_the_same_moment_delete_only_the_clips_that_do_not_fit()
    {
        SkipIfUnavailable();
        var (collector, _) = await NewCollectorAsync();
        await Api.WithDbAsync(async db => await db.EvidenceClips.ExecuteDeleteAsync());
        var sessions = await UploadClipsAsync(collector, 3, TimeSpan.FromMinutes(1));

        // A clip written past the upload's own trim makes 120 KB stored against 100 KB allowed, so exactly the oldest
        // must go, however many trims (uploads, the hourly pass, other API replicas) run at once. The race is a matter
        // of timing: 20 rounds of 8 trims at once.
        var limits = new EvidenceStorageOptions { RetentionDays = 7, MaxTotalBytes = EvidencePostgresApi.MaxTotalBytes };
        for (var round = 0; round < 20; round++)
        {
            var newest = Guid.NewGuid();
            await Api.WithDbAsync(async db =>
            {
                var template = await db.EvidenceClips.AsNoTracking().FirstAsync();
                db.EvidenceClips.Add(new StoredEvidenceClip
                {
                    CollectorId = template.CollectorId, SiteId = template.SiteId, SessionId = newest, Mac = template.Mac, Reason = template.Reason,
                    CreatedAt = Api.Clock.GetUtcNow().UtcDateTime, FirstFrameAt = template.FirstFrameAt, LastFrameAt = template.LastFrameAt,
                    Frames = template.Frames, Bytes = 30 * 1024, Data = new byte[30 * 1024],
                });
                return await db.SaveChangesAsync();
            });
            sessions.Add(newest);
            var now = Api.Clock.GetUtcNow().UtcDateTime;
            var deleted = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
                Task.Run(() => Api.WithDbAsync(db => EvidenceApi.ApplyRetentionAsync(db, limits, now, default)))));

            var kept = await Api.WithDbAsync(async db => await db.EvidenceClips.OrderBy(c => c.CreatedAt).Select(c => c.SessionId).ToListAsync());
            Assert.Equal(sessions[^3..], kept);
            Assert.Equal(1, deleted.Sum());
            Api.Clock.Advance(TimeSpan.FromMinutes(1));
        }
    }

    [SkippableFact]
    public async Task A_clip_asked_for_from_the_device_page_reaches_the_collector_once_in_its_next_ingest_answer()
    {
        SkipIfUnavailable();
        var (collector, _) = await NewCollectorAsync();
        var (other, _) = await NewCollectorAsync();
        var mac = NewMac();
        var start = Api.Clock.GetUtcNow();
        var boot = new Boot(mac, start);
        long seq = 1;
        await IngestOkAsync(collector, [boot.Started(seq++)]);

        var asked = await Api.CreateClient().PostAsync($"/api/v1/sessions/{boot.Id}/evidence/request", null);
        Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        Assert.NotNull((await Api.CreateClient().GetFromJsonAsync<SessionDetail>($"/api/v1/sessions/{boot.Id}", ApiFactory.Json))!.EvidenceRequestedAt);

        // Another collector's batch does not carry it; this collector's next batch does, and only that one.
        Assert.Empty((await IngestOkAsync(other, [new Boot(NewMac(), start).Started(1)])).ClipRequests);
        var answer = await IngestOkAsync(collector, [boot.Enter(seq++, BootPhase.BootstrapDownload, start.AddSeconds(2))]);
        var request = Assert.Single(answer.ClipRequests);
        Assert.Equal(boot.Id, request.SessionId);
        Assert.Equal(mac, request.Mac);
        Assert.Empty((await IngestOkAsync(collector, [boot.Enter(seq++, BootPhase.PvsLogon, start.AddSeconds(3))])).ClipRequests);

        // A boot that is over cannot be captured any more; an unknown session is not found.
        await IngestOkAsync(collector, [boot.End(seq++, BootOutcome.Failed, start.AddSeconds(4))]);
        Assert.Equal(HttpStatusCode.Conflict, (await Api.CreateClient().PostAsync($"/api/v1/sessions/{boot.Id}/evidence/request", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.CreateClient().PostAsync($"/api/v1/sessions/{Guid.NewGuid()}/evidence/request", null)).StatusCode);
    }

    private static Uri UploadUri(Guid session, string mac) =>
        new($"/api/v1/evidence?session={session}&mac={Uri.EscapeDataString(mac)}&reason=Failed&frames=12&first=2026-11-30T08:00:00.000Z&last=2026-11-30T08:00:03.000Z", UriKind.Relative);

    internal static Task<HttpResponseMessage> UploadAsync(HttpClient client, Guid session, string mac, byte[] clip)
    {
        var content = new ByteArrayContent(clip);
        content.Headers.ContentType = new MediaTypeHeaderValue(EvidenceApi.PcapNgContentType);
        return client.PostAsync(UploadUri(session, mac), content);
    }

    /// <summary>A pcapng section header followed by filler: the API checks the header, not the packets.</summary>
    internal static byte[] Pcapng(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x0A0D0D0A);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 28);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0x1A2B3C4D);
        return bytes;
    }
}

/// <summary>With authentication configured, only authenticated readers download clips or ask for them.</summary>
public sealed class EvidenceAccessTests(OidcPostgresApi api) : ApiTestBase<OidcPostgresApi>(api), IClassFixture<OidcPostgresApi>
{
    [SkippableFact]
    public async Task Anonymous_callers_are_refused_the_download_and_readers_get_it()
    {
        SkipIfUnavailable();
        var (collector, _) = await NewCollectorAsync();
        var mac = NewMac();
        var boot = new Boot(mac, Api.Clock.GetUtcNow());
        await IngestOkAsync(collector, [boot.Started(1)]);
        var clip = EvidenceTests.Pcapng(500);
        var content = new ByteArrayContent(clip);
        content.Headers.ContentType = new MediaTypeHeaderValue(EvidenceApi.PcapNgContentType);
        var uploaded = await collector.PostAsync($"/api/v1/evidence?session={boot.Id}&mac={mac}&reason=Stuck&frames=3&first=2026-11-30T08:00:00Z&last=2026-11-30T08:00:01Z", content);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var path = $"/api/v1/sessions/{boot.Id}/evidence";

        var anonymous = Api.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(path + "/request", null)).StatusCode);
        // A collector's key is no reader's: it uploads, it does not read.
        Assert.Equal(HttpStatusCode.Unauthorized, (await collector.GetAsync(path)).StatusCode);

        var reader = Api.Client(Api.Token("reader@example.test"));
        var download = await reader.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(clip, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await reader.PostAsync(path + "/request", null)).StatusCode);
    }
}
