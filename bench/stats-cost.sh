#!/usr/bin/env bash
# What the breakdown and capacity endpoints cost on a large PostgreSQL table: a scratch database with SESSIONS boots
# (default 500,000: 30 days of ~16,700 boots a day over 4 PVS servers, five phases each, so 2.5 million phase rows),
# filled by SQL, then each endpoint timed through HTTP against the API built in Release (a warm-up call first).
# Needs PVSFLEET_TEST_POSTGRES (a server where the role may create databases).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PVSFLEET_TEST_POSTGRES:?set PVSFLEET_TEST_POSTGRES}"
SESSIONS=${SESSIONS:-500000}
DB=pvsfleet_statscost_$$
PORT=${PORT:-5391}
server_psql() { psql "$(sed 's/;/ /g' <<<"$PVSFLEET_TEST_POSTGRES" | sed 's/Host=/host=/;s/Port=/port=/;s/Username=/user=/;s/Password=/password=/;s/Database=/dbname=/')" -v ON_ERROR_STOP=1 -q "$@"; }
db_psql() { psql "$(sed 's/;/ /g' <<<"$PVSFLEET_TEST_POSTGRES" | sed 's/Host=/host=/;s/Port=/port=/;s/Username=/user=/;s/Password=/password=/;s/Database=[^ ]*//') dbname=$DB" -v ON_ERROR_STOP=1 -q "$@"; }
CONN="$(sed "s/Database=[^;]*/Database=$DB/" <<<"$PVSFLEET_TEST_POSTGRES")"
cleanup() { [[ -n "${API_PID:-}" ]] && kill "$API_PID" 2>/dev/null || true; server_psql -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true; }
trap cleanup EXIT

dotnet build src/Api/Api.csproj -c Release -v q -nologo >/dev/null
API=src/Api/bin/Release/net10.0/PvsFleet.Api.dll
server_psql -c "CREATE DATABASE $DB"
ConnectionStrings__Postgres="$CONN" dotnet "$API" migrate >/dev/null

echo "filling $SESSIONS sessions ..."
start=$(date +%s)
db_psql <<SQL
INSERT INTO "Sites" ("Name", "CreatedAt") VALUES ('bench', now());
INSERT INTO "Devices" ("Mac", "SiteId", "Firmware", "FirstSeenAt", "LastSeenAt")
SELECT '52:54:00:' || lpad(to_hex(d / 65536 % 256), 2, '0') || ':' || lpad(to_hex(d / 256 % 256), 2, '0') || ':' || lpad(to_hex(d % 256), 2, '0'),
       1, 2, now(), now() FROM generate_series(1, 10000) d;
-- Boots spread over 30 days, more in the morning storm; the phase lengths vary, logon slower on the fourth server.
CREATE TEMP TABLE b AS
SELECT gen_random_uuid() AS id, (i % 10000) + 1 AS device, i,
       date_trunc('day', now()) - interval '30 days' + (i::float8 / $SESSIONS) * interval '30 days' AS t,
       1000 + random() * 3000 AS ip, 2000 + random() * 4000 AS tftp,
       (800 + random() * 2000) * CASE WHEN i % 4 = 3 THEN 4 ELSE 1 END AS logon, 20000 + random() * 30000 AS srm
FROM generate_series(1, $SESSIONS) i;
INSERT INTO "Sessions" ("Id", "DeviceId", "SiteId", "CollectorId", "Instance", "Mac", "Firmware", "BootFile", "Phase", "Outcome",
    "StartedAt", "EndedAt", "PhaseStartedAt", "DurationMs", "TotalRetries", "DhcpServer", "TftpServer", "PvsServer", "StreamServer",
    "LastSequence", "UpdatedAt")
SELECT id, device, 1, 1, '00000000-0000-0000-0000-000000000001', d."Mac", 2, 'pvsnbpx64.efi', 4, 1,
       t, t + ((ip + tftp + logon + srm + 10000) * interval '1 ms'), t + ((ip + tftp + logon + srm) * interval '1 ms'),
       ip + tftp + logon + srm, (i % 7 = 0)::int * 3, '10.0.0.1', '10.0.0.' || (2 + i % 2), '10.0.1.' || (1 + i % 4), '10.0.1.' || (1 + i % 4), i, now()
FROM b JOIN "Devices" d ON d."Id" = b.device;
INSERT INTO "SessionPhases" ("SessionId", "Phase", "SiteId", "SessionStartedAt", "StartedAt", "EndedAt", "DurationMs", "Retries")
SELECT id, p, 1, t, t + (o.s * interval '1 ms'), t + ((o.s + o.len) * interval '1 ms'), o.len, 0
FROM b CROSS JOIN LATERAL (VALUES (0, 0::float8, ip), (1, ip, tftp), (2, ip + tftp, logon), (3, ip + tftp + logon, srm),
                                  (4, ip + tftp + logon + srm, 10000::float8)) AS o(p, s, len);
ANALYZE "Sessions"; ANALYZE "SessionPhases"; ANALYZE "Devices";
SQL
echo "filled in $(( $(date +%s) - start )) s: $(db_psql -At -c 'SELECT count(*) FROM "Sessions"') sessions, $(db_psql -At -c 'SELECT count(*) FROM "SessionPhases"') phases"

ConnectionStrings__Postgres="$CONN" ASPNETCORE_URLS="http://127.0.0.1:$PORT" PvsFleet__Alerts__Enabled=false dotnet "$API" >/dev/null 2>&1 &
API_PID=$!
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ago() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
time_get() {
  local label=$1 url=$2
  curl -fs -o /dev/null "http://127.0.0.1:$PORT$url"   # warm-up: connection pool, plans, JIT
  local best=999 total=0
  for _ in 1 2 3; do
    local s; s=$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT$url")
    best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (b < a) ? b : a }')
  done
  printf '%-52s best of 3: %6.0f ms\n' "$label" "$(awk -v s="$best" 'BEGIN { print s * 1000 }')"
}
time_get "breakdown by=pvsServer, 7 days (~117k boots)" "/api/v1/stats/breakdown?by=pvsServer&from=$(ago '7 days ago')&to=$now"
time_get "breakdown by=pvsServer, 30 days (~500k boots)" "/api/v1/stats/breakdown?by=pvsServer&from=$(ago '30 days ago')&to=$now"
time_get "breakdown by=firmware, 24 hours (~17k boots)" "/api/v1/stats/breakdown?by=firmware&from=$(ago '1 day ago')&to=$now"
time_get "capacity, 24 hours (~17k boots, 84k phases)" "/api/v1/stats/capacity?from=$(ago '1 day ago')&to=$now"
time_get "capacity, 7 days (~117k boots, 583k phases)" "/api/v1/stats/capacity?from=$(ago '7 days ago')&to=$now"
