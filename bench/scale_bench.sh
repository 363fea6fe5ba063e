#!/usr/bin/env bash
# scale_bench.sh — issue 14, item 2: 65,536 peers, each with its own allowed IP, plus live
# changes, measured against wireguard-go in the same run. Run as root, one command:
#
#   sudo bash bench/scale_bench.sh [--peers N] [BUILD_DIR (default build)]
#
# One network namespace (xsb<pid>-a) with a veth underlay (192.0.2.1/24) to a second one
# (xsb<pid>-b). N peers (default 65,536) with random public keys (32 random bytes: they
# never speak) and one /32 each, 198.18.0.0 + i (198.18.0.0/15, the benchmark range).
# In turn, one implementation at a time, on interfaces named xs{x,g,m}<pid>:
#   xwg        `xwg up FILE.conf` (Table = auto: a route per allowed IP)
#   wggo       Debian's wireguard-go: start, link up, `wg setconf` of the same peers; the
#              routes a wg-quick-style tool would add come after, through `ip -batch`
#   modern     ../shared/tools/wireguard-go-modern (upstream 0.0.20250522), the same way,
#              when present
# and for each: `wg show IF dump` (N+1 lines, checked), the daemon's VmRSS (and peak,
# VmHWM) after that, for xwg plus bytes_memlock of its BPF maps (those pinned under
# /sys/fs/bpf/xwg/IF/ and those the attached programs use), the daemon's CPU use over
# BENCH_IDLE_S (5) s with nothing to do (from /proc/PID/stat), then 1,000 peers removed in
# one `wg set IF peer K remove ...` and 1,000 new ones added in one `wg set IF peer K
# allowed-ips ...` (dump checked after each), then one peer removed and one added alone.
# Per-packet cost: build/bench/dataplane_bench --peers N (RX and TX with N peers in the
# tries against the base lab, interleaved). Targets are reported, not asserted.
# Needs wg, wireguard-go, bpftool, jq, python3, nsenter, timeout, ip; a built BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=65536
BUILD=build
while [ $# -gt 0 ]; do
	case $1 in
	--peers) PEERS=${2:?--peers N}; shift 2;;
	--peers=*) PEERS=${1#--peers=}; shift;;
	-h|--help) sed -n '2,24p' "$0"; exit 0;;
	-*) echo "unknown option $1" >&2; exit 2;;
	*) BUILD=$1; shift;;
	esac
done
case $PEERS in ''|*[!0-9]*) echo "--peers: a number" >&2; exit 2;; esac
[ "$PEERS" -ge 1 ] && [ "$PEERS" -le 130000 ] || { echo "--peers: 1..130000" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
XWG=$BUILD/xwg
DPB=$BUILD/bench/dataplane_bench
for f in "$XWG" "$DPB"; do
	[ -x "$f" ] || { echo "$f missing: build first (bash scripts/build.sh, or cmake --build $BUILD)" >&2; exit 1; }
done
for tool in wg wireguard-go bpftool jq python3 nsenter timeout ip; do
	command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
MODERN=$(cd .. && pwd)/shared/tools/wireguard-go-modern
CHANGES=$((PEERS < 1000 ? PEERS : 1000))
IDLE_S=${BENCH_IDLE_S:-5}

id=$$
s=$((id % 100000))
NSA=xsb$id-a
NSB=xsb$id-b
UA=xsu${s}a
UB=xsu${s}b
declare -A IFN=([xwg]=xsx$s [wggo]=xsg$s [modern]=xsm$s)
declare -A WGPID=()
work=$(mktemp -d /tmp/scale_bench.XXXXXX)
xwg_up=0

in_ns() { nsenter --net=/run/netns/"$NSA" "$@"; }
log() { printf '%s\n' "$*" >&2; }

cleanup() {
	set +e
	if [ "$xwg_up" = 1 ] || [ -e "/run/xwg/${IFN[xwg]}.pid" ]; then
		timeout 60 "$XWG" down "${IFN[xwg]}" >/dev/null 2>&1
	fi
	for k in "${!WGPID[@]}"; do
		kill "${WGPID[$k]}" 2>/dev/null
		timeout 10 tail --pid="${WGPID[$k]}" -f /dev/null 2>/dev/null
		kill -9 "${WGPID[$k]}" 2>/dev/null
		rm -f "/var/run/wireguard/${IFN[$k]}.sock"
	done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	# only if `xwg down` could not: this run's names are its own
	rm -rf "/sys/fs/bpf/xwg/${IFN[xwg]}" "/run/xwg/${IFN[xwg]}".*
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
# CPU time of PID so far, in clock ticks (utime + stime, all threads)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# idle_cpu PID -> % of one CPU the process used over IDLE_S seconds of no configuration
idle_cpu() {
	local a b
	a=$(cpu_ticks "$1"); sleep "$IDLE_S"; b=$(cpu_ticks "$1")
	awk -v d=$((b - a)) -v hz="$(getconf CLK_TCK)" -v t="$IDLE_S" 'BEGIN { printf "%.1f", 100 * d / hz / t }'
}
# status PID FIELD -> kB (VmRSS, VmHWM)
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
dump_lines() { # IF -> line count of `wg show IF dump` (0 on failure)
	in_ns timeout 120 wg show "$1" dump >"$work/dump" 2>/dev/null || : >"$work/dump"
	wc -l <"$work/dump"
}
# wait_for COND_CMD... : up to 30 s
wait_for() {
	for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
	return 1
}

# --- the lab ---------------------------------------------------------------------------
ip netns add "$NSA"
ip netns add "$NSB"
ip link add "$UA" netns "$NSA" type veth peer name "$UB" netns "$NSB"
in_ns ip link set lo up
in_ns ip addr add 192.0.2.1/24 dev "$UA"
in_ns ip link set "$UA" up
nsenter --net=/run/netns/"$NSB" ip addr add 192.0.2.2/24 dev "$UB"
nsenter --net=/run/netns/"$NSB" ip link set "$UB" up

# --- configuration: N peers, the 1,000 to remove, 1,000 to add --------------------------
PRIV=$(wg genkey)
gen_t0=$(now)
python3 - "$work" "$PEERS" "$CHANGES" "$PRIV" "$UA" "${IFN[xwg]}" "${IFN[wggo]}" "${IFN[modern]}" <<'PY'
import base64, ipaddress, os, sys
work, n, changes, priv, underlay, if_x, if_g, if_m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
base = int(ipaddress.IPv4Address("198.18.0.0"))
ip = lambda i: str(ipaddress.IPv4Address(base + i))
raw = os.urandom(32 * (n + changes + 1))
keys = [base64.b64encode(raw[32 * i:32 * i + 32]).decode() for i in range(n + changes + 1)]
peers = "".join(f"[Peer]\nPublicKey = {keys[i]}\nAllowedIPs = {ip(i)}/32\n\n" for i in range(n))
with open(f"{work}/{if_x}.conf", "w") as f:  # xwg names the interface after the file
    f.write(f"[Interface]\nPrivateKey = {priv}\nListenPort = 51820\nAddress = 198.51.100.1/24\n"
            f"Underlay = {underlay}\n\n" + peers)
with open(f"{work}/wg.conf", "w") as f:
    f.write(f"[Interface]\nPrivateKey = {priv}\nListenPort = 51820\n\n" + peers)
for name, ifname in (("wggo", if_g), ("modern", if_m)):
    with open(f"{work}/routes.{name}", "w") as f:
        f.writelines(f"route add {ip(i)}/32 dev {ifname}\n" for i in range(n))
# `wg set` arguments, one per line: the first CHANGES peers out, CHANGES new ones in
# (198.18.0.0 + n ...), and one more new one for the single add.
with open(f"{work}/remove.args", "w") as f:
    f.writelines(f"peer\n{keys[i]}\nremove\n" for i in range(changes))
with open(f"{work}/add.args", "w") as f:
    f.writelines(f"peer\n{keys[n + j]}\nallowed-ips\n{ip(n + j)}/32\n" for j in range(changes))
with open(f"{work}/one.key", "w") as f:
    f.write(keys[n + changes] + "\n" + ip(n + changes) + "/32\n")
PY
gen_s=$(since "$gen_t0")
conf_size=$(du -h "$work/${IFN[xwg]}.conf" | cut -f1)
log "config: $PEERS peers generated in ${gen_s}s ($conf_size)"
mapfile -t REMOVE_ARGS <"$work/remove.args"
mapfile -t ADD_ARGS <"$work/add.args"
{ read -r ONE_KEY; read -r ONE_IP; } <"$work/one.key"

# Results: R[impl.figure]
declare -A R=()

# timed_set IMPL FIGURE WANT ARGS...: one `wg set IF ARGS...` on IMPL's interface, its time
# in R[IMPL.FIGURE] (with a ! when `wg show IF dump` then has other than WANT lines).
timed_set() {
	local impl=$1 fig=$2 want=$3 t n
	shift 3
	t=$(now)
	in_ns timeout 600 wg set "${IFN[$impl]}" "$@" || log "$impl: wg set ($fig) failed"
	R[$impl.$fig]=$(since "$t")
	n=$(dump_lines "${IFN[$impl]}")
	[ "$n" = "$want" ] || { log "$impl: after $fig: $n dump lines, want $want"; R[$impl.$fig]="${R[$impl.$fig]}!"; }
}

# The changes on IMPL's running interface: CHANGES peers out, CHANGES in, then one peer
# out (the first one just added) and a new one in, alone.
live_changes() {
	local impl=$1
	timed_set "$impl" remove $((PEERS - CHANGES + 1)) "${REMOVE_ARGS[@]}"
	timed_set "$impl" add $((PEERS + 1)) "${ADD_ARGS[@]}"
	timed_set "$impl" remove1 "$PEERS" "${ADD_ARGS[0]}" "${ADD_ARGS[1]}" remove
	timed_set "$impl" add1 $((PEERS + 1)) peer "$ONE_KEY" allowed-ips "$ONE_IP"
}

# The dump: timed, line count checked.
timed_dump() {
	local impl=$1 ifn=$2 t n
	t=$(now)
	n=$(dump_lines "$ifn")
	R[$impl.dump]=$(since "$t")
	R[$impl.dumplines]=$n
	[ "$n" = $((PEERS + 1)) ] || { log "$impl: wg show dump: $n lines, want $((PEERS + 1))"; R[$impl.dump]="${R[$impl.dump]}!"; }
}

# --- xwg -------------------------------------------------------------------------------
# bytes_memlock of the maps pinned under the interface's directory and of those the
# attached programs use (deduplicated by map id): "bytes count"
xwg_map_memory() {
	local ifn=$1 f
	{
		for f in /sys/fs/bpf/xwg/"$ifn"/*; do
			[ -e "$f" ] || continue
			bpftool -j map show pinned "$f" 2>/dev/null | jq -r '.id' 2>/dev/null
		done
		for p in $(in_ns bpftool net show -j 2>/dev/null | jq -r '.[] | (.xdp[]?, .tc[]?) | .id' 2>/dev/null); do
			bpftool -j prog show id "$p" 2>/dev/null | jq -r '.map_ids[]?' 2>/dev/null
		done
	} | sort -un >"$work/map_ids"
	bpftool -j map show | jq --slurpfile ids <(jq -s . "$work/map_ids") -r '
		[ .[] | select(.id as $i | $ids[0] | index($i)) ] |
		"\(map(.bytes_memlock // 0 | tonumber) | add // 0) \(length)"'
	# the largest, for the notes
	bpftool -j map show | jq --slurpfile ids <(jq -s . "$work/map_ids") -r '
		[ .[] | select(.id as $i | $ids[0] | index($i)) ] | sort_by(-(.bytes_memlock // 0 | tonumber)) |
		.[:6][] | "\(.name) \(.type) \(.max_entries) \(.bytes_memlock)"' >"$work/xwg_maps_top"
}

bench_xwg() {
	local ifn=${IFN[xwg]} t pid maps nmaps
	log "xwg: up with $PEERS peers"
	t=$(now)
	if ! timeout 900 nsenter --net=/run/netns/"$NSA" "$XWG" up "$work/$ifn.conf" 2>"$work/xwg-up.err"; then
		R[xwg.up]="failed"
		log "xwg up failed: $(tail -c 500 "$work/xwg-up.err")"
		return 0
	fi
	R[xwg.up]=$(since "$t")
	xwg_up=1
	timed_dump xwg "$ifn"
	pid=$(cat "/run/xwg/$ifn.pid")
	R[xwg.rss]=$(status_kb "$pid" VmRSS)
	R[xwg.hwm]=$(status_kb "$pid" VmHWM)
	read -r maps nmaps < <(xwg_map_memory "$ifn")
	R[xwg.maps]=$maps R[xwg.nmaps]=$nmaps
	R[xwg.idle]=$(idle_cpu "$pid")
	R[xwg.routes]=$(in_ns ip -4 route show dev "$ifn" | wc -l)
	live_changes xwg
	R[xwg.rss_after]=$(status_kb "$pid" VmRSS)
	t=$(now)
	timeout 300 "$XWG" down "$ifn" >/dev/null 2>"$work/xwg-down.err" || log "xwg down: $(tail -c 300 "$work/xwg-down.err")"
	R[xwg.down]=$(since "$t")
	xwg_up=0
}

# --- wireguard-go (Debian's, or the modern build) --------------------------------------
bench_wggo() {
	local impl=$1 bin=$2 ifn=${IFN[$1]} t pid sock
	sock=/var/run/wireguard/$ifn.sock
	log "$impl: start, setconf with $PEERS peers"
	t=$(now)
	WG_PROCESS_FOREGROUND=1 nsenter --net=/run/netns/"$NSA" "$bin" -f "$ifn" >"$work/$impl.log" 2>&1 &
	pid=$!
	WGPID[$impl]=$pid
	wait_for test -S "$sock" || { log "$impl did not start: $(tail -c 300 "$work/$impl.log")"; R[$impl.up]=failed; return 0; }
	in_ns ip link set "$ifn" mtu 1420 up
	in_ns ip addr add 198.51.100.1/24 dev "$ifn"
	if ! in_ns timeout 900 wg setconf "$ifn" "$work/wg.conf" 2>"$work/$impl.setconf.err"; then
		log "$impl: wg setconf failed: $(tail -c 300 "$work/$impl.setconf.err")"
		R[$impl.up]=failed
	else
		R[$impl.up]=$(since "$t")
	fi
	t=$(now)
	in_ns timeout 600 ip -batch "$work/routes.$impl" || log "$impl: ip -batch routes failed"
	R[$impl.routes_s]=$(since "$t")
	R[$impl.routes]=$(in_ns ip -4 route show dev "$ifn" | wc -l)
	timed_dump "$impl" "$ifn"
	R[$impl.rss]=$(status_kb "$pid" VmRSS)
	R[$impl.hwm]=$(status_kb "$pid" VmHWM)
	R[$impl.idle]=$(idle_cpu "$pid")
	live_changes "$impl"
	R[$impl.rss_after]=$(status_kb "$pid" VmRSS)
	kill "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null
	unset "WGPID[$impl]"
	rm -f "$sock"
}

bench_xwg
bench_wggo wggo wireguard-go
IMPLS="xwg wggo"
if [ -x "$MODERN" ]; then
	bench_wggo modern "$MODERN"
	IMPLS="$IMPLS modern"
else
	log "modern: $MODERN missing"
fi

# --- per-packet cost with N peers ---------------------------------------------------------
log "dataplane_bench --peers $PEERS"
DP_PEERS=$((PEERS < 65536 ? PEERS : 65536))
timeout 600 "$DPB" 2000 --peers "$DP_PEERS" >"$work/dataplane.txt" 2>&1 || log "dataplane_bench failed: $(tail -c 300 "$work/dataplane.txt")"
scale_line=$(grep '^scale:' "$work/dataplane.txt" || true)
dp() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$scale_line"; }

# --- table ---------------------------------------------------------------------------------
kb2mb() { awk -v k="${1:-}" 'BEGIN { if (k == "" || k !~ /^[0-9]+$/) print "-"; else printf "%.1f", k / 1024 }'; }
b2mb() { awk -v b="${1:-}" 'BEGIN { if (b == "" || b !~ /^[0-9]+$/) print "-"; else printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
val() { echo "${R[$1]:--}"; }

xwg_mem_kb=""
[[ "${R[xwg.rss]:-}" =~ ^[0-9]+$ ]] && [[ "${R[xwg.maps]:-}" =~ ^[0-9]+$ ]] &&
	xwg_mem_kb=$((${R[xwg.rss]} + ${R[xwg.maps]} / 1024))
modern_col=$([ -x "$MODERN" ] && echo yes || echo no)

echo
echo "xwg scale bench $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, kernel $(uname -r), $PEERS peers (one /32 each), changes of $CHANGES peers"
echo "build: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- bpf loader include 2>/dev/null || echo ' + uncommitted bpf/loader changes'), $XWG of $(date -u -r "$XWG" +%Y-%m-%dT%H:%MZ)"
echo "wggo = Debian's wireguard-go $(wireguard-go --version 2>/dev/null | sed -n 's/^wireguard-go //p' | head -1); modern = $(if [ "$modern_col" = yes ]; then "$MODERN" --version 2>/dev/null | sed -n 's/^wireguard-go //p' | head -1; else echo "missing ($MODERN)"; fi)"
echo "times in seconds (wall clock of the command), memory in MiB; ! = a check failed (see above)"
echo
fmt='%-46s | %13s | %13s | %13s | %-11s | %s\n'
printf "$fmt" figure xwg wggo modern target "xwg vs wggo"
printf "$fmt" "$(printf '%.46s' ----------------------------------------------)" ------------- ------------- ------------- ----------- -----------
mcol() { [ "$modern_col" = yes ] && val "modern.$1" || echo missing; }
printf "$fmt" "up: xwg up FILE / start+link up+wg setconf" "$(val xwg.up)" "$(val wggo.up)" "$(mcol up)" "<= 5 s" \
	"$(ratio "${R[xwg.up]:-}" "${R[wggo.up]:-}")x the time"
printf "$fmt" "  routes, one per allowed IP (wggo: ip -batch)" "(in up)" "$(val wggo.routes_s)" "$(mcol routes_s)" "" ""
printf "$fmt" "wg show IF dump ($((PEERS + 1)) lines)" "$(val xwg.dump)" "$(val wggo.dump)" "$(mcol dump)" "<= 1 s" \
	"$(ratio "${R[xwg.dump]:-}" "${R[wggo.dump]:-}")x the time"
printf "$fmt" "daemon RSS after up" "$(kb2mb "${R[xwg.rss]:-}")" "$(kb2mb "${R[wggo.rss]:-}")" "$([ "$modern_col" = yes ] && kb2mb "${R[modern.rss]:-}" || echo missing)" "" ""
printf "$fmt" "  BPF maps (bytes_memlock, ${R[xwg.nmaps]:-?} maps)" "$(b2mb "${R[xwg.maps]:-}")" "-" "-" "" ""
printf "$fmt" "daemon + map memory" "$(kb2mb "$xwg_mem_kb")" "$(kb2mb "${R[wggo.rss]:-}")" "$([ "$modern_col" = yes ] && kb2mb "${R[modern.rss]:-}" || echo missing)" "<= 1/4 wggo" \
	"$(ratio "$xwg_mem_kb" "${R[wggo.rss]:-}") of it"
printf "$fmt" "  daemon peak RSS (VmHWM) / RSS after changes" "$(kb2mb "${R[xwg.hwm]:-}")/$(kb2mb "${R[xwg.rss_after]:-}")" "$(kb2mb "${R[wggo.hwm]:-}")/$(kb2mb "${R[wggo.rss_after]:-}")" "$([ "$modern_col" = yes ] && echo "$(kb2mb "${R[modern.hwm]:-}")/$(kb2mb "${R[modern.rss_after]:-}")" || echo missing)" "" ""
printf "$fmt" "daemon CPU while idle, % of one CPU over ${IDLE_S} s" "$(val xwg.idle)" "$(val wggo.idle)" "$(mcol idle)" "" ""
printf "$fmt" "remove $CHANGES peers, one wg set" "$(val xwg.remove)" "$(val wggo.remove)" "$(mcol remove)" "<= 1 s" \
	"$(ratio "${R[xwg.remove]:-}" "${R[wggo.remove]:-}")x the time"
printf "$fmt" "add $CHANGES peers, one wg set" "$(val xwg.add)" "$(val wggo.add)" "$(mcol add)" "<= 1 s" \
	"$(ratio "${R[xwg.add]:-}" "${R[wggo.add]:-}")x the time"
printf "$fmt" "  remove 1 peer / add 1 peer, one wg set each" "$(val xwg.remove1)/$(val xwg.add1)" "$(val wggo.remove1)/$(val wggo.add1)" "$([ "$modern_col" = yes ] && echo "$(val modern.remove1)/$(val modern.add1)" || echo missing)" "" ""
printf "$fmt" "xwg down" "$(val xwg.down)" "" "" "" ""
echo
echo "per-packet cost, dataplane_bench: median ns per 1420-B packet, base lab vs $DP_PEERS peers in the peers map and allowed-IPs trie"
if [ -n "$scale_line" ]; then
	printf "$fmt" figure "base lab" "$DP_PEERS peers" "" target "base/N"
	printf "$fmt" "TX (xwg_tx: seal + encapsulate)" "$(dp tx_base_ns)" "$(dp tx_n_ns)" "" ">= 0.9" "$(dp tx_ratio)"
	printf "$fmt" "RX (xwg_rx: verify + decrypt + redirect)" "$(dp rx_base_ns)" "$(dp rx_n_ns)" "" ">= 0.9" "$(dp rx_ratio)"
else
	echo "  (dataplane_bench gave no figures)"
fi
echo
echo "xwg: ${R[xwg.routes]:-?} routes on the tunnel device after up; largest maps (name type max_entries bytes_memlock):"
sed 's/^/  /' "$work/xwg_maps_top" 2>/dev/null || true
echo "config generated in ${gen_s} s; the xwg file is $conf_size"
