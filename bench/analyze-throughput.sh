#!/usr/bin/env bash
# Measures `analyze` on a simulated boot storm in packets/s beside two references on the same file in the same run:
#   floor  — ../shared/bench/pcapfloor.c: a C loop that only visits each frame through libpcap
#   tshark — tshark -r FILE -Y "dhcp || tftp"
# and the peak memory of `analyze` with 10,000 devices booting at once.
# Needs: gcc, libpcap-dev, tshark (apt-get install -y gcc libpcap-dev tshark), the .NET SDK.
# Usage: bench/analyze-throughput.sh [DEVICES] [RUNS]      (defaults: 1000 devices, 3 runs each, best run kept)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-1000}
runs=${2:-3}
out=bench/out
mkdir -p "$out"
floor_src=${PCAPFLOOR_SRC:-../shared/bench/pcapfloor.c}

# Published as the image and the systemd install publish it (ReadyToRun for this machine's runtime).
dotnet publish -c Release src/Collector -o "$out/collector" -v quiet -nologo >/dev/null
collector="dotnet $out/collector/PvsFleet.Collector.dll"
gcc -O2 -o "$out/pcapfloor" "$floor_src" -lpcap

storm="$out/storm-$devices.pcapng"
if [[ ! -f $storm ]]; then
  $collector simulate --devices "$devices" --out "$storm" 2>/dev/null
fi
packets=$("$out/pcapfloor" "$storm" | awk '{print $1}')
size=$(du -h "$storm" | cut -f1)
cat "$storm" >/dev/null   # every reader starts from the page cache

best() { sort -n | head -1; }
now() { date +%s.%N; }

floor_pps=$(for _ in $(seq "$runs"); do "$out/pcapfloor" "$storm" | awk '{print $(NF-2)}'; done | sort -n | tail -1)

analyze_wall=$(for _ in $(seq "$runs"); do
  s=$(now); $collector analyze --json "$storm" >/dev/null 2>&1; e=$(now); echo "$e - $s" | bc -l
done | best)
analyze_pps=$(echo "$packets / $analyze_wall" | bc -l)

s=$(now); tshark -r "$storm" -Y "dhcp || tftp" >/dev/null 2>&1; e=$(now)
tshark_wall=$(echo "$e - $s" | bc -l)
tshark_pps=$(echo "$packets / $tshark_wall" | bc -l)

# 10,000 devices powered on within 10 s: all of them in flight at once.
crowd="$out/crowd-10000.pcapng"
if [[ ! -f $crowd ]]; then
  $collector simulate --devices 10000 --stagger 10 --single-read-ios 8 --bnistack-ios 8 --out "$crowd" 2>/dev/null
fi
crowd_packets=$("$out/pcapfloor" "$crowd" | awk '{print $1}')
/usr/bin/time -o "$out/crowd.rss" -f "%M" $collector analyze --json "$crowd" >"$out/crowd.json" 2>/dev/null
crowd_rss_kb=$(tail -1 "$out/crowd.rss")
in_flight=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["peakSessionsInFlight"])' "$out/crowd.json")

printf 'storm: %s devices, %s packets, %s (%s)\n' "$devices" "$packets" "$size" "$storm"
printf '%-34s %12.0f packets/s\n' "floor (libpcap loop, C)" "$floor_pps"
printf '%-34s %12.0f packets/s  (%.2f s wall, whole command)\n' "analyze --json" "$analyze_pps" "$analyze_wall"
printf '%-34s %12.0f packets/s  (%.2f s wall)\n' 'tshark -Y "dhcp || tftp"' "$tshark_pps" "$tshark_wall"
printf 'analyze / floor  = %.2f   (target >= 1.0)\n' "$(echo "$analyze_pps / $floor_pps" | bc -l)"
printf 'analyze / tshark = %.1f   (target >= 15)\n' "$(echo "$analyze_pps / $tshark_pps" | bc -l)"
printf 'peak RSS of analyze, %s boots in flight at once (%s packets): %.0f MB   (target <= 200 MB)\n' "$in_flight" "$crowd_packets" "$(echo "$crowd_rss_kb / 1024" | bc -l)"
