-- The generator functions of bench/estate-scale.sh (see setup.sql).
\set ON_ERROR_STOP on

CREATE TABLE IF NOT EXISTS bench_estate_days (day timestamptz PRIMARY KEY, sessions bigint NOT NULL, seconds double precision NOT NULL);

-- A duration in ms around a median, log-normal-ish (three uniforms approximate a normal), to the microsecond: the
-- ingest's durations come from microsecond timestamps too.
CREATE OR REPLACE FUNCTION bench_ms(median double precision, sigma double precision) RETURNS double precision
LANGUAGE sql VOLATILE AS $$ SELECT round((median * exp(sigma * 2 * (random() + random() + random() - 1.5)))::numeric, 3)::float8 $$;

-- One UTC day of n sessions: 96 % boot, 4 % fail in one of the first four phases; a fifth of the sites are slower;
-- 5 % retry the bootstrap download. Sessions, their phases and the histogram rows they make (the same bins as
-- DurationBins.Sql: exponent and top 6 mantissa bits of the double) are written by one statement.
CREATE OR REPLACE FUNCTION bench_estate_day(day timestamptz, n int) RETURNS bigint LANGUAGE sql AS $fn$
WITH base AS MATERIALIZED (
    SELECT r.*, 1 + device % 25 AS site, 1 + 2 * (device % 25) + (device / 25) % 2 AS collector,
           -- Time-ordered like the collectors' ids: milliseconds since 1970, then random bits.
           (lpad(to_hex((extract(epoch FROM started) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 19))::uuid AS id,
           bench_ms(2500 * slow, 0.4) AS d0, bench_ms(1500 * slow, 0.5) AS d1, bench_ms(800, 0.4) AS d2, bench_ms(25000 * slow, 0.35) AS d3
    FROM (SELECT g, day + make_interval(secs => (g - random()) * 86400.0 / n) AS started, device,
                 CASE WHEN (1 + device % 25) % 5 = 0 THEN 1.4 ELSE 1.0 END AS slow, random() AS outcome_draw,
                 (ARRAY[0, 0, 0, 1, 1, 1, 2, 2, 2, 3])[1 + floor(random() * 10)::int] AS fail_phase,
                 CASE WHEN random() < 0.05 THEN 1 + floor(random() * 3)::int ELSE 0 END AS retries
          FROM (SELECT g, 1 + floor(random() * 100000)::bigint AS device FROM generate_series(1, n) g) d) r
),
shaped AS MATERIALIZED (
    SELECT b.*, CASE WHEN outcome_draw < 0.96 THEN 4 ELSE fail_phase END AS last_phase,
           CASE WHEN outcome_draw < 0.96 THEN 1 ELSE 2 END AS outcome,
           ARRAY[0, d0, d0 + d1, d0 + d1 + d2, d0 + d1 + d2 + d3] AS offsets, ARRAY[d0, d1, d2, d3] AS durations
    FROM base b
),
phases AS MATERIALIZED (
    SELECT s.id, s.site, s.collector, s.started, p AS phase,
           s.started + make_interval(secs => s.offsets[p + 1] / 1000) AS phase_start,
           CASE WHEN p < 4 THEN s.durations[p + 1] END AS ms,
           CASE WHEN p = 1 THEN s.retries ELSE 0 END AS retries
    FROM shaped s, generate_series(0, s.last_phase) p
),
sessions AS (
    INSERT INTO "Sessions" ("Id", "DeviceId", "SiteId", "CollectorId", "Mac", "Ip", "Firmware", "BootFile", "HostName", "Phase",
        "Outcome", "StartedAt", "EndedAt", "PhaseStartedAt", "DurationMs", "TotalRetries", "DhcpServer", "TftpServer", "PvsServer",
        "LastSequence", "UpdatedAt", "Instance", "LastProgressAt")
    SELECT s.id, s.device, s.site, s.collector, d."Mac", d."LastIp", d."Firmware",
           CASE WHEN d."Firmware" = 1 THEN 'ARDBP32.BIN' ELSE 'pvsnbpx64.efi' END, d."HostName", s.last_phase, s.outcome,
           s.started, s.started + make_interval(secs => (s.offsets[s.last_phase + 1] + CASE WHEN s.outcome = 2 THEN s.durations[s.last_phase + 1] ELSE 0 END) / 1000),
           s.started + make_interval(secs => s.offsets[s.last_phase + 1] / 1000),
           CASE WHEN s.outcome = 1 THEN s.offsets[5] END, s.retries,
           '10.' || s.site || '.0.1', '10.' || s.site || '.0.2', '10.' || s.site || '.0.3',
           s.g * 6, s.started + make_interval(secs => s.offsets[s.last_phase + 1] / 1000),
           ('00000000-0000-7000-8000-' || lpad(s.collector::text, 12, '0'))::uuid, s.started + make_interval(secs => s.offsets[s.last_phase + 1] / 1000)
    FROM shaped s JOIN "Devices" d ON d."Id" = s.device
    RETURNING 1
),
phase_rows AS (
    -- A failed boot's last phase ends with the failure, with its duration; BNIStack has no end.
    INSERT INTO "SessionPhases" ("SessionId", "Phase", "SiteId", "SessionStartedAt", "StartedAt", "EndedAt", "DurationMs", "Retries")
    SELECT p.id, p.phase, p.site, p.started, p.phase_start, CASE WHEN p.ms IS NOT NULL THEN p.phase_start + make_interval(secs => p.ms / 1000) END,
           p.ms, p.retries
    FROM phases p
    RETURNING 1
),
bins AS (
    INSERT INTO "DurationHistogram" ("Series", "Hour", "SiteId", "CollectorId", "Bin", "Count", "MaxMs")
    SELECT series, date_trunc('hour', started AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', site, collector,
           (CASE WHEN ms > 0 THEN (('x' || encode(float8send(ms), 'hex'))::bit(64)::bigint >> 46)::int ELSE 0 END), count(*), max(ms)
    FROM (SELECT -1 AS series, started, site, collector, offsets[5] AS ms FROM shaped WHERE outcome = 1
          UNION ALL
          SELECT phase, started, site, collector, ms FROM phases WHERE ms IS NOT NULL) x
    GROUP BY 1, 2, 3, 4, 5
    RETURNING 1
)
SELECT (SELECT count(*) FROM sessions) + 0 * (SELECT count(*) FROM phase_rows) + 0 * (SELECT count(*) FROM bins);
$fn$;
