#!/usr/bin/env bash
# History at estate scale: generates sessions over 12 months in PostgreSQL with SQL (INSERT ... SELECT, no COPY,
# no ingest), then measures the statistics, the device page and the sessions export, warm and cold.
#
#   bench/estate-scale.sh generate [SESSIONS] [SECONDS] [STREAMS]   default 50,000,000 sessions, no time box, 1 stream
#   bench/estate-scale.sh rollup                                    makes the histogram's rollups again (generate does)
#   bench/estate-scale.sh measure                                   (as root for the cold runs: restarts PostgreSQL;
#                                                                    ESTATE_COLD=0 skips them on a shared server)
#
# PVSFLEET_BENCH_POSTGRES names the server (a role with CREATEDB; falls back to PVSFLEET_TEST_POSTGRES);
# ESTATE_DB the database (default pvsfleet_estate: generate drops and makes it, measure reads it).
# Generation writes the most recent day first, one day per statement (1/365 of SESSIONS), into a month table of its
# own without indexes, then attaches it as the month's partition (PostgreSQL builds the month's indexes in one sorted
# pass, far cheaper than keeping them up row by row). SECONDS time-boxes it: days not begun by then are left out,
# and the months are attached with what they have. It prints how many sessions it wrote, how long it took, the rate.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${PVSFLEET_BENCH_POSTGRES:-${PVSFLEET_TEST_POSTGRES:?set PVSFLEET_BENCH_POSTGRES or PVSFLEET_TEST_POSTGRES}}
db=${ESTATE_DB:-pvsfleet_estate}
out=bench/out
mkdir -p "$out"

# psql from the .NET-style connection string.
kv() { tr ';' '\n' <<<"$server" | awk -F= -v k="$1" 'tolower($1)==tolower(k){print $2}'; }
export PGHOST=$(kv Host) PGPORT=$(kv Port) PGUSER=$(kv Username) PGPASSWORD=$(kv Password)
PGPORT=${PGPORT:-5432}
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
connection="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$db"
api_dll=src/Api/bin/Release/net10.0/PvsFleet.Api.dll
now_s() { date +%s.%N; }

generate() {
    local total=${1:-50000000} box=${2:-0} streams=${3:-1}
    local per_day=$(( (total + 364) / 365 ))
    dotnet build src/Api/Api.csproj -c Release -nologo -v q >/dev/null
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    dotnet "$api_dll" migrate "--ConnectionStrings:Postgres=$connection" --Logging:LogLevel:Default=Warning >/dev/null
    psql_db -f bench/estate/setup.sql >/dev/null
    # The histogram is one table (not partitioned): its key is built once at the end instead of row by row, which was
    # a third of each day's statement.
    psql_db -c 'ALTER TABLE "DurationHistogram" DROP CONSTRAINT "PK_DurationHistogram"'
    local today; today=$(date -u +%F)
    local started; started=$(now_s)
    local deadline=0
    [[ $box -gt 0 ]] && deadline=$(( $(date +%s) + box ))
    echo "generating $per_day sessions a day for the 365 days before $today ($streams stream(s), time box ${box}s)"
    # Months newest first, dealt out to the streams in turn.
    local months=() m
    for m in $(seq 0 12); do
        local first; first=$(date -u -d "$today -$m month" +%Y-%m-01)
        [[ $(date -u -d "$first +1 month" +%s) -le $(date -u -d "$today -365 day" +%s) ]] && break
        months+=("$first")
    done
    local pids=() s
    for s in $(seq 0 $((streams - 1))); do
        (
            for ((i = s; i < ${#months[@]}; i += streams)); do
                generate_month "${months[$i]}" "$today" "$per_day" "$deadline"
            done
        ) &
        pids+=($!)
    done
    for s in "${pids[@]}"; do wait "$s"; done
    local finished; finished=$(now_s)
    echo "the histogram's key, its rollups, the devices' latest sessions, and ANALYZE"
    psql_db <<'SQL'
SET maintenance_work_mem = '512MB';
ALTER TABLE "DurationHistogram" ADD CONSTRAINT "PK_DurationHistogram" PRIMARY KEY ("Series", "Hour", "SiteId", "CollectorId", "Bin");
SQL
    roll_up
    psql_db <<'SQL'
UPDATE "Devices" d SET "LastSessionId" = s."Id", "LastSessionStartedAt" = s."StartedAt", "CurrentPhase" = s."Phase",
       "CurrentOutcome" = s."Outcome", "LastSeenAt" = s."UpdatedAt"
FROM (SELECT DISTINCT ON ("DeviceId") "DeviceId", "Id", "StartedAt", "Phase", "Outcome", "UpdatedAt" FROM "Sessions"
      WHERE "StartedAt" >= (SELECT max(day) FROM bench_estate_days) - interval '7 days'
      ORDER BY "DeviceId", "StartedAt" DESC) s
WHERE d."Id" = s."DeviceId";
UPDATE "Devices" d SET "FirstSeenAt" = (SELECT min(day) FROM bench_estate_days);
VACUUM ANALYZE "Devices";
VACUUM ANALYZE "DurationHistogram";
ANALYZE "Sessions";
ANALYZE "SessionPhases";
SQL
    local ended; ended=$(now_s)
    psql_db -At -F ' ' -c "SELECT count(*), sum(sessions), min(day)::date, max(day)::date FROM bench_estate_days" | {
        read -r days sessions first last
        local secs; secs=$(echo "$finished - $started" | bc -l)
        printf 'generated %s sessions (%s days, %s to %s) in %.0f s: %.0f sessions/s; devices and ANALYZE %.0f s more\n' \
            "$sessions" "$days" "$first" "$last" "$secs" "$(echo "$sessions / $secs" | bc -l)" "$(echo "$ended - $finished" | bc -l)"
    }
    psql_db -At -c "SELECT 'sessions ' || (SELECT count(*) FROM \"Sessions\") || ', phases ' || (SELECT count(*) FROM \"SessionPhases\") || ', histogram rows ' || (SELECT count(*) FROM \"DurationHistogram\") || ', rollup rows ' || (SELECT count(*) FROM \"DurationRollupDay\") || ' by site and day, ' || (SELECT count(*) FROM \"DurationRollupHour\") || ' by hour, rolled up to ' || (SELECT \"RolledUpTo\" FROM \"DurationRollupCutoff\") || ', database ' || pg_size_pretty(pg_database_size(current_database()))"
}

# The rollups of the histogram (DurationRollup), made again from nothing as the API's maintenance pass makes them: the
# same function, a day per call in key order. Up to 21:00 of the newest day generated: its last three hours stay the
# open tail the queries read from the histogram, the most a pass leaves (it rolls up hours two hours after they end).
# Series: the whole boot (-1) and the phases 0-4 (BootPhase).
roll_up() {
    local t0; t0=$(now_s)
    psql_db <<'SQL'
SET work_mem = '64MB';
UPDATE "DurationRollupCutoff" SET "RolledUpTo" = '1970-01-01T00:00:00Z';
TRUNCATE "DurationRollupDay", "DurationRollupHour";
DO $$
DECLARE
    cut timestamptz := (SELECT max(day) + interval '21 hours' FROM bench_estate_days);
    d timestamptz;
BEGIN
    FOR d IN SELECT day + interval '1 day' FROM bench_estate_days ORDER BY day LOOP
        PERFORM pvsfleet_roll_up_durations(LEAST(d, cut), ARRAY[-1, 0, 1, 2, 3, 4]);
    END LOOP;
END
$$;
VACUUM ANALYZE "DurationRollupDay";
VACUUM ANALYZE "DurationRollupHour";
SQL
    printf '  rollups made in %.0f s: %s\n' "$(echo "$(now_s) - $t0" | bc -l)" "$(psql_db -At -c "SELECT (SELECT count(*) FROM \"DurationRollupDay\") || ' rows by site and day, ' || (SELECT count(*) FROM \"DurationRollupHour\") || ' by hour, up to ' || (SELECT \"RolledUpTo\" FROM \"DurationRollupCutoff\")")"
}

# One month: a table of its own per partitioned table, filled day by day (newest first), attached at the end.
generate_month() {
    local first=$1 today=$2 per_day=$3 deadline=$4
    local suffix; suffix=$(date -u -d "$first" +%Y_%m)
    local next; next=$(date -u -d "$first +1 month" +%F)
    local stage="bench_stage_$suffix"
    psql_db <<SQL
CREATE SCHEMA $stage;
CREATE TABLE $stage."Sessions" (LIKE public."Sessions" INCLUDING DEFAULTS) WITH (fillfactor = 70);
CREATE TABLE $stage."SessionPhases" (LIKE public."SessionPhases" INCLUDING DEFAULTS) WITH (fillfactor = 70);
SQL
    local day
    day=$(date -u -d "$next -1 day" +%F)
    [[ $(date -u -d "$day" +%s) -ge $(date -u -d "$today" +%s) ]] && day=$(date -u -d "$today -1 day" +%F)
    while [[ $(date -u -d "$day" +%s) -ge $(date -u -d "$first" +%s) && $(date -u -d "$day" +%s) -ge $(date -u -d "$today -365 day" +%s) ]]; do
        if [[ $deadline -gt 0 && $(date +%s) -ge $deadline ]]; then
            echo "  $suffix: time box reached before $day"
            break
        fi
        local t0; t0=$(now_s)
        psql_db -c "SET search_path = $stage, public" -c "SELECT bench_estate_day('$day 00:00:00+00', $per_day)" >/dev/null
        local t1; t1=$(now_s)
        psql_db -c "INSERT INTO bench_estate_days VALUES ('$day 00:00:00+00', $per_day, $t1 - $t0)"
        printf '  %s: %d sessions in %.1f s\n' "$day" "$per_day" "$(echo "$t1 - $t0" | bc -l)"
        day=$(date -u -d "$day -1 day" +%F)
    done
    local t0; t0=$(now_s)
    # The month's empty partitions (made ahead by the API's migration) give way to the generated tables.
    psql_db <<SQL
DROP TABLE IF EXISTS public."Sessions_$suffix", public."SessionPhases_$suffix";
ALTER TABLE $stage."Sessions" RENAME TO "Sessions_$suffix";
ALTER TABLE $stage."SessionPhases" RENAME TO "SessionPhases_$suffix";
ALTER TABLE $stage."Sessions_$suffix" SET SCHEMA public;
ALTER TABLE $stage."SessionPhases_$suffix" SET SCHEMA public;
DROP SCHEMA $stage;
ALTER TABLE "Sessions" ATTACH PARTITION "Sessions_$suffix" FOR VALUES FROM ('$first 00:00:00+00') TO ('$next 00:00:00+00');
ALTER TABLE "SessionPhases" ATTACH PARTITION "SessionPhases_$suffix" FOR VALUES FROM ('$first 00:00:00+00') TO ('$next 00:00:00+00');
SELECT pvsfleet_ensure_month('Events', '$first 00:00:00+00');
SQL
    printf '  %s: attached (indexes built) in %.1f s\n' "$suffix" "$(echo "$(now_s) - $t0" | bc -l)"
}

api_pid=
start_api() {
    dotnet "$api_dll" "--urls=http://127.0.0.1:5189" "--ConnectionStrings:Postgres=$connection" \
        --PvsFleet:Auth:AdminKey=estate-bench-admin-key --PvsFleet:Alerts:Enabled=false \
        --Logging:LogLevel:Default=Warning --environment=Production >"$out/estate-api.log" 2>&1 &
    api_pid=$!
    for _ in $(seq 120); do curl -sf http://127.0.0.1:5189/healthz >/dev/null && return; sleep 0.5; done
    echo "the API did not start: $out/estate-api.log" >&2; exit 1
}
stop_api() { [[ -n $api_pid ]] && kill "$api_pid" && wait "$api_pid" 2>/dev/null || true; api_pid=; }
trap stop_api EXIT

# Milliseconds of one call (total time, the body read to its end); fails on an HTTP error.
call() {
    curl -sf -o /dev/null -w '%{time_total}\n' -H 'Authorization: Bearer estate-bench-admin-key' "http://127.0.0.1:5189$1" |
        awk '{printf "%.1f\n", $1 * 1000}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() {
    dotnet build src/Api/Api.csproj -c Release -nologo -v q >/dev/null
    local last; last=$(psql_db -At -c "SELECT (max(day) + interval '1 day')::date FROM bench_estate_days")
    local mac; mac=$(psql_db -At -c "SELECT \"Mac\" FROM \"Devices\" WHERE \"LastSessionId\" IS NOT NULL ORDER BY \"Id\" LIMIT 1 OFFSET 4242")
    local other; other=$(psql_db -At -c "SELECT \"Mac\" FROM \"Devices\" WHERE \"LastSessionId\" IS NOT NULL ORDER BY \"Id\" LIMIT 1 OFFSET 777")
    local to="${last}T00:00:00Z" d30 d7 d1
    d30="$(date -u -d "$last -30 day" +%F)T00:00:00Z"
    d7="$(date -u -d "$last -7 day" +%F)T00:00:00Z"
    d1="$(date -u -d "$last -1 day" +%F)T00:00:00Z"
    # Each query, and a twin over other data (eleven months back, another device) to warm the API's code without
    # warming the query's own pages.
    local names=("stats, all sites, day buckets, 30 days" "stats, one site, day buckets, 30 days"
                 "stats, all sites, hour buckets, 7 days" "stats, one site, hour buckets, 7 days"
                 "device page (GET /devices/{mac})" "sessions export, one site, 1 day (CSV)")
    local urls=("/api/v1/stats/boot-durations?from=$d30&to=$to&bucket=day"
                "/api/v1/stats/boot-durations?site=estate-07&from=$d30&to=$to&bucket=day"
                "/api/v1/stats/boot-durations?from=$d7&to=$to&bucket=hour"
                "/api/v1/stats/boot-durations?site=estate-07&from=$d7&to=$to&bucket=hour"
                "/api/v1/devices/$mac"
                "/api/v1/sessions/export.csv?site=estate-07&from=$d1&to=$to")
    local twin_from twin_to
    twin_from="$(date -u -d "$last -330 day" +%F)T00:00:00Z"; twin_to="$(date -u -d "$last -300 day" +%F)T00:00:00Z"
    local twins=("/api/v1/stats/boot-durations?from=$twin_from&to=$twin_to&bucket=day"
                 "/api/v1/stats/boot-durations?site=estate-03&from=$twin_from&to=$twin_to&bucket=day"
                 "/api/v1/stats/boot-durations?from=$twin_from&to=$(date -u -d "$last -323 day" +%F)T00:00:00Z&bucket=hour"
                 "/api/v1/stats/boot-durations?site=estate-03&from=$twin_from&to=$(date -u -d "$last -323 day" +%F)T00:00:00Z&bucket=hour"
                 "/api/v1/devices/$other"
                 "/api/v1/sessions/export.csv?site=estate-03&from=$twin_from&to=$(date -u -d "$last -329 day" +%F)T00:00:00Z")
    local sessions; sessions=$(psql_db -At -c "SELECT sum(sessions) FROM bench_estate_days")
    echo "estate: $sessions sessions up to $last; $(date -u +'%F %H:%M') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"

    if [[ ${ESTATE_COLD:-1} == 0 ]]; then
        echo "cold: skipped (ESTATE_COLD=0: PostgreSQL is shared, other work would lose its connections)"
    elif [[ $(id -u) -eq 0 ]]; then
        echo "cold: PostgreSQL restarted, OS caches dropped, API restarted; its code warmed on the twin queries first"
        pg_ctlcluster 15 main restart
        sync; echo 3 > /proc/sys/vm/drop_caches
        start_api
        local i
        for i in "${!twins[@]}"; do call "${twins[$i]}" >/dev/null; call "${twins[$i]}" >/dev/null; done
        for i in "${!urls[@]}"; do printf '  %-45s %8s ms\n' "${names[$i]}" "$(call "${urls[$i]}")"; done
        stop_api
    else
        echo "cold: skipped (needs root to restart PostgreSQL and drop the OS caches)"
    fi

    echo "warm: median of 9 calls after 5 (min-max)"
    start_api
    for i in "${!urls[@]}"; do
        for _ in 1 2 3 4 5; do call "${urls[$i]}" >/dev/null; done
        local runs; runs=$(for _ in $(seq 9); do call "${urls[$i]}"; done)
        printf '  %-45s %8s ms  (%s-%s)\n' "${names[$i]}" "$(median <<<"$runs")" "$(sort -n <<<"$runs" | head -1)" "$(sort -n <<<"$runs" | tail -1)"
    done
    local rows; rows=$(curl -sf -H 'Authorization: Bearer estate-bench-admin-key' "http://127.0.0.1:5189${urls[5]}" | wc -l)
    echo "  (the export holds $((rows - 1)) sessions)"
    stop_api
}

case "${1:-}" in
    generate) shift; generate "$@" ;;
    measure) measure ;;
    rollup) roll_up ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
esac
