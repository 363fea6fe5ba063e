#!/bin/bash
# guest.sh — the in-guest half of the generic-XDP corruption reproducer (run.sh boots it
# with scripts/kernels.sh -n: two virtio-net NICs eth0/eth1 on a qemu hub).
#
#   ns rx (receiver)                                       ns tx (sender)
#   xwg0 192.0.2.1/32 (veth, XDP_PASS prog)                lo 192.0.2.2/32
#    |  peer xwgh  <-- bpf_redirect --  eth0 198.51.100.1  <-hub->  eth1 198.51.100.2
#                                       rx.bpf.c (XDP)              tx.bpf.c (TC egress)
# Data: pat send 192.0.2.2 -> 192.0.2.1 (route via 198.51.100.1, MTU 1420, no GSO on eth1),
# tx.bpf.c encapsulates (outer IPv4/UDP 51820 + 16-byte header + 16-byte trailer) and/or
# swaps payload word halves; rx.bpf.c undoes it, strips, rewrites Ethernet and redirects
# into xwgh (so the stack gets it on xwg0) or XDP_PASSes it on eth0. ACKs return plain
# over eth0/eth1. pat recv checks every byte.
#
# Env VARIANTS: variants separated by ';', each a list of key=value (defaults in brackets):
#   name=        label
#   xdp=         generic | native | none            [generic]
#   prog=        rx_xdp | rx_frags (xdp.frags)      [rx_xdp]
#   mtu=         eth0/eth1 MTU                      [9000]
#   encap=       1: sender encapsulates, receiver strips; 0: plain TCP   [1]
#   xform=       1: payload transform on both sides [1]
#   act=         redir (into the veth) | pass       [redir]
#   rxcsum=      on | off | - (ethtool -K eth0 rx)  [-]
#   tail=        with encap: 1 trailer + bpf_xdp_adjust_tail, 0 neither      [1]
#   ptrail=      without encap: 1 sender appends the trailer to the plain frame and
#                the receiver trims it with bpf_xdp_adjust_tail                 [0]
#   peerprog=    1: XDP_PASS program on xwg0 (the veth end the redirect lands on);
#                0: none (generic redirect into a veth does not need it)    [1]
#   corrupt=     N: receiver flips a payload byte in 1 of N data frames, no csum fix [0]
#   rounds=, mb= rounds per variant, MB per round   [$ROUNDS, $MB]
# Output: per round "PAT ..." and "BAD ..." lines (pat.c), per variant nstat deltas, BPF
# counters, dmesg, then a summary block, one "REPRO ..." line per variant.
# Exit 0 when every byte of every round was right, 1 when some were not (so kernels.sh
# keeps the full log), 2 on a setup error.
set -u
export PATH=/job/files:$PATH
ROUNDS=${ROUNDS:-3} MB=${MB:-8}
BUDGET=${BUDGET:-100000}
T0=$(date +%s)
F=/job/files
NSR=rx NST=tx
log() { echo "$*"; }
kmsg() { echo "<6>repro: $*" >/dev/kmsg 2>/dev/null; }
nsx() { # nsx NS CMD...
	local ns=$1 c
	shift
	c=$(type -P "$1") || c=$1
	shift
	nsenter --net=/run/netns/"$ns" "$c" "$@"
}
die() { log "SETUP ERROR: $*"; exit 2; }

for t in pat ethtool nstat bpftool ip tc nsenter timeout; do
	command -v $t >/dev/null || die "missing $t"
done
log "guest $(uname -r), $(nproc) CPUs"
dmesg -c >/tmp/dmesg.boot 2>&1
BAD_RE='WARNING:|(^|[^A-Za-z])BUG[: ]|Oops|[Cc]all [Tt]race|general protection|kernel panic|RIP: |bad page|page_pool'

# ---------------------------------------------------------------- programs
RXO=$(ls /job/objs/rx.o) TXO=$(ls /job/objs/tx.o) || die "objects"
bpftool prog loadall $RXO /sys/fs/bpf/r pinmaps /sys/fs/bpf/rm || die "load rx"
bpftool prog loadall $TXO /sys/fs/bpf/t pinmaps /sys/fs/bpf/tm || die "load tx"

# ---------------------------------------------------------------- namespaces
mkdir -p /run/netns
ip netns add $NSR && ip netns add $NST || die "netns"
ip link set eth0 netns $NSR && ip link set eth1 netns $NST || die "move NICs"
# A dummy with a generic XDP program for the whole run holds generic_xdp_needed_key, so
# variants do not flip that static key (TCG code patching hazard).
ip link add hold0 type dummy && ip link set hold0 up &&
	bpftool net attach xdpgeneric pinned /sys/fs/bpf/r/pass_xdp dev hold0 || log "note: no hold0"
for ns in $NSR $NST; do
	nsx $ns ip link set lo up
	nsx $ns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
nsx $NSR ip addr add 198.51.100.1/24 dev eth0
nsx $NSR ip link set eth0 up
nsx $NSR ip link add xwg0 mtu 1420 type veth peer name xwgh mtu 1420
for d in xwg0 xwgh; do
	nsx $NSR ip link set $d arp off addrgenmode none
	nsx $NSR sysctl -qw net.ipv4.conf.$d.rp_filter=0
done
nsx $NSR ip addr add 192.0.2.1/32 dev xwg0
nsx $NSR ip link set xwg0 up
nsx $NSR ip link set xwgh up
nsx $NSR ip route add 192.0.2.2/32 via 198.51.100.2 dev eth0
nsx $NSR sysctl -qw net.ipv4.conf.eth0.rp_filter=0
nsx $NSR bpftool net attach xdp pinned /sys/fs/bpf/r/pass_xdp dev xwg0 || die "XDP_PASS on xwg0"

nsx $NST ip addr add 198.51.100.2/24 dev eth1
nsx $NST ip addr add 192.0.2.2/32 dev lo
nsx $NST ip link set eth1 up
nsx $NST ip route add 192.0.2.1/32 via 198.51.100.1 dev eth1 mtu 1420 src 192.0.2.2
nsx $NST sysctl -qw net.ipv4.conf.eth1.rp_filter=0
nsx $NST ethtool -K eth1 gso off tso off gro off >/dev/null 2>&1
# TCP uses software GSO whatever the features say: one segment per skb needs gso_max_segs 1
nsx $NST ip link set dev eth1 gso_max_segs 1 || log "note: cannot set gso_max_segs on eth1"
nsx $NST tc qdisc add dev eth1 clsact || die "clsact"
nsx $NST tc filter add dev eth1 egress bpf direct-action object-pinned /sys/fs/bpf/t/tx_egress || die "tc attach"

mac_of() { nsx $1 ip -o link show dev $2 | grep -o 'link/ether [0-9a-f:]*' | awk '{print $2}'; }
idx_of() { nsx $1 ip -o link show dev $2 | awk -F: '{print $1}'; }
hexmac() { echo "$1" | tr ':' ' '; }
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
MAC_ETH0=$(mac_of $NSR eth0) MAC_XWG0=$(mac_of $NSR xwg0) MAC_XWGH=$(mac_of $NSR xwgh)
IDX_XWGH=$(idx_of $NSR xwgh)
IN_DADDR="c0 00 02 01" OUT_S="c6 33 64 02" OUT_D="c6 33 64 01"
log "eth0 features: $(nsx $NSR ethtool -k eth0 | grep -E '^(rx-checksumming|tx-checksumming|scatter-gather|generic-receive-offload|tcp-segmentation-offload|rx-gro-hw|large-receive-offload):' | tr -s ' \n' ' ')"
log "eth1 features: $(nsx $NST ethtool -k eth1 | grep -E '^(tx-checksumming|scatter-gather|generic-segmentation-offload|tcp-segmentation-offload):' | tr -s ' \n' ' ')"
log "eth0 driver: $(nsx $NSR ethtool -i eth0 | tr '\n' ' ')"
nsx $NSR ip link set eth0 mtu 9000 && nsx $NST ip link set eth1 mtu 9000 || die "mtu 9000"

NSTAT_KEYS='TcpInCsumErrors|TcpInErrs|TcpInSegs|TcpRetransSegs|UdpInCsumErrors|IpInHdrErrors|IpInDiscards|TcpExtTCPOFOQueue|TcpExtTCPOFODrop|TcpExtTCPRcvCoalesce|TcpExtTCPBacklogCoalesce|TcpExtTCPRcvQDrop|TcpExtTCPZeroWindowDrop|TcpExtTCPDSACKRecv|TcpExtTCPDSACKOfoRecv|TcpExtTCPHPHits|TcpExtTCPPureAcks|TcpExtTCPSpuriousRTOs'
nstat_abs() { nsx $1 nstat -a -s -z 2>/dev/null | awk 'NR>1 {print $1, $2}'; }
nstat_delta() { # nstat_delta BEFORE AFTER -> "name=delta ..." for the keys that changed
	awk -v keys="^($NSTAT_KEYS)\$" 'NR==FNR {b[$1]=$2; next} $1 ~ keys && $2 - b[$1] != 0 {printf "%s=%d ", $1, $2 - b[$1]}' "$1" "$2"
}
counters() { # counters MAPDIR MAP NAMES...
	local d=$1 m=$2 i=0 out="" v
	shift 2
	for n in "$@"; do
		v=$(bpftool map lookup pinned /sys/fs/bpf/$d/$m key $(le32 $i) 2>/dev/null | tr -d ' \n' | grep -o '"value":[0-9]*' | cut -d: -f2)
		[ -n "$v" ] && [ "$v" != 0 ] && out="$out$n=$v "
		bpftool map update pinned /sys/fs/bpf/$d/$m key $(le32 $i) value hex 00 00 00 00 00 00 00 00 2>/dev/null
		i=$((i + 1))
	done
	echo "$out"
}
detach_all() {
	nsx $NSR ip link set dev eth0 xdpgeneric off 2>/dev/null
	nsx $NSR ip link set dev eth0 xdpdrv off 2>/dev/null
}

SUMMARY=()
ANY_BAD=0
run_variant() {
	local name=v xdp=generic prog=rx_xdp mtu=9000 encap=1 xform=1 act=redir rxcsum=- corrupt=0
	local tail=1 ptrail=0 peerprog=1
	local rounds=$ROUNDS mb=$MB kv
	for kv in "$@"; do
		case $kv in
		name=* | xdp=* | prog=* | mtu=* | encap=* | xform=* | act=* | rxcsum=* | corrupt=* | rounds=* | mb=* | tail=* | ptrail=* | peerprog=*) eval "${kv%%=*}=\${kv#*=}" ;;
		*) log "unknown key $kv"; return ;;
		esac
	done
	if [ $(($(date +%s) - T0)) -gt "$BUDGET" ]; then
		SUMMARY+=("REPRO $name SKIPPED (budget)")
		return
	fi
	local desc="xdp=$xdp/$prog mtu=$mtu encap=$encap tail=$tail ptrail=$ptrail xform=$xform act=$act peerprog=$peerprog rxcsum=$rxcsum corrupt=$corrupt"
	log "=== variant $name: $desc rounds=$rounds mb=$mb"
	kmsg "variant $name"
	detach_all
	sleep 1
	nsx $NSR ip link set eth0 mtu $mtu && nsx $NST ip link set eth1 mtu $mtu || { SUMMARY+=("REPRO $name SETUP_FAIL mtu"); return; }
	if [ "$rxcsum" != - ]; then
		nsx $NSR ethtool -K eth0 rx $rxcsum 2>&1 | head -n 2
		log "eth0 rx-checksumming now: $(nsx $NSR ethtool -k eth0 | grep '^rx-checksumming')"
	fi
	# sender config: flags (1 xform, 2 encap), inner daddr, outer saddr, daddr
	local tf=$(( (xform ? 1 : 0) | (encap ? 2 : 0) | (encap && !tail ? 4 : 0) | (!encap && ptrail ? 8 : 0) )) rf dmac smac
	bpftool map update pinned /sys/fs/bpf/tm/tcfg key 0 0 0 0 value hex $(le32 $tf) $IN_DADDR $OUT_S $OUT_D || { SUMMARY+=("REPRO $name SETUP_FAIL tcfg"); return; }
	local actf=0
	[ $act = redir ] && actf=4
	rf=$(( (xform ? 1 : 0) | (encap ? 2 : 0) | actf | (corrupt > 0 ? 8 : 0) | (encap && !tail ? 16 : 0) | (!encap && ptrail ? 32 : 0) ))
	# the veth end the redirect lands on: XDP_PASS program or none (attached while idle)
	if [ "$peerprog" = 1 ]; then
		nsx $NSR ip -o link show dev xwg0 | grep -q 'prog/xdp' ||
			nsx $NSR bpftool net attach xdp pinned /sys/fs/bpf/r/pass_xdp dev xwg0
	else
		nsx $NSR ip link set dev xwg0 xdp off
	fi
	log "xwg0: $(nsx $NSR ip -o link show dev xwg0 | grep -o 'prog/xdp id [0-9]*' || echo 'no XDP program'); xwgh: $(nsx $NSR ethtool -k xwgh | grep -E '^tcp-segmentation-offload:')"
	if [ $act = redir ]; then dmac=$MAC_XWG0 smac=$MAC_XWGH; else dmac=$MAC_ETH0 smac=$MAC_XWGH; fi
	bpftool map update pinned /sys/fs/bpf/rm/cfg key 0 0 0 0 value hex $(le32 $rf) $(le32 $IDX_XWGH) $IN_DADDR $(le32 $corrupt) $(hexmac $dmac) $(hexmac $smac) ||
		{ SUMMARY+=("REPRO $name SETUP_FAIL cfg"); return; }
	case $xdp in
	generic) nsx $NSR bpftool net attach xdpgeneric pinned /sys/fs/bpf/r/$prog dev eth0 ;;
	native) nsx $NSR bpftool net attach xdpdrv pinned /sys/fs/bpf/r/$prog dev eth0 ;;
	none) [ $encap = 0 ] && [ $xform = 0 ] || { SUMMARY+=("REPRO $name SETUP_FAIL xdp=none needs encap=0 xform=0"); return; } ;;
	esac || { SUMMARY+=("REPRO $name SETUP_FAIL attach $xdp (mtu $mtu)"); log "attach failed"; return; }
	log "eth0: $(nsx $NSR ip -o link show dev eth0 | grep -o 'mtu [0-9]*\|xdp[a-z]*\|prog/xdp id [0-9]*' | tr '\n' ' ')"
	counters rm counters x x x x x x x x x x >/dev/null
	counters tm tcounters x x x x x >/dev/null
	sleep 2
	local before=/tmp/nstat.b.$name after=/tmp/nstat.a.$name r out rc bad_rounds=0 bad_bytes=0 bad_ranges=0 short=0 mbits=""
	nstat_abs $NSR >$before
	dmesg -c >/dev/null
	for r in $(seq 1 $rounds); do
		local round=$(( (r + ${#SUMMARY[@]} * 16) % 250 + 1 )) bytes=$((mb * 1048576))
		timeout -k 2 120 nsenter --net=/run/netns/$NSR $F/pat recv 5001 $bytes $round >/tmp/recv.out 2>&1 &
		local rp=$!
		sleep 0.5
		timeout -k 2 110 nsenter --net=/run/netns/$NST $F/pat send 192.0.2.1 5001 $bytes $round >/tmp/send.out 2>&1
		wait $rp
		rc=$?
		head -n 8 /tmp/recv.out | grep '^BAD' | sed "s/^/  r$r /"
		out=$(grep '^PAT' /tmp/recv.out)
		log "  r$r rc=$rc $out $(tr '\n' ' ' </tmp/send.out)"
		local bb=$(echo "$out" | grep -o 'bad_bytes=[0-9]*' | cut -d= -f2)
		local br=$(echo "$out" | grep -o 'bad_ranges=[0-9]*' | cut -d= -f2)
		local got=$(echo "$out" | grep -o ' bytes=[0-9]*' | cut -d= -f2)
		mbits="$mbits$(echo "$out" | grep -o 'mbit=[0-9.]*' | cut -d= -f2) "
		[ "${got:-0}" = "$bytes" ] || short=$((short + 1))
		if [ "${bb:-0}" != 0 ]; then
			bad_rounds=$((bad_rounds + 1))
			bad_bytes=$((bad_bytes + bb))
			bad_ranges=$((bad_ranges + br))
		fi
		# a BAD line's kinds, for the summary
		grep -o 'kind=[a-z_]*\( shift=[0-9]*\)\?' /tmp/recv.out | tr ' ' ',' >>/tmp/kinds.$name
	done
	nstat_abs $NSR >$after
	local nd=$(nstat_delta $before $after)
	local rc_=$(counters rm counters seen ours xformed stripped redirected passed corrupted err nonlinear tailed)
	local tc_=$(counters tm tcounters seen ours encap err gso)
	local dm=$(dmesg -c 2>/dev/null)
	local ndm=$(echo "$dm" | grep -cE "$BAD_RE")
	log "  nstat(rx ns): $nd"
	log "  rx prog: $rc_"
	log "  tx prog: $tc_"
	[ "$ndm" -gt 0 ] && { log "  dmesg ($ndm bad lines):"; echo "$dm" | grep -E "$BAD_RE" | head -n 5 | sed 's/^/    /'; }
	local kinds=$(sort /tmp/kinds.$name 2>/dev/null | uniq -c | awk '{printf "%s:%s ", $2, $1}' | sed 's/kind=//g')
	local csum=$(echo "$nd" | grep -o 'TcpInCsumErrors=[0-9]*' | cut -d= -f2)
	SUMMARY+=("REPRO $name k=$(uname -r | cut -d- -f1) cpus=$(nproc) $desc: bad_rounds=$bad_rounds/$rounds bad_bytes=$bad_bytes ranges=$bad_ranges short=$short csumerr=${csum:-0} dmesg=$ndm mbit=[${mbits% }] ${kinds:+kinds=$kinds}")
	[ $bad_rounds -gt 0 ] || [ $short -gt 0 ] && ANY_BAD=1
	detach_all
	sleep 1
}

IFS=';' read -r -a VS <<<"${VARIANTS:-name=gen9000}"
for v in "${VS[@]}"; do
	[ -n "${v// /}" ] || continue
	run_variant $v
done
log "---- summary ($(uname -r), $(nproc) CPUs, $(($(date +%s) - T0)) s)"
for s in "${SUMMARY[@]}"; do log "$s"; done
exit $ANY_BAD
