#!/usr/bin/env bash
# Live capture throughput: can `collector run`, pinned to ONE core, keep up with a boot storm on the wire with
# zero kernel drops? Method: a veth pair (MTU 9000, for the jumbo frames) into a network namespace made here;
# bench/tools/rawsend.c, pinned to the other core, sends a simulated storm out of the namespace's end as fast as
# the kernel takes it (sendmmsg on AF_PACKET; tcpreplay only reaches ~90 k frames/s here); the collector
# captures the other end with its default BPF filter and reports libpcap's received/dropped counters at exit.
# Needs root, iproute2, gcc, editcap (tshark). Usage: bench/live-capture.sh [DEVICES] [PASSES]
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-300}
passes=${2:-1}
out=bench/out
mkdir -p "$out"
dotnet build -c Release src/Collector -v quiet -nologo >/dev/null
collector="dotnet src/Collector/bin/Release/net10.0/PvsFleet.Collector.dll"
storm="$out/storm-$devices.pcapng"
[[ -f $storm ]] || $collector simulate --devices "$devices" --out "$storm" 2>/dev/null
[[ -f ${storm%.pcapng}.pcap ]] || editcap -F pcap "$storm" "${storm%.pcapng}.pcap"
gcc -O2 -o "$out/rawsend" bench/tools/rawsend.c

ns=pvsfleet-bench-$$
ip netns add "$ns"
cleanup() { kill "${collector_pid:-0}" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip link add pvcap mtu 9000 type veth peer name pvsend mtu 9000 netns "$ns"
ip link set pvcap up
ip netns exec "$ns" ip link set pvsend up

rm -rf "$out/live-spool"
# Nothing listens on the API address: events stay in the spool; shipping is not what this measures.
taskset -c 0 $collector run --interface pvcap --api http://127.0.0.1:9/ --key bench --spool "$out/live-spool" \
  >"$out/live-collector.log" 2>&1 &
collector_pid=$!
for _ in $(seq 1 100); do grep -q "Collecting from" "$out/live-collector.log" && break; sleep 0.2; done

ip netns exec "$ns" taskset -c 1 "$out/rawsend" pvsend "${storm%.pcapng}.pcap" "$passes" >"$out/live-sender.log" 2>&1
sleep "${SETTLE:-2}"
kill -TERM "$collector_pid"   # SIGINT is ignored by background jobs of a script
wait "$collector_pid" || true

cat "$out/live-sender.log"
grep -E "packets received" "$out/live-collector.log" | sed 's/^.*info: [^ ]* //'

# The collector's own one-core rate, whatever the sender manages: warm it up, freeze it (SIGSTOP) while 600,000
# frames queue in a 1.5 GB kernel ring, let it go (SIGCONT) and stop it DRAIN seconds later; frames decoded in that
# time / DRAIN = frames per second one core of the collector gets through.
if [[ ${DRAIN:-0} != 0 ]]; then
  [[ -f $out/drain-warm.pcap ]] || editcap -F pcap -r "${storm%.pcapng}.pcap" "$out/drain-warm.pcap" 600001-671276
  [[ -f $out/drain-load.pcap ]] || editcap -F pcap -r "${storm%.pcapng}.pcap" "$out/drain-load.pcap" 1-600000
  rm -rf "$out/drain-spool"
  Collector__CaptureBufferMegabytes=1536 taskset -c 0 $collector run --interface pvcap --api http://127.0.0.1:9/ --key bench \
    --spool "$out/drain-spool" >"$out/drain-collector.log" 2>&1 &
  collector_pid=$!
  for _ in $(seq 1 100); do grep -q "Collecting from" "$out/drain-collector.log" && break; sleep 0.2; done
  ip netns exec "$ns" taskset -c 1 "$out/rawsend" pvsend "$out/drain-warm.pcap" >/dev/null
  sleep 3
  kill -STOP "$collector_pid"
  ip netns exec "$ns" taskset -c 1 "$out/rawsend" pvsend "$out/drain-load.pcap" >/dev/null
  kill -CONT "$collector_pid"
  sleep "$DRAIN"
  kill -TERM "$collector_pid"
  wait "$collector_pid" || true
  decoded=$(grep -oE '[0-9]+ decoded' "$out/drain-collector.log" | awk '{print $1}')
  warm=71276
  printf 'drain: %s frames decoded in the %s s after SIGCONT (the warm-up before): %.0f frames/s on one core\n' \
    "$((decoded - warm))" "$DRAIN" "$(echo "($decoded - $warm) / $DRAIN" | bc -l)"
fi
