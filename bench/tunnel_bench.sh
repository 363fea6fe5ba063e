#!/usr/bin/env bash
# tunnel_bench.sh — iperf3 TCP and UDP through live tunnels, all measured in one run.
#
# Four labs, each two network namespaces joined by a veth underlay (192.0.2.0/24), all up
# at once so the trials can interleave (this host is noisy; interleaving spreads the
# noise over every case):
#   bare      the veth underlay itself, MTU 1420, TSO/GSO/GRO/SG/tx-checksum off
#   wggo      wireguard-go <-> wireguard-go (configured with wg)
#   xwg       xwg <-> xwg (xwg up; XDP decrypt, TC encrypt)
#   mixed     xwg (sender side) <-> wireguard-go
#   modern    upstream wireguard-go with TUN TSO/GRO and UDP GSO/GRO <-> the same, when
#             WGGO_MODERN names its binary (../shared/tools/wireguard-go-modern here); what
#             a user would pick today. Without it the case is reported missing.
# Cases measured: bare, wggo, xwg, xwg>wggo (data from xwg to wireguard-go),
# wggo>xwg (the same lab, iperf3 -R: data from wireguard-go to xwg) and wggom (modern).
# Per trial and case: TCP for BENCH_TIME s, and UDP with 1380-B datagrams at a fixed
# offered load (BENCH_UDP_RATE, the receiver's rate and loss are reported). Afterwards,
# per case, a short search for the highest offered UDP rate with <= 1% loss. CPU use is
# from /proc/stat deltas over each run (whole host: both vCPUs). With
# kernel.bpf_stats_enabled=1 (old value restored on exit), run_time_ns/run_cnt of every
# xwg program of the labs is read with bpftool before and after each run.
#
# Needs root, iperf3, wireguard-go, wg, ethtool, bpftool, jq, and a built build/xwg.
# Knobs: WGGO_MODERN (path of the modern wireguard-go; unset: that case is missing),
# BENCH_TIME (10), BENCH_TRIALS (3), BENCH_UDP_RATE (2G), BENCH_UDP_SEARCH (1),
# BENCH_CASES ("bare wggo xwg xwg>wggo wggo>xwg", plus wggom with WGGO_MODERN), BENCH_PERF (0; 1 = perf record one
# xwg<->xwg TCP run and print where the time goes), BENCH_KEEP (directory to keep the
# raw JSON in), BENCH_WIRE (0; 1 = the tunnels' underlay behaves like a wire: TSO/GSO off
# on its veth ends, so 64 KB UDP GSO datagrams are cut to the MTU before they cross, and
# GRO on, so the receiver merges them again as a NIC's GRO would. By default a veth hands
# a UDP GSO datagram to the other namespace whole, which no link does), BENCH_CPU (unset;
# a CPU number = every lab on that one CPU: wireguard-go, iperf3 and the xwg daemons run
# under taskset, and xwg keeps decryption on the receiving CPU, XWG_RX_CPUMAP=0, so all
# softirq work stays there too: what one core does), BENCH_RX_CPUMAP (with BENCH_CPU:
# 1 keeps xwg's cpumap on, so decryption may still go to another CPU; 0, the default
# there, keeps it on the pinned CPU), BENCH_STREAMS (1; iperf3 -P: parallel TCP/UDP
# streams), BENCH_FLOW_PORTS (0; FlowPorts = N on both ends of the xwg <-> xwg lab only,
# the xwg peers: each inner flow gets its own outer source port and so its own receive
# CPU, docs/many-cores.md).
set -euo pipefail
cd "$(dirname "$0")/.."
XWG=$PWD/build/xwg
[ -x "$XWG" ] || { echo "build/xwg missing: run bash scripts/build.sh" >&2; exit 1; }
for tool in iperf3 wireguard-go wg ethtool bpftool jq nsenter timeout; do
	command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

T=${BENCH_TIME:-10}
TRIALS=${BENCH_TRIALS:-3}
UDP_RATE=${BENCH_UDP_RATE:-2G}
UDP_SEARCH=${BENCH_UDP_SEARCH:-1}
MODERN=${WGGO_MODERN:-}
if [ -n "$MODERN" ]; then
	MODERN=$(realpath "$MODERN")
	[ -x "$MODERN" ] || { echo "WGGO_MODERN=$MODERN is not an executable" >&2; exit 1; }
	CASES=${BENCH_CASES:-"bare wggo wggom xwg xwg>wggo wggo>xwg"}
else
	echo "modern wireguard-go: missing (set WGGO_MODERN=PATH, e.g. ../shared/tools/wireguard-go-modern); not measured" >&2
	CASES=${BENCH_CASES:-"bare wggo xwg xwg>wggo wggo>xwg"}
fi
PERF=${BENCH_PERF:-0}
WIRE=${BENCH_WIRE:-0}
ONE_CPU=${BENCH_CPU:-}
STREAMS=${BENCH_STREAMS:-1}
FLOW_PORTS=${BENCH_FLOW_PORTS:-0}
PIN=()
XWG_ENV=()
if [ -n "$ONE_CPU" ]; then
	PIN=(taskset -c "$ONE_CPU")
	[ "${BENCH_RX_CPUMAP:-0}" = 1 ] || XWG_ENV=(env XWG_RX_CPUMAP=0)
fi
IDLE_WAIT=${BENCH_IDLE_WAIT:-30}
UDP_LEN=1380

id=$$
s=$((id % 100000))
work=$(mktemp -d /tmp/tunnel_bench.XXXXXX)
LABS="bare wggo xwg mixed"
[ -n "$MODERN" ] && LABS="$LABS modern"
declare -A NS_A NS_B U_A U_B IF_A IF_B KIND_A KIND_B SRV_PID WG_PIDS
k=0
for lab in $LABS; do
	k=$((k + 1))
	NS_A[$lab]=xtb${k}a$id
	NS_B[$lab]=xtb${k}b$id
	U_A[$lab]=tu${k}a$s
	U_B[$lab]=tu${k}b$s
	IF_A[$lab]=tx${k}a$s
	IF_B[$lab]=tw${k}b$s
done
KIND_A=([bare]=none [wggo]=wggo [xwg]=xwg [mixed]=xwg [modern]=wggom)
KIND_B=([bare]=none [wggo]=wggo [xwg]=xwg [mixed]=wggo [modern]=wggom)
OLD_BPF_STATS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	set +e
	sysctl -qw kernel.bpf_stats_enabled="$OLD_BPF_STATS"
	for lab in $LABS; do
		[ -n "${SRV_PID[$lab]:-}" ] && kill "${SRV_PID[$lab]}" 2>/dev/null
		[ "${KIND_A[$lab]}" = xwg ] && timeout 10 nsenter --net=/run/netns/${NS_A[$lab]} "$XWG" down "${IF_A[$lab]}" >/dev/null 2>&1
		[ "${KIND_B[$lab]}" = xwg ] && timeout 10 nsenter --net=/run/netns/${NS_B[$lab]} "$XWG" down "${IF_B[$lab]}" >/dev/null 2>&1
		for p in ${WG_PIDS[$lab]:-}; do kill "$p" 2>/dev/null; done
	done
	for lab in $LABS; do
		for p in ${WG_PIDS[$lab]:-} ${SRV_PID[$lab]:-}; do timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null; done
		ip netns del "${NS_A[$lab]}" 2>/dev/null
		ip netns del "${NS_B[$lab]}" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then mkdir -p "$BENCH_KEEP" && cp -r "$work"/. "$BENCH_KEEP"/; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }
log() { printf '%s\n' "$*" >&2; }

# --- labs -------------------------------------------------------------------------

underlay() { # lab mtu
	local lab=$1 mtu=$2 a=${NS_A[$1]} b=${NS_B[$1]}
	ip netns add "$a"
	ip netns add "$b"
	ip link add "${U_A[$lab]}" netns "$a" type veth peer name "${U_B[$lab]}" netns "$b"
	in_ns "$a" ip addr add 192.0.2.1/24 dev "${U_A[$lab]}"
	in_ns "$b" ip addr add 192.0.2.2/24 dev "${U_B[$lab]}"
	for side in a b; do
		local ns dev
		if [ $side = a ]; then ns=$a dev=${U_A[$lab]}; else ns=$b dev=${U_B[$lab]}; fi
		in_ns "$ns" ip link set lo up
		in_ns "$ns" ip link set "$dev" mtu "$mtu" up
		if [ "$WIRE" = 1 ] && [ "$lab" != bare ]; then
			in_ns "$ns" ethtool -K "$dev" tso off gso off gro on >/dev/null
		fi
	done
}

xwg_end() { # lab side key peer_pub my_ip peer_ip
	local lab=$1 side=$2 key=$3 pub=$4 me=$5 peer=$6 ns dev ifn
	if [ "$side" = a ]; then ns=${NS_A[$lab]} dev=${U_A[$lab]} ifn=${IF_A[$lab]}; else ns=${NS_B[$lab]} dev=${U_B[$lab]} ifn=${IF_B[$lab]}; fi
	cat >"$work/$ifn.conf" <<-CONF
	[Interface]
	PrivateKey = $key
	ListenPort = 51820
	Address = 198.51.100.$me/24
	Underlay = $dev

	[Peer]
	PublicKey = $pub
	Endpoint = 192.0.2.$peer:51820
	AllowedIPs = 198.51.100.$peer/32
	CONF
	if [ "$FLOW_PORTS" != 0 ] && [ "$lab" = xwg ]; then
		echo "FlowPorts = $FLOW_PORTS" >>"$work/$ifn.conf"
	fi
	timeout 30 nsenter --net=/run/netns/"$ns" ${PIN[@]+"${PIN[@]}"} ${XWG_ENV[@]+"${XWG_ENV[@]}"} "$XWG" up "$work/$ifn.conf"
}

wggo_end() { # lab side key peer_pub my_ip peer_ip
	local lab=$1 side=$2 key=$3 pub=$4 me=$5 peer=$6 ns ifn
	if [ "$side" = a ]; then ns=${NS_A[$lab]} ifn=${IF_A[$lab]}; else ns=${NS_B[$lab]} ifn=${IF_B[$lab]}; fi
	echo "$key" >"$work/$ifn.key"
	WG_PROCESS_FOREGROUND=1 nsenter --net=/run/netns/"$ns" ${PIN[@]+"${PIN[@]}"} "${WGBIN:-wireguard-go}" -f "$ifn" >"$work/$ifn.log" 2>&1 &
	WG_PIDS[$lab]="${WG_PIDS[$lab]:-} $!"
	for _ in $(seq 100); do [ -S /var/run/wireguard/$ifn.sock ] && break; sleep 0.1; done
	[ -S /var/run/wireguard/$ifn.sock ] || { log "wireguard-go $ifn did not start"; cat "$work/$ifn.log" >&2; return 1; }
	in_ns "$ns" wg set "$ifn" private-key "$work/$ifn.key" listen-port 51820 \
		peer "$pub" endpoint 192.0.2.$peer:51820 allowed-ips 198.51.100.$peer/32
	in_ns "$ns" ip addr add 198.51.100.$me/24 dev "$ifn"
	in_ns "$ns" ip link set "$ifn" mtu 1420 up
}

# The modern build, started exactly like Debian's.
wggom_end() { WGBIN=$MODERN wggo_end "$@"; }

setup_lab() {
	local lab=$1
	if [ "$lab" = bare ]; then
		underlay "$lab" 1420
		for x in "${NS_A[$lab]}:${U_A[$lab]}" "${NS_B[$lab]}:${U_B[$lab]}"; do
			in_ns "${x%%:*}" ethtool -K "${x#*:}" tso off gso off gro off sg off tx off >/dev/null 2>&1
		done
		DST[$lab]=192.0.2.2
		return
	fi
	underlay "$lab" 1500
	local ka kb pa pb
	ka=$("$XWG" genkey); kb=$("$XWG" genkey)
	pa=$(echo "$ka" | "$XWG" pubkey); pb=$(echo "$kb" | "$XWG" pubkey)
	"${KIND_A[$lab]}_end" "$lab" a "$ka" "$pb" 1 2
	"${KIND_B[$lab]}_end" "$lab" b "$kb" "$pa" 2 1
	DST[$lab]=198.51.100.2
}

declare -A DST
for lab in $LABS; do
	setup_lab "$lab"
	nsenter --net=/run/netns/"${NS_B[$lab]}" ${PIN[@]+"${PIN[@]}"} iperf3 -s -B "${DST[$lab]}" -p 5201 >"$work/iperf3-$lab.log" 2>&1 &
	SRV_PID[$lab]=$!
	ok=0
	for _ in $(seq 50); do
		if in_ns "${NS_A[$lab]}" ping -c 1 -W 1 "${DST[$lab]}" >/dev/null 2>&1; then ok=1; break; fi
		sleep 0.2
	done
	[ $ok = 1 ] || { log "lab $lab: no ping to ${DST[$lab]}"; exit 1; }
done
log "labs up: $LABS (ns *$id)"
# The id of the xwg_rx_cpumap program behind an interface's pinned rx_cpumap (it runs
# from the cpumap, so bpftool net does not list it); nothing when decryption is inline.
cpumap_prog() {
	local hex
	# the value is struct bpf_cpumap_val without BTF: bytes 4..7 are the program id (LE)
	hex=$(bpftool map lookup pinned "/sys/fs/bpf/xwg/$1/rx_cpumap" key 0 0 0 0 -j 2>/dev/null |
		jq -r '.value[4:8] | map(ltrimstr("0x")) | reverse | join("")' 2>/dev/null)
	[ -n "$hex" ] && [ "$hex" != 00000000 ] && echo $((16#$hex))
	true
}
# which namespace each xwg program runs in: "id side" (a = iperf3 client, b = server)
for lab in $LABS; do
	for side in a b; do
		if [ $side = a ]; then ns=${NS_A[$lab]}; else ns=${NS_B[$lab]}; fi
		in_ns "$ns" bpftool net show -j 2>/dev/null | jq -r --arg s "$side" '.[] | (.xdp[]?, .tc[]?) | "\(.id) \($s)"' 2>/dev/null
	done
	[ "${KIND_A[$lab]}" = xwg ] && id=$(cpumap_prog "${IF_A[$lab]}") && [ -n "$id" ] && echo "$id a"
	[ "${KIND_B[$lab]}" = xwg ] && id=$(cpumap_prog "${IF_B[$lab]}") && [ -n "$id" ] && echo "$id b"
	true
done | sort -u >"$work/progside"

# --- measurement helpers ---------------------------------------------------------

lab_of() { case $1 in bare|wggo|xwg) echo "$1";; wggom) echo modern;; *) echo mixed;; esac; }
dir_flag() { [ "$1" = "wggo>xwg" ] && echo -R || true; }

# "user nice system idle iowait irq softirq steal" summed over all CPUs, and per CPU busy
cpu_snap() { grep '^cpu' /proc/stat; }
# cpu_delta FILE_BEFORE FILE_AFTER -> "busy% usr% sys% soft% cpu0busy% cpu1busy%..." (% of all CPUs)
cpu_delta() {
	awk 'NR==FNR { for (i = 2; i <= 9; i++) b[$1, i] = $i; next }
	{
		t = 0; for (i = 2; i <= 9; i++) { d[i] = $i - b[$1, i]; t += d[i] }
		if (t <= 0) t = 1
		busy = t - d[5] - d[6]
		if ($1 == "cpu") { tot = sprintf("%.0f %.0f %.0f %.0f", 100*busy/t, 100*(d[2]+d[3])/t, 100*d[4]/t, 100*(d[7]+d[8])/t) }
		else per = per sprintf(" %.0f", 100*busy/t)
	}
	END { print tot per }' "$1" "$2"
}

# This host is shared: before each run, wait (up to BENCH_IDLE_WAIT s) for a second in
# which the CPUs are <= 10% busy; print the busy % of the last such second ("bg").
wait_quiet() {
	local end=$((SECONDS + IDLE_WAIT)) bg
	while :; do
		cpu_snap >"$work/q0"; sleep 1; cpu_snap >"$work/q1"
		bg=$(cpu_delta "$work/q0" "$work/q1" | awk '{ print $1 }')
		[ "$bg" -le 10 ] || [ $SECONDS -ge $end ] && break
	done
	echo "$bg"
}

# xwg program ids of a lab: "id" per line, from bpftool net in both namespaces
xwg_progs() {
	local lab=$1 ns
	for ns in "${NS_A[$lab]}" "${NS_B[$lab]}"; do
		in_ns "$ns" bpftool net show -j 2>/dev/null |
			jq -r '.[] | (.xdp[]?, .tc[]?) | .id' 2>/dev/null
	done | sort -un
	[ "${KIND_A[$lab]}" = xwg ] && cpumap_prog "${IF_A[$lab]}"
	[ "${KIND_B[$lab]}" = xwg ] && cpumap_prog "${IF_B[$lab]}"
	true
}
# "id name run_time_ns run_cnt" for the given ids
bpf_snap() {
	local ids=$1
	[ -n "$ids" ] || return 0
	bpftool prog show -j | jq -r --argjson ids "[$(echo $ids | tr ' ' ',')]" \
		'.[] | select(.id as $i | $ids | index($i)) | "\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# run_iperf CASE PROTO RATE SECONDS -> prints raw JSON file path; records cpu/bpf deltas
run_iperf() {
	local cs=$1 proto=$2 rate=$3 secs=$4 tag=$5 lab ids out
	lab=$(lab_of "$cs")
	ids=$(xwg_progs "$lab" | tr '\n' ' ')
	out="$work/$tag.json"
	local args=(-c "${DST[$lab]}" -p 5201 -t "$secs" -J -P "$STREAMS" $(dir_flag "$cs"))
	if [ "$proto" = udp ]; then args+=(-u -l $UDP_LEN -b "$rate"); else args+=(-O 1); fi
	wait_quiet >"$work/$tag.bg"
	bpf_snap "$ids" >"$work/$tag.bpf0"
	cpu_snap >"$work/$tag.cpu0"
	in_ns "${NS_A[$lab]}" timeout $((secs + 30)) ${PIN[@]+"${PIN[@]}"} iperf3 "${args[@]}" >"$out" 2>"$work/$tag.err" || true
	cpu_snap >"$work/$tag.cpu1"
	bpf_snap "$ids" >"$work/$tag.bpf1"
	cpu_delta "$work/$tag.cpu0" "$work/$tag.cpu1" >"$work/$tag.cpu"
	echo "$out"
}

# tcp_result JSON -> "Mbit/s retransmits"
tcp_result() {
	jq -r 'if .error then "0 err" else
		"\(.end.sum_received.bits_per_second / 1e6 | floor) \(.end.sum_sent.retransmits // 0)" end' "$1" 2>/dev/null || echo "0 err"
}
# udp_result JSON -> "received-Mbit/s loss% sent-Mbit/s"  (receiver's view, as reported back
# to the client; "sent" is what the sender managed to offer, which can be below -b)
udp_result() {
	jq -r 'if .error then "0 100 0" else
		"\(.end.sum_received.bits_per_second / 1e6 | floor) \(.end.sum_received.lost_percent * 100 | floor / 100) \(.end.sum_sent.bits_per_second / 1e6 | floor)" end' "$1" 2>/dev/null || echo "0 100 0"
}

sysctl -qw kernel.bpf_stats_enabled=1

# --- trials ------------------------------------------------------------------------

results="$work/results"   # case proto trial mbit retr|loss sent busy usr sys soft cpu0 cpu1 bg
: >"$results"
for trial in $(seq "$TRIALS"); do
	for cs in $CASES; do
		for proto in tcp udp; do
			tag="t${trial}_${cs/>/2}_$proto"
			f=$(run_iperf "$cs" "$proto" "$UDP_RATE" "$T" "$tag")
			if [ "$proto" = tcp ]; then r=$(tcp_result "$f"); else r=$(udp_result "$f"); fi
			read -r r1 r2 r3 <<<"$r"
			echo "$cs $proto $trial $r1 $r2 ${r3:--} $(cat "$work/$tag.cpu") $(cat "$work/$tag.bg")" >>"$results"
			log "trial $trial $cs $proto: $r  cpu: $(cat "$work/$tag.cpu")  bg before: $(cat "$work/$tag.bg")%"
		done
	done
done

# --- UDP: highest offered rate with <= 1% loss ---------------------------------------
declare -A UDP_OK
if [ "$UDP_SEARCH" = 1 ]; then
	for cs in $CASES; do
		# start at the median received rate under the fixed load, then bisect
		r0=$(awk -v c="$cs" '$1 == c && $2 == "udp" { print $4 }' "$results" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }')
		[ "$r0" -gt 0 ] || r0=100
		lo=0 hi=$((r0 * 3 / 2)) best="" rate=$r0
		for step in 1 2 3 4 5 6; do
			tag="s_${cs/>/2}_$step"
			f=$(run_iperf "$cs" udp "${rate}M" 5 "$tag")
			read -r got loss _ < <(udp_result "$f")
			log "udp search $cs: offered ${rate}M -> ${got} Mbit/s, loss ${loss}%"
			if awk -v l="$loss" 'BEGIN { exit !(l <= 1.0) }'; then
				lo=$rate best="$rate $got $loss"
			else
				hi=$rate
			fi
			[ $((hi - lo)) -le $((hi / 20 + 5)) ] && break
			if [ "$lo" = 0 ] && [ "$step" = 1 ]; then rate=$((r0 / 2)); else rate=$(((lo + hi) / 2)); fi
		done
		UDP_OK[$cs]=${best:-"<$rate - -"}
	done
fi

# --- table ---------------------------------------------------------------------------

stats() { # case proto field -> "min med max"
	awk -v c="$1" -v p="$2" -v f="$3" '$1 == c && $2 == p { print $f }' "$results" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print "- - -"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%d %d %d\n", v[1], m, v[NR] }'
}
med() { stats "$1" "$2" "$3" | awk '{ print $2 }'; }

echo
echo "xwg tunnel bench $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, kernel $(uname -r), $TRIALS trial(s) x ${T}s, UDP ${UDP_LEN}-B datagrams"
echo "build: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- bpf loader include 2>/dev/null || echo ' + uncommitted bpf/loader changes'), build/xwg of $(date -u -r "$XWG" +%Y-%m-%dT%H:%MZ)"
echo "underlay: $([ "$WIRE" = 1 ] && echo "like a wire (BENCH_WIRE=1: TSO/GSO off, GRO on; GSO datagrams are cut to the MTU before they cross)" || echo "veth defaults (a UDP GSO datagram crosses whole, 64 KB at a time; BENCH_WIRE=1 cuts it as a link would)")"
[ "$STREAMS" != 1 ] && echo "iperf3 -P $STREAMS: $STREAMS parallel streams per run (BENCH_STREAMS)"
[ "$FLOW_PORTS" != 0 ] && echo "xwg <-> xwg with FlowPorts = $FLOW_PORTS on both ends (BENCH_FLOW_PORTS)"
if [ -n "$ONE_CPU" ]; then
	echo "pinned (BENCH_CPU=$ONE_CPU): every process of the labs under taskset -c $ONE_CPU, $([ ${#XWG_ENV[@]} -gt 0 ] && echo "xwg with XWG_RX_CPUMAP=0: one CPU" || echo "xwg's cpumap on (BENCH_RX_CPUMAP=1): decryption may run on another CPU")"
fi
echo "TCP and UDP Mbit/s: min/median/max over trials. UDP@$UDP_RATE = receiver's rate at offered $UDP_RATE, with loss."
echo "UDP sent = median rate the sender managed to offer (xwg encrypts in the sender's syscall, so it can fall short of -b $UDP_RATE)."
echo "cpu% = median busy % of all $(nproc) CPUs during the run (usr+sys / softirq+irq), per-CPU busy in brackets."
echo "bg = highest busy % of the host in the 1 s before a run of the case (the bench waits up to ${IDLE_WAIT}s for <= 10%);"
echo "     a high bg means another workload shared the CPUs and the figures of that case are low."
echo "UDP<=1% = highest offered rate (Mbit/s) found with <= 1% loss in 5-s runs, and the rate received there."
echo
printf '%-9s | %-15s %5s %-18s | %-15s %5s %5s %-18s | %-9s | %s\n' case "TCP min/med/max" retr "cpu% (usr+sys/si)" "UDP rx m/m/m" sent "loss%" "cpu% (usr+sys/si)" "UDP<=1% off/rx" bg%
for cs in $CASES; do
	tcp=$(stats "$cs" tcp 4 | tr ' ' /)
	retr=$(med "$cs" tcp 5)
	udp=$(stats "$cs" udp 4 | tr ' ' /)
	loss=$(awk -v c="$cs" '$1 == c && $2 == "udp" { print $5 }' "$results" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	ctcp="$(med "$cs" tcp 7) ($(med "$cs" tcp 8)+$(med "$cs" tcp 9)/$(med "$cs" tcp 10)) [$(med "$cs" tcp 11)/$(med "$cs" tcp 12)]"
	cudp="$(med "$cs" udp 7) ($(med "$cs" udp 8)+$(med "$cs" udp 9)/$(med "$cs" udp 10)) [$(med "$cs" udp 11)/$(med "$cs" udp 12)]"
	sent=$(med "$cs" udp 6)
	uok=${UDP_OK[$cs]:-"- - -"}
	read -r uoff urx _ <<<"$uok"
	bg=$(awk -v c="$cs" '$1 == c && $13 > m { m = $13 } END { print m + 0 }' "$results")
	printf '%-9s | %-15s %5s %-18s | %-15s %5s %5s %-18s | %-9s | %s\n' "$cs" "$tcp" "$retr" "$ctcp" "$udp" "$sent" "$loss" "$cudp" "$uoff/$urx" "$bg"
done

echo
echo "every run: case proto trial Mbit/s retr|loss% sent busy% usr% sys% si% cpu0% cpu1% bg%"
sed 's/^/  /' "$results"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "ratios of medians (TCP, UDP@$UDP_RATE rx):"
for pair in "xwg wggo" "xwg wggom" "wggom wggo" "xwg bare" "wggom bare" "wggo bare" "xwg>wggo wggo" "wggo>xwg wggo"; do
	set -- $pair
	case " $CASES " in *" $1 "*) ;; *) continue;; esac
	case " $CASES " in *" $2 "*) ;; *) continue;; esac
	printf '  %-16s TCP %5s   UDP %5s\n' "$1/$2" "$(ratio "$(med "$1" tcp 4)" "$(med "$2" tcp 4)")" "$(ratio "$(med "$1" udp 4)" "$(med "$2" udp 4)")"
done

# Work per bit: TCP Mbit/s per % of one CPU busy (busy% of the host x CPUs), medians.
echo
echo "TCP Mbit/s per CPU% (one CPU fully busy = 100%; higher is cheaper):"
declare -A PER_CPU
for cs in $CASES; do
	PER_CPU[$cs]=$(awk -v m="$(med "$cs" tcp 4)" -v b="$(med "$cs" tcp 7)" -v n="$(nproc)" \
		'BEGIN { if (b + 0 > 0) printf "%.2f", m / (b * n); else print "-" }')
	printf '  %-9s %s\n' "$cs" "${PER_CPU[$cs]}"
done

# The goals of issue 16, against modern wireguard-go, from this run.
if [ -n "$MODERN" ]; then
	goal() { # label value target
		awk -v l="$1" -v v="$2" -v t="$3" 'BEGIN { if (v == "-") printf "  %-40s %6s  (goal >= %s): -\n", l, v, t;
			else printf "  %-40s %6s  (goal >= %s): %s\n", l, v, t, (v + 0 >= t ? "met" : "not met") }'
	}
	echo
	echo "goals (issue 16), this run:"
	goal "xwg / modern wireguard-go, TCP" "$(ratio "$(med xwg tcp 4)" "$(med wggom tcp 4)")" 1.5
	goal "xwg / modern wireguard-go, UDP" "$(ratio "$(med xwg udp 4)" "$(med wggom udp 4)")" 3
	goal "CPU per bit, TCP: xwg vs modern" "$(ratio "${PER_CPU[xwg]:--}" "${PER_CPU[wggom]:--}")" 1.5
	goal "xwg / bare veth, TCP" "$(ratio "$(med xwg tcp 4)" "$(med bare tcp 4)")" 0.3
fi

# BPF run time per program, summed over every run of the case (trials and UDP search)
echo
echo "xwg BPF programs (kernel.bpf_stats_enabled=1): run_cnt and average run_time_ns per run, summed over all runs of a case"
printf '  %-9s %-5s %-6s %-9s %-10s %12s %10s\n' case proto prog_id name where run_cnt ns/run
for cs in $CASES; do
	[ "$(lab_of "$cs")" = bare ] && continue
	[ "$(lab_of "$cs")" = wggo ] && continue
	[ "$(lab_of "$cs")" = modern ] && continue
	for proto in tcp udp; do
		for b0 in "$work"/t*_"${cs/>/2}"_$proto.bpf0 "$work"/s_"${cs/>/2}"_*.bpf0; do
			[ -e "$b0" ] || continue
			case $proto:$b0 in udp:*/s_*) ;; tcp:*/s_*) continue;; esac
			join <(sort "$b0") <(sort "${b0%0}1")
		done | awk -v c="$cs" -v p="$proto" 'NR == FNR { side[$1] = ($2 == "a") ? "client ns" : "server ns"; next }
			{ n[$1] = $2; t[$1] += $6 - $3; r[$1] += $7 - $4 }
			END { for (i in n) if (r[i] > 0) printf "  %-9s %-5s %-6s %-9s %-10s %12d %10.0f\n", c, p, i, n[i], side[i], r[i], t[i] / r[i] }' "$work/progside" - | sort -k3n
	done
done

# --- optional profile of one xwg<->xwg TCP run ---------------------------------------
if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
	echo
	echo "perf: one xwg<->xwg TCP run (${T}s), system-wide, 999 Hz"
	lab=xwg
	in_ns "${NS_A[$lab]}" timeout $((T + 30)) ${PIN[@]+"${PIN[@]}"} iperf3 -c "${DST[$lab]}" -p 5201 -t "$T" -J >"$work/perf-iperf.json" 2>&1 &
	ip=$!
	sleep 1
	timeout $((T + 30)) perf record -a -g -F 999 -o "$work/perf.data" -- sleep $((T - 2)) >/dev/null 2>&1 || true
	wait "$ip" || true
	echo "  TCP during profile: $(tcp_result "$work/perf-iperf.json" | awk '{ print $1 }') Mbit/s"
	rep() { perf report -i "$work/perf.data" --no-children -g none --stdio "$@" 2>/dev/null | grep -E '^ +[0-9.]+%'; }
	echo "  top symbols (self, % of all samples on both CPUs; idle included):"
	rep --sort sym --percent-limit 1 | head -25 | sed 's/^/  /'
	echo "  share of samples: BPF programs (all bpf_prog_*), idle, the rest"
	rep --sort sym --percent-limit 0 | awk '{ p = $1 + 0 }
		/bpf_prog_[0-9a-f]+_/ { b += p; n = $NF; sub(/^bpf_prog_[0-9a-f]+_/, "", n); by[n] += p; next }
		/safe_halt|cpuidle|poll_idle|default_idle|intel_idle|acpi_idle/ { i += p; next } { o += p }
		END { printf "    bpf %.1f%%  idle %.1f%%  other %.1f%%\n", b, i, o
			for (k in by) printf "      %-24s %5.1f%%\n", k, by[k] | "sort -k2 -nr" }'
	echo "  by CPU, and by command on each (softirq work is charged to whatever task was running;"
	echo "  commands other than iperf3/ksoftirqd/swapper are other work on this host):"
	rep --sort cpu,comm --percent-limit 2 | sed 's/^/  /'
fi
