#!/usr/bin/env bash
# run.sh — build everything, then run every benchmark: the AEAD and handshake micro
# benches, the data plane per-packet bench, the live-tunnel iperf3 bench
# (tunnel_bench.sh; its BENCH_* knobs pass through), pods across two nodes
# (cni_bench.sh) and the 65,536-peer scale bench
# (scale_bench.sh, xwg against wireguard-go) and the handshake flood (flood_bench, xwg
# against wireguard-go). Needs root for the BPF ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null

say() { printf '\n=== %s\n' "$*"; }
rc=0
for b in aead_bench handshake_bench dataplane_bench flood_bench; do
	say "$b"
	timeout 600 "build/bench/$b" || { echo "$b failed (exit $?)"; rc=1; }
done
# Today's wireguard-go next to Debian's, where this machine has the build (its path can be
# given as WGGO_MODERN; tunnel_bench.sh reports the case missing without it).
modern=$(cd .. && pwd)/shared/tools/wireguard-go-modern
if [ -z "${WGGO_MODERN:-}" ] && [ -x "$modern" ]; then
	export WGGO_MODERN=$modern
fi
say "tunnel_bench.sh (iperf3 through bare veth, wireguard-go (Debian's and today's), xwg)"
timeout 3600 bash bench/tunnel_bench.sh || { echo "tunnel_bench.sh failed (exit $?)"; rc=1; }
say "cni_bench.sh (pod to pod across nodes: xwg-cni's fast path, routing via xwg0, wireguard-go)"
timeout 1800 bash bench/cni_bench.sh || { echo "cni_bench.sh failed (exit $?)"; rc=1; }
say "scale_bench.sh (65,536 peers: up, dump, memory, live changes; xwg, wireguard-go)"
timeout 3600 bash bench/scale_bench.sh || { echo "scale_bench.sh failed (exit $?)"; rc=1; }
exit $rc
