#!/bin/bash
# driver_guest.sh — the guest half of tests/driver_matrix.sh: runs inside a Debian kernel
# booted by scripts/kernels.sh with -n (two virtio-net NICs, eth0 and eth1, joined by a
# qemu hub), so xwg's receive path meets a real driver instead of a veth.
#
#   namespace drv0                     qemu hub                 namespace drv1
#   xwg0 192.0.2.1/24, fd00:77::1/64   eth0 198.51.100.1/24  <->  eth1 198.51.100.2/24
#   (xwg up, Underlay = eth0)               2001:db8::1/64         2001:db8::2/64
#                                                          wg1 (kernel WireGuard) or xwg1
#
# Cases (DRV_CASES, default "a b c d e"):
#   a  xwg <-> kernel WireGuard, underlay MTU 1500: native XDP on virtio_net (the default)
#   b  the same with `ReceivePath = tc` (TC-ingress receive program instead of XDP)
#   c  underlay MTU 9000, tunnel MTU 8920, no ReceivePath line (auto): native XDP only if
#      virtio_net takes a multi-buffer (xdp.frags) program at that MTU, else TC, never
#      generic XDP. Which it is gets probed first (xwg_tun attached natively and removed):
#      6.1 refuses any XDP above MTU 4064; 6.12 refuses single-buffer programs above 3506
#      but takes xdp.frags ones
#   d  xwg <-> xwg, underlay MTU 1500, IPv6 endpoints, native XDP on both NICs
#   e  xwg <-> kernel WireGuard, IPv6 endpoints, `ReceivePath = tc` (TC parses IPv6 too)
# Each case: both ends are configured and every program attached before any traffic; then
# a handshake (wg show latest-handshakes on both ends), pings both ways over the IPv4 and
# IPv6 overlay, full-size DF pings at the tunnel MTU both ways (IPv4 and IPv6), 2 MB of
# TCP each way (busybox nc, sha256 compared), no auth_failed drops in `xwg show --json`,
# the receive path (what the kernel has attached to the underlay must be the expected
# one, be what `xwg show --json` "receive" reports when it has that field, and have run
# for at least 90% of the incoming 2 MB's frames: kernel.bpf_stats_enabled run counts),
# and no WARNING/BUG/Oops/call trace in dmesg.
#
# DRV_BUDGET (seconds, default 400): cases that would start later are not run (reported
# as failed), so the summary comes out before kernels.sh's qemu timeout.
#
# Output: details per case, then a summary block of at most 14 lines that
# tests/driver_matrix.sh parses (it sees the last 20 lines of this script's output):
#   DRV CASE <id> PASS|FAIL <receive path seen> | <detail>
#   DRV DMESG <id> <n bad lines> | <first bad line>
#   DRV NOTE <text>
# Progress and each case's DRV CASE line go to /dev/kmsg too ("xwg-driver: ..."), so a
# console log that ends in a crash or a timeout shows which step was running and what
# had passed (driver_matrix.sh reads them from there when the summary is missing).
#
# Emulator hazard (qemu TCG, several CPUs): patching kernel text while packets flow (static
# keys, the BPF dispatcher, flipped by attaching programs or by the first/last socket
# asking for timestamps) can crash the emulator ("Oops: int3"). So every attach and
# detach happens with the network idle (a pause after each), and one iputils ping on lo
# holds SO_TIMESTAMP for the whole run, so that the timestamp key never flips between the
# short-lived pings.
set -u
export PATH=/job/files:$PATH
CASES=${DRV_CASES:-a b c d e}
BUDGET=${DRV_BUDGET:-400}
T_START=$(date +%s)
W=/tmp/drv
NS0=drv0 NS1=drv1
PORT=51820
mkdir -p $W /run/xwg /var/run/wireguard /run/netns

log() { echo "$*"; }
mark() { echo "<3>xwg-driver: $*" >/dev/kmsg 2>/dev/null; log "== $*"; }
# nsx NS SECS CMD...: CMD inside namespace NS, bounded. CMD goes by its full path:
# busybox's nsenter and timeout run their own applet of a name (ip, ping) in preference
# to PATH, and busybox ip knows no "nodad", busybox ping no "-M do".
nsx() {
	local ns=$1 t=$2 c
	shift 2
	c=$(type -P "$1") || c=$1
	shift
	timeout -k 2 "$t" nsenter --net=/run/netns/"$ns" "$c" "$@"
}
# Run a step: quietly; on failure, its output goes to the log.
step() { local out rc; out=$("$@" 2>&1); rc=$?; [ $rc = 0 ] || log "   failed ($rc): $* -> $(echo "$out" | tail -n 5 | tr '\n' ' ')"; return $rc; }

# ------------------------------------------------------------------ tools
missing=""
for t in xwg wg ping nsenter timeout nc sha256sum ip dmesg netstat mkfifo; do
	command -v $t >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "DRV NOTE missing tools in the guest:$missing"
	for c in $CASES; do echo "DRV CASE $c FAIL - | missing tools:$missing"; done
	exit 1
fi
ping -V 2>&1 | grep -q iputils || log "note: ping is not iputils (no -M do)"
for n in eth0 eth1; do
	ip link show $n >/dev/null 2>&1 || {
		echo "DRV NOTE no $n in the guest (kernels.sh -n missing?)"
		for c in $CASES; do echo "DRV CASE $c FAIL - | no $n"; done
		exit 1
	}
done
log "guest $(uname -r), $(nproc) CPUs, xwg $(xwg --version 2>&1 | head -n1)"

# Boot messages: reported, not held against any case.
dmesg -c >$W/dmesg.boot 2>&1
BAD_RE='WARNING:|(^|[^A-Za-z])BUG[: ]|Oops|[Cc]all [Tt]race|general protection|kernel panic|RIP: '

# Count BPF program runs (a static key too: flipped once, here, before any traffic).
sysctl -qw kernel.bpf_stats_enabled=1 || log "note: cannot enable kernel.bpf_stats_enabled"
# Hold SO_TIMESTAMP (netstamp_needed_key) for the whole run; see the header.
ping -q -i 3600 127.0.0.1 >/dev/null 2>&1 &
HOLD_PID=$!

# ------------------------------------------------------------------ underlay
ip netns add $NS0 && ip netns add $NS1 &&
	ip link set eth0 netns $NS0 && ip link set eth1 netns $NS1 || {
	echo "DRV NOTE could not build the namespaces"
	for c in $CASES; do echo "DRV CASE $c FAIL - | namespaces"; done
	exit 1
}
for i in 0 1; do
	ns=drv$i
	nsx $ns 10 ip link set lo up
	nsx $ns 10 ip addr add 198.51.100.$((i + 1))/24 dev eth$i
	nsx $ns 10 ip -6 addr add 2001:db8::$((i + 1))/64 dev eth$i nodad
	nsx $ns 10 ip link set eth$i up
done
head -c 2000000 /dev/urandom >$W/payload
PAYLOAD_SUM=$(sha256sum <$W/payload | cut -c1-64)
K0=$(wg genkey) K1=$(wg genkey)
P0=$(echo "$K0" | wg pubkey) P1=$(echo "$K1" | wg pubkey)
echo "$K1" >$W/k1
mkfifo $W/hold

ov() { # ov SIDE FAMILY: overlay address
	if [ "$2" = 6 ]; then echo "fd00:77::$(($1 + 1))"; else echo "192.0.2.$(($1 + 1))"; fi
}
ep() { # ep SIDE FAMILY: endpoint
	if [ "$2" = 6 ]; then echo "[2001:db8::$(($1 + 1))]:$PORT"; else echo "198.51.100.$(($1 + 1)):$PORT"; fi
}

# xwg_conf SIDE MTU UNDERLAY_FAMILY EXTRA: an xwg up file for side 0 or 1
xwg_conf() {
	local s=$1 o=$((1 - $1))
	printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s/24, %s/64\nUnderlay = eth%s\nMTU = %s\n%s\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32, %s/128\nEndpoint = %s\n' \
		"$([ $s = 0 ] && echo "$K0" || echo "$K1")" $PORT "$(ov $s 4)" "$(ov $s 6)" $s "$2" "$4" \
		"$([ $s = 0 ] && echo "$P1" || echo "$P0")" "$(ov $o 4)" "$(ov $o 6)" "$(ep $o "$3")"
}

# The receive path xwg reports for an underlay: `xwg show --json` "receive"
# [{"device","path"}] ("xdp native", "xdp generic", "tc", "none"); "" when the field is
# absent (an xwg from before it).
reported_path() { # reported_path NS IF DEV
	nsx "$1" 10 xwg show "$2" --json 2>/dev/null | tr -d '\n' | sed 's/  */ /g' |
		grep -o '"receive": *\[[^]]*\]' | grep -o '{[^}]*}' | grep "\"device\": *\"$3\"" |
		grep -o '"path": *"[^"]*"' | sed 's/.*: *"\(.*\)"/\1/' | head -n1
}

# What the kernel has attached on an underlay, whatever xwg says: "xdp native",
# "xdp generic", "tc" (xwg_rx_tc on TC ingress), "xdp native+tc", ..., or "none".
kernel_path() { # kernel_path NS DEV
	local l p=""
	l=$(nsx "$1" 10 ip -o link show dev "$2" 2>/dev/null)
	case "$l" in
	*" xdpgeneric"*) p="xdp generic" ;;
	*" xdpoffload"*) p="xdp offload" ;;
	*" xdp "* | *" xdpdrv"* | *" xdpmulti"*) p="xdp native" ;;
	esac
	if nsx "$1" 10 tc filter show dev "$2" ingress 2>/dev/null | grep -q 'xwg_rx_tc'; then
		p="${p:+$p+}tc"
	fi
	echo "${p:-none}"
}

# Does the driver take a multi-buffer (xdp.frags) program natively at DEV's MTU right now?
# Probed with xwg_tun (an xdp.frags XDP_PASS program kernels.sh loaded and pinned),
# attached and detached with the network idle.
native_ok() { # native_ok NS DEV
	local r=1
	nsx "$1" 10 bpftool net attach xdpdrv pinned /sys/fs/bpf/xwg_tun/xwg_tun dev "$2" >/dev/null 2>&1 && r=0
	nsx "$1" 10 bpftool net detach xdpdrv dev "$2" >/dev/null 2>&1
	sleep 1
	return $r
}

# check_path NS IF DEV WANT: the kernel's view must be WANT, and xwg's report (when it
# has one) the kernel's view. Prints the path for the summary.
check_path() {
	local k r
	k=$(kernel_path "$1" "$3")
	r=$(reported_path "$1" "$2" "$3")
	if [ -z "$r" ]; then
		log "   note: $2: xwg show --json has no \"receive\" field yet; the kernel has $k on $3"
	elif [ "$r" != "$k" ]; then
		fail "$2: xwg reports receive path '$r' on $3, the kernel has '$k'"
	fi
	[ "$k" = "$4" ] || fail "$2: receive path on $3 is '$k', want '$4'"
	# one word for the summary: "xdp_native", "tc", ...; "?" when xwg did not report it
	local w=${k// /_}
	[ -n "$r" ] || w="$w?"
	PATH_SEEN="$PATH_SEEN${PATH_SEEN:+/}$w"
}

# How many times the receive programs attached on DEV ran (XDP and TC, summed; needs
# kernel.bpf_stats_enabled): shows the path that is attached is the one that carried
# the traffic.
rx_runs() { # rx_runs NS DEV
	local id n=0 c
	for id in $(nsx "$1" 10 bpftool net show dev "$2" 2>/dev/null | grep -o ' id [0-9]*' | awk '{print $2}'); do
		c=$(bpftool prog show id "$id" 2>/dev/null | grep -o 'run_cnt [0-9]*' | awk '{print $2}')
		n=$((n + ${c:-0}))
	done
	echo $n
}

# Drop counters of an xwg interface, "name=n,..." ("" when none).
drops_of() { # drops_of NS IF
	nsx "$1" 10 xwg show "$2" --json 2>/dev/null | tr -d '\n' | sed 's/  */ /g' |
		grep -o '"drops": *{[^}]*}' | sed 's/"drops": *{//; s/}$//; s/[" ]//g'
}

# ping_ok NS FAMILY DST SIZE COUNT [DF]: every echo answered
ping_ok() {
	local ns=$1 fam=$2 dst=$3 size=$4 count=$5 df=${6:-} out
	out=$(nsx "$ns" $((count + 10)) ping -"$fam" -n -q -c "$count" -i 0.2 -w $((count + 5)) -s "$size" ${df:+-M do} "$dst" 2>&1)
	local rc=$?
	log "   ping -$fam ${df:+-M do }-s $size $dst from $ns: rc=$rc $(echo "$out" | grep -E 'transmitted|rror|rong|ntoo' | tr '\n' ' ')"
	return $rc
}

# tcp_ok FROM_NS TO_NS FAMILY DST PORT: 2 MB through busybox nc, sha256 compared
tcp_ok() {
	local from=$1 to=$2 fam=$3 dst=$4 port=$5 got rc t0 t1
	rm -f $W/rx.sum
	# The listener's stdin is a FIFO held open for reading and writing: busybox nc -l
	# quits at EOF on stdin, and a FIFO nobody writes to never gives one.
	nsx "$to" 40 sh -c "exec 0<>$W/hold; nc -l -p $port | sha256sum > $W/rx.sum" 2>/dev/null &
	local rx=$!
	local i=0
	until nsx "$to" 5 netstat -ltn 2>/dev/null | grep -q ":$port "; do
		i=$((i + 1))
		[ $i -lt 50 ] || { log "   nc -l -p $port did not listen in $to"; kill $rx 2>/dev/null; wait $rx 2>/dev/null; return 1; }
		sleep 0.1
	done
	t0=$(date +%s)
	nsx "$from" 30 nc "$dst" "$port" <$W/payload
	rc=$?
	wait $rx 2>/dev/null
	t1=$(date +%s)
	got=$(cut -c1-64 $W/rx.sum 2>/dev/null)
	if [ $rc != 0 ] || [ "$got" != "$PAYLOAD_SUM" ]; then
		log "   TCP $from -> $dst:$port (IPv$fam): sender rc=$rc, sha256 sent $PAYLOAD_SUM received ${got:-nothing}"
		return 1
	fi
	log "   TCP $from -> $dst:$port (IPv$fam): 2 MB intact in $((t1 - t0)) s"
}

# ------------------------------------------------------------------ one case
# run_case ID PEER(wg|xwg) UNDERLAY_MTU TUNNEL_MTU UNDERLAY_FAMILY EXPECTED_PATH CONF_EXTRA
run_case() {
	local id=$1 peer=$2 umtu=$3 tmtu=$4 ufam=$5 want=$6 extra=$7
	local fails="" path0="-" probe=""
	fail() { fails="$fails${fails:+; }$*"; log "   FAIL: $*"; }
	mark "case $id: begin (peer $peer, underlay MTU $umtu, tunnel MTU $tmtu, IPv$ufam endpoints${extra:+, $extra})"

	# --- set up everything, no traffic yet
	nsx $NS0 10 ip link set eth0 mtu "$umtu" && nsx $NS1 10 ip link set eth1 mtu "$umtu" || fail "underlay MTU $umtu refused"
	# "auto": native XDP where the driver takes an xdp.frags program at this MTU, else TC
	# (never generic XDP). Which one it is, the driver says, not a table of versions.
	if [ "$want" = auto ]; then
		if native_ok $NS0 eth0; then want="xdp native" probe="virtio_net takes native XDP (frags) at MTU $umtu"
		else want="tc" probe="virtio_net refuses native XDP at MTU $umtu"; fi
		log "   probe: $probe, so want $want"
	fi
	xwg_conf 0 "$tmtu" "$ufam" "$extra" >$W/xwg0.conf
	local up_ok=1
	if ! out=$(nsx $NS0 60 xwg up $W/xwg0.conf 2>&1); then
		fail "xwg up failed: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		up_ok=0
	fi
	if [ "$peer" = wg ]; then
		step nsx $NS1 10 ip link add wg1 type wireguard &&
			step nsx $NS1 10 wg set wg1 private-key $W/k1 listen-port $PORT peer "$P0" \
				allowed-ips "$(ov 0 4)/32,$(ov 0 6)/128" endpoint "$(ep 0 "$ufam")" &&
			step nsx $NS1 10 ip link set wg1 mtu "$tmtu" &&
			step nsx $NS1 10 ip addr add "$(ov 1 4)/24" dev wg1 &&
			step nsx $NS1 10 ip -6 addr add "$(ov 1 6)/64" dev wg1 nodad &&
			step nsx $NS1 10 ip link set wg1 up || { fail "kernel wg1 setup"; up_ok=0; }
		IF1=wg1
	else
		xwg_conf 1 "$tmtu" "$ufam" "$extra" >$W/xwg1.conf
		if ! out=$(nsx $NS1 60 xwg up $W/xwg1.conf 2>&1); then
			fail "xwg up (side 1) failed: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
			up_ok=0
		fi
		IF1=xwg1
	fi
	sleep 1 # let deferred work from the attaches finish before the first packet

	if [ $up_ok = 1 ]; then
		nsx $NS0 10 xwg show xwg0 | sed 's/^/   | /'
		# --- the receive path: the kernel's view, and xwg's report of it
		PATH_SEEN=""
		check_path $NS0 xwg0 eth0 "$want"
		[ "$peer" = xwg ] && check_path $NS1 xwg1 eth1 "$want"
		path0=$PATH_SEEN

		# --- handshake: the first ping from xwg starts it (its packet is staged)
		mark "case $id: traffic"
		local hs0 hs1 flows=1 # flows: the handshake and the small pings worked
		ping_ok $NS0 4 "$(ov 1 4)" 56 3 || { fail "first ping (handshake) 0 -> 1"; flows=0; }
		hs0=$(nsx $NS0 10 wg show xwg0 latest-handshakes 2>/dev/null | cut -f2)
		hs1=$(nsx $NS1 10 wg show $IF1 latest-handshakes 2>/dev/null | cut -f2)
		log "   latest-handshakes: xwg0 ${hs0:-?}, $IF1 ${hs1:-?}"
		if [ -z "$hs0" ] || [ "$hs0" = 0 ] || [ -z "$hs1" ] || [ "$hs1" = 0 ]; then
			fail "no handshake (latest-handshakes xwg0=${hs0:-?} $IF1=${hs1:-?})"
			flows=0
		else
			# --- pings, both ways, both overlay families, then full size with DF
			for fam in 4 6; do
				ping_ok $NS0 $fam "$(ov 1 $fam)" 56 3 || { fail "ping -$fam 0 -> 1"; flows=0; }
				ping_ok $NS1 $fam "$(ov 0 $fam)" 56 3 || { fail "ping -$fam 1 -> 0"; flows=0; }
			done
		fi
		# (nothing bigger once small pings fail: each step would only wait out its timeout)
		if [ $flows = 1 ]; then
			for fam in 4 6; do
				local size=$((tmtu - (fam == 4 ? 28 : 48)))
				ping_ok $NS0 $fam "$(ov 1 $fam)" $size 3 df || fail "DF ping -$fam -s $size 0 -> 1"
				ping_ok $NS1 $fam "$(ov 0 $fam)" $size 3 df || fail "DF ping -$fam -s $size 1 -> 0"
			done
			# --- TCP each way: IPv4 overlay 0 -> 1, IPv6 overlay 1 -> 0
			tcp_ok $NS0 $NS1 4 "$(ov 1 4)" 5001 || fail "TCP 2 MB 0 -> 1 (IPv4 overlay)"
			tcp_ok $NS1 $NS0 6 "$(ov 0 6)" 5002 || fail "TCP 2 MB 1 -> 0 (IPv6 overlay)"
			# --- the attached receive path carried the traffic: the 2 MB coming in
			# alone are 2 MB / MTU full-size frames (pings and ACKs come on top); 90% of
			# that at least
			local runs side least=$((2000000 / tmtu * 9 / 10))
			for side in 0 $([ "$peer" = xwg ] && echo 1); do
				runs=$(rx_runs drv$side eth$side)
				log "   receive programs on eth$side ran $runs times (want >= $least)"
				[ "$runs" -ge $least ] || fail "receive programs on eth$side ran only $runs times (want >= $least)"
			done
		fi
		# --- drops
		local d0 d1=""
		d0=$(drops_of $NS0 xwg0)
		[ "$peer" = xwg ] && d1=$(drops_of $NS1 xwg1)
		log "   drops: xwg0 ${d0:-none}${d1:+, xwg1 $d1}"
		case ",$d0,$d1," in *,auth_failed=*) fail "auth_failed drops (xwg0: ${d0:-none}${d1:+; xwg1: $d1})" ;; esac
		if [ -n "$fails" ]; then
			nsx $NS1 10 wg show $IF1 | sed 's/^/   | /'
			tail -n 15 /run/xwg/xwg0.log 2>/dev/null | sed 's/^/   xwg0.log| /'
			{ nsx $NS0 10 ip -s -s link show dev eth0; nsx $NS0 10 ip -s link show dev xwg0; } | sed 's/^/   drv0| /'
			{ nsx $NS1 10 ip -s link show dev eth1; nsx $NS1 10 ip -s link show dev $IF1
			  nsx $NS1 10 ip route get "$(ov 0 4)"; nsx $NS1 10 ip route get 198.51.100.1
			  nsx $NS1 10 cat /proc/net/snmp | grep -E '^(Ip|Icmp|Udp):'; } | sed 's/^/   drv1| /'
		fi
	fi

	# --- tear down, network idle
	mark "case $id: teardown"
	sleep 1
	nsx $NS0 30 xwg down xwg0 >/dev/null 2>&1
	if [ "$peer" = wg ]; then nsx $NS1 10 ip link del wg1 2>/dev/null; else nsx $NS1 30 xwg down xwg1 >/dev/null 2>&1; fi
	for f in /run/xwg/xwg0.pid /run/xwg/xwg1.pid; do # a daemon that did not go
		[ -f $f ] && kill -9 "$(cat $f)" 2>/dev/null && log "   killed a leftover daemon ($f)"
	done
	nsx $NS0 10 ip link del xwg0 2>/dev/null
	nsx $NS1 10 ip link del xwg1 2>/dev/null
	rm -rf /sys/fs/bpf/xwg/xwg0 /sys/fs/bpf/xwg/xwg1 /run/xwg/xwg[01].* /var/run/wireguard/xwg[01].sock
	nsx $NS0 10 ip link set eth0 mtu 1500
	nsx $NS1 10 ip link set eth1 mtu 1500
	sleep 1

	# --- the kernel's view of this case
	dmesg -c >$W/dmesg.$id 2>&1
	local nbad
	nbad=$(grep -v 'xwg-driver:' $W/dmesg.$id | grep -cE "$BAD_RE")
	grep -v 'xwg-driver:' $W/dmesg.$id | sed 's/^/   dmesg| /' | tail -n 12
	if [ "$nbad" != 0 ]; then
		fail "dmesg: $nbad WARNING/BUG/Oops/call trace lines"
		grep -v 'xwg-driver:' $W/dmesg.$id | grep -E -m 1 -B 2 -A 8 "$BAD_RE" | sed 's/^/   dmesg!| /'
	fi
	if [ -z "$fails" ]; then
		RESULTS+=("DRV CASE $id PASS $path0 | ok${probe:+ ($probe)}")
	else
		[ ${#fails} -le 400 ] || fails="${fails:0:400}..."
		RESULTS+=("DRV CASE $id FAIL $path0 | $fails${probe:+ ($probe)}")
	fi
	DMESG_RESULTS+=("DRV DMESG $id $nbad | $(grep -v 'xwg-driver:' $W/dmesg.$id | grep -E -m 1 "$BAD_RE" | cut -c1-150)")
	mark "${RESULTS[${#RESULTS[@]} - 1]}"
}

RESULTS=() DMESG_RESULTS=()
for c in $CASES; do
	t0=$(date +%s)
	if [ $((t0 - T_START)) -gt "$BUDGET" ]; then
		RESULTS+=("DRV CASE $c FAIL - | not run: the guest's time budget (${BUDGET}s) is spent")
		mark "${RESULTS[${#RESULTS[@]} - 1]}"
		continue
	fi
	case $c in
	a) run_case a wg 1500 1420 4 "xdp native" "" ;;
	b) run_case b wg 1500 1420 4 "tc" "ReceivePath = tc" ;;
	c) run_case c wg 9000 8920 4 auto "" ;;
	d) run_case d xwg 1500 1420 6 "xdp native" "" ;;
	e) run_case e wg 1500 1420 6 "tc" "ReceivePath = tc" ;;
	*) RESULTS+=("DRV CASE $c FAIL - | unknown case") ;;
	esac
	log "   case $c took $(($(date +%s) - t0)) s"
done
kill $HOLD_PID 2>/dev/null
wait $HOLD_PID 2>/dev/null

# ------------------------------------------------------------------ summary (last lines)
nboot=$(grep -cE "$BAD_RE" $W/dmesg.boot)
echo "---- summary ($(uname -r))"
printf '%s\n' "${RESULTS[@]}"
printf '%s\n' "${DMESG_RESULTS[@]}" | grep -v '^DRV DMESG [a-z]* 0 ' || true
echo "DRV NOTE $(uname -r): boot dmesg: $nboot WARNING/BUG/Oops lines; virtio/xdp messages (all cases): $(grep -hiE 'xdp|virtio' $W/dmesg.* 2>/dev/null | grep -v xwg-driver | sed 's/^\[[^]]*\] //' | sort | uniq -c | sort -rn | head -n 2 | sed 's/^ *//' | tr '\n' ';' | cut -c1-200)"
for r in "${RESULTS[@]}"; do case $r in *" FAIL "*) exit 1 ;; esac; done
exit 0
