#!/usr/bin/env bash
# Delivery latency of the collector agent: a simulated boot storm replayed at --speed max through the collector
# pipeline into the real API on PostgreSQL; for every event, the time from the collector queuing it (the moment
# its packet was decoded: event.queuedAt, the collector's clock) to the API storing it (Events.ReceivedAt, the
# API's clock — the same machine). Reports count, p50, p90, p99 and max.
# Needs: a PostgreSQL server with a role that may create databases (default: the test role of .ci/run).
# Usage: bench/delivery-latency.sh [DEVICES]        (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}
out=bench/out
mkdir -p "$out"
server=${PVSFLEET_BENCH_POSTGRES:-"Host=127.0.0.1;Port=5432;Username=pvsfleet;Password=pvsfleet"}
database=pvsfleet_delivery_bench
port=5190
export PGPASSWORD=${PGPASSWORD:-pvsfleet}
psql_() { psql -h 127.0.0.1 -U pvsfleet -v ON_ERROR_STOP=1 -qAt "$@"; }

dotnet build -c Release src/Api -v quiet -nologo >/dev/null
dotnet build -c Release src/Collector -v quiet -nologo >/dev/null
api="dotnet src/Api/bin/Release/net10.0/PvsFleet.Api.dll"
collector="dotnet src/Collector/bin/Release/net10.0/PvsFleet.Collector.dll"

storm="$out/storm-$devices.pcapng"
[[ -f $storm ]] || $collector simulate --devices "$devices" --out "$storm" 2>/dev/null

psql_ -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
export ConnectionStrings__Postgres="$server;Database=$database" PvsFleet__Alerts__Enabled=false
key=$($api collectors add --site bench --name bench-1 2>/dev/null | tail -1)
ASPNETCORE_URLS="http://127.0.0.1:$port" $api >"$out/delivery-api.log" 2>&1 &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done

rm -rf "$out/delivery-spool"
start=$(date +%s.%N)
$collector replay "$storm" --speed max --shift-to-now --api "http://127.0.0.1:$port/" --key "$key" \
  --spool "$out/delivery-spool" >"$out/delivery-collector.log" 2>&1
end=$(date +%s.%N)

printf 'storm: %s devices (%s)\n' "$devices" "$storm"
printf 'replay --speed max, until every event was acknowledged: %.1f s\n' "$(echo "$end - $start" | bc -l)"
psql_ -d "$database" -F ' ' -c "
  WITH lag AS (
    SELECT extract(epoch FROM (\"ReceivedAt\" AT TIME ZONE 'UTC') - ((\"Payload\"::jsonb->>'queuedAt')::timestamptz)) * 1000 AS ms
    FROM \"Events\")
  SELECT 'events ' || count(*),
         'p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ms',
         'p90 ' || round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ms',
         'p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1) || ' ms',
         'max ' || round(max(ms)::numeric, 1) || ' ms'
  FROM lag"
psql_ -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
