#!/usr/bin/env bash
# cni_bench.sh — pod to pod across two nodes, iperf3 TCP and UDP, in one run, three ways:
#   fast    xwg on both nodes, pods chained through xwg-cni (encrypt at the pod's veth,
#           decrypt straight into it)
#   routed  xwg on both nodes, pods on the bridge only: routing via the tunnel device
#   wggo    wireguard-go on both nodes with routes to the other node's pod CIDR
# Each lab: two node namespaces joined by a veth underlay (192.0.2.0/24), a cni0 bridge
# per node from containernetworking-plugins (bridge + host-local, "mtu": 1420 like the
# tunnel), one pod per node (198.51.100.0/25 and 198.51.100.128/25). The plugins are run
# the way libcni chains them (name and cniVersion injected, prevResult handed on). Trials
# interleave the labs (this host is shared: interleaving spreads the noise). UDP is sent
# at a fixed offered load with 1372-byte datagrams; the receiver's rate and loss count.
#
# Needs root, iperf3, wireguard-go, wg, jq, containernetworking-plugins and a built
# build/xwg and build/xwg-cni. Knobs: BENCH_TIME (10), BENCH_TRIALS (3), BENCH_UDP_RATE
# (1G), BENCH_LABS ("fast routed wggo").
set -euo pipefail
cd "$(dirname "$0")/.."
XWG=$PWD/build/xwg
CNI=$PWD/build/xwg-cni
for f in "$XWG" "$CNI" /usr/lib/cni/bridge /usr/lib/cni/host-local; do
	[ -x "$f" ] || { echo "missing: $f (build, or scripts/deps.sh)" >&2; exit 1; }
done
for tool in iperf3 wireguard-go wg jq nsenter timeout; do
	command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

T=${BENCH_TIME:-10}
TRIALS=${BENCH_TRIALS:-3}
UDP_RATE=${BENCH_UDP_RATE:-1G}
LABS=${BENCH_LABS:-"fast routed wggo"}
id=$$
s=$((id % 10000))
work=$(mktemp -d /tmp/cni_bench.XXXXXX)
mkdir -p "$work/bin"
ln -s /usr/lib/cni/bridge /usr/lib/cni/host-local "$work/bin/"
ln -s "$CNI" "$work/bin/xwg-cni"

k=0
declare -A NODE POD UL IFN
for lab in $LABS; do
	k=$((k + 1))
	for side in a b; do
		NODE[$lab$side]=xcb$k$side$id
		POD[$lab$side]=xcp$k$side$id
		UL[$lab$side]=cu$k$side$s
		IFN[$lab$side]=cx$k$side$s
	done
done

cleanup() {
	set +e
	for lab in $LABS; do
		for side in a b; do
			nsenter --net=/run/netns/${NODE[$lab$side]} "$XWG" down ${IFN[$lab$side]} >/dev/null 2>&1
			[ -f "$work/$lab$side.wgpid" ] && kill "$(cat "$work/$lab$side.wgpid")" 2>/dev/null
			rm -f /var/run/wireguard/${IFN[$lab$side]}.sock
			ip netns del ${POD[$lab$side]} 2>/dev/null
			ip netns del ${NODE[$lab$side]} 2>/dev/null
		done
	done
	for f in "$work"/*.iperf.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

in_ns() { local ns=$1; shift; nsenter --net=/run/netns/$ns "$@"; }

# cni_add LAB SIDE: the node's conflist, plugin by plugin, for its one pod.
cni_add() {
	local lab=$1 side=$2 subnet plugins prev='null' conf out
	subnet=$([ $side = a ] && echo 198.51.100.0/25 || echo 198.51.100.128/25)
	plugins=$(jq -nc --arg subnet "$subnet" --arg dir "$work/ipam-$lab$side" '[{type:"bridge",
		bridge:"cni0", isGateway:true, ipMasq:false, mtu:1420, ipam:{type:"host-local",
		subnet:$subnet, dataDir:$dir, routes:[{dst:"0.0.0.0/0"}]}}]')
	[ $lab = fast ] && plugins=$(echo "$plugins" | jq -c --arg i ${IFN[$lab$side]} '. + [{type:"xwg-cni", interface:$i}]')
	ip netns add ${POD[$lab$side]}
	for i in $(seq 0 $(($(echo "$plugins" | jq length) - 1))); do
		conf=$(echo "$plugins" | jq -c --argjson prev "$prev" ".[$i] + {name:\"podnet\", cniVersion:\"1.0.0\"}
			+ (if \$prev == null then {} else {prevResult:\$prev} end)")
		out=$(echo "$conf" | CNI_COMMAND=ADD CNI_CONTAINERID=${POD[$lab$side]} \
			CNI_NETNS=/run/netns/${POD[$lab$side]} CNI_IFNAME=eth0 CNI_PATH=$work/bin \
			nsenter --net=/run/netns/${NODE[$lab$side]} "$work/bin/$(echo "$conf" | jq -r .type)" \
			2>>"$work/plugins.log") || { echo "ADD failed: $out" >&2; exit 1; }
		prev=$out
	done
}

key_a=$(wg genkey); key_b=$(wg genkey)
pub_a=$(echo "$key_a" | wg pubkey); pub_b=$(echo "$key_b" | wg pubkey)
for lab in $LABS; do
	for side in a b; do ip netns add ${NODE[$lab$side]}; in_ns ${NODE[$lab$side]} ip link set lo up; done
	ip link add ${UL[${lab}a]} netns ${NODE[${lab}a]} type veth peer name ${UL[${lab}b]} netns ${NODE[${lab}b]}
	for side in a b; do
		n=${NODE[$lab$side]}; other=$([ $side = a ] && echo b || echo a)
		me=$([ $side = a ] && echo 1 || echo 2); peer=$([ $side = a ] && echo 2 || echo 1)
		key=$([ $side = a ] && echo "$key_a" || echo "$key_b")
		pub=$([ $side = a ] && echo "$pub_b" || echo "$pub_a")
		cidr=$([ $side = a ] && echo 198.51.100.128/25 || echo 198.51.100.0/25)
		in_ns $n ip addr add 192.0.2.$me/24 dev ${UL[$lab$side]}
		in_ns $n ip link set ${UL[$lab$side]} up
		if [ $lab = wggo ]; then
			WG_PROCESS_FOREGROUND=1 in_ns $n wireguard-go -f ${IFN[$lab$side]} >"$work/$lab$side.wglog" 2>&1 &
			echo $! >"$work/$lab$side.wgpid"
			for _ in $(seq 50); do [ -S /var/run/wireguard/${IFN[$lab$side]}.sock ] && break; sleep 0.1; done
			echo "$key" >"$work/$lab$side.key"
			in_ns $n wg set ${IFN[$lab$side]} private-key "$work/$lab$side.key" listen-port 51820 \
				peer "$pub" allowed-ips $cidr endpoint 192.0.2.$peer:51820
			in_ns $n ip link set ${IFN[$lab$side]} mtu 1420 up
			in_ns $n ip route add $cidr dev ${IFN[$lab$side]}
		else
			printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 203.0.113.%s/32\nUnderlay = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\nEndpoint = 192.0.2.%s:51820\n' \
				"$key" $me ${UL[$lab$side]} "$pub" $cidr $peer >"$work/${IFN[$lab$side]}.conf"
			in_ns $n "$XWG" up "$work/${IFN[$lab$side]}.conf" >/dev/null
		fi
	done
	cni_add $lab a
	cni_add $lab b
	timeout 20 sh -c "until nsenter --net=/run/netns/${POD[${lab}a]} ping -c1 -W1 198.51.100.130 >/dev/null; do sleep 0.2; done"
done

# run LAB tcp|udp: prints Mbit/s (UDP: received) and, for UDP, the loss in %.
run() {
	local lab=$1 mode=$2 out
	in_ns ${POD[${lab}b]} iperf3 -s -D -1 -I "$work/$lab.iperf.pid" >/dev/null 2>&1 || true
	sleep 0.3
	if [ $mode = tcp ]; then
		out=$(in_ns ${POD[${lab}a]} iperf3 -J -t $T -c 198.51.100.130) || { echo "n/a"; return; }
		echo "$out" | jq -r 'if .error then "n/a" else (.end.sum_received.bits_per_second / 1e6 | floor | tostring) end'
	else
		out=$(in_ns ${POD[${lab}a]} iperf3 -J -u -b $UDP_RATE -l 1372 -t $T -c 198.51.100.130) || { echo "n/a"; return; }
		echo "$out" | jq -r 'if .error or .end.sum.lost_percent == null then "n/a" else
			((.end.sum.bits_per_second * (1 - .end.sum.lost_percent / 100)) / 1e6 | floor | tostring)
			+ " (" + (.end.sum.lost_percent | floor | tostring) + "% lost)" end'
	fi
}

declare -A RES
for trial in $(seq $TRIALS); do
	for lab in $LABS; do
		for mode in tcp udp; do
			r=$(run $lab $mode)
			RES[$lab$mode]+="$r; "
			echo "trial $trial $lab $mode: $r" >&2
		done
	done
done

# median "A; B (x% lost); C; ": the middle of the leading numbers.
median() {
	echo "$1" | tr ';' '\n' | awk 'NF && $1 ~ /^[0-9]+$/ {print $1}' | sort -n |
		awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "n/a"}'
}

echo
echo "| path (pod to pod across nodes) | TCP Mbit/s, median | UDP Mbit/s received, median | TCP trials | UDP trials ($UDP_RATE offered) |"
echo "|---|---|---|---|---|"
for lab in $LABS; do
	name=$([ $lab = fast ] && echo "xwg-cni fast path" || ([ $lab = routed ] && echo "routing via xwg0" || echo "Debian wireguard-go 0.0.20220316 + routes"))
	echo "| $name | $(median "${RES[${lab}tcp]}") | $(median "${RES[${lab}udp]}") | ${RES[${lab}tcp]%; } | ${RES[${lab}udp]%; } |"
done
# Packets the tunnel devices carried (the normal path) over the whole run, node a.
for lab in $LABS; do
	[ $lab = wggo ] && continue
	echo "$lab: xwg device on node a, packets rx/tx: $(in_ns ${NODE[${lab}a]} ip -s -j link show ${IFN[${lab}a]} |
		jq -r '.[0].stats64 | "\(.rx.packets)/\(.tx.packets)"')"
done
