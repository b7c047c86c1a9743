#!/usr/bin/env bash
# Peak memory of the collector's frame loop with evidence on, 10,000 boots in flight at once: `analyze --evidence`
# keeps every boot's frames in the bounded store and writes a clip per failed, stuck or looping boot, as the agent does.
# The same capture is analysed without evidence too, for the difference. Not part of CI (a 3.4 M-frame capture).
# Needs: the .NET SDK, /usr/bin/time. Usage: bench/evidence-memory.sh [DEVICES]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-10000}
out=bench/out
mkdir -p "$out"

dotnet build -c Release src/Collector -v quiet -nologo >/dev/null
collector="dotnet src/Collector/bin/Release/net10.0/PvsFleet.Collector.dll"

# The devices power on within 10 s, so (nearly) all of them are in flight at once; a fifth have a planted failure.
crowd="$out/crowd-$devices.pcapng"
if [[ ! -f $crowd ]]; then
  $collector simulate --devices "$devices" --stagger 10 --single-read-ios 8 --bnistack-ios 8 --out "$crowd" 2>/dev/null
fi
cat "$crowd" >/dev/null   # both runs start from the page cache

clips="$out/evidence-clips"
rm -rf "$clips"
/usr/bin/time -o "$out/evidence.rss" -f "%M %e" $collector analyze --json --evidence "$clips" "$crowd" >"$out/evidence.json" 2>"$out/evidence.err"
/usr/bin/time -o "$out/plain.rss" -f "%M %e" $collector analyze --json "$crowd" >/dev/null 2>&1

read -r evidence_kb evidence_s <"$out/evidence.rss"
read -r plain_kb plain_s <"$out/plain.rss"
in_flight=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["peakSessionsInFlight"])' "$out/evidence.json")
frames=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["packets"])' "$out/evidence.json")
printf 'capture: %s devices, %s frames, %s boots in flight at once (%s)\n' "$devices" "$frames" "$in_flight" "$crowd"
grep 'analyze: evidence:' "$out/evidence.err" || true
printf 'clip files: %s, %s\n' "$(find "$clips" -name '*.pcapng' | wc -l)" "$(du -sh "$clips" | cut -f1)"
printf 'peak RSS, evidence on:  %.0f MB (%s s)   (target <= 200 MB)\n' "$(echo "$evidence_kb / 1024" | bc -l)" "$evidence_s"
printf 'peak RSS, evidence off: %.0f MB (%s s)\n' "$(echo "$plain_kb / 1024" | bc -l)" "$plain_s"
