#!/usr/bin/env bash
# host.sh — the same reproducer on this machine's own kernel, without qemu: two network
# namespaces joined by a veth pair (gxa<PID> in the sender, gxb<PID> in the receiver), rx.bpf.c
# attached as *generic* XDP on the receiving veth end, tx.bpf.c on the sender's TC egress.
# Runs a few cases (strip+trailer with XDP_PASS, the same without the trailer, redirect into
# a veth with and without an XDP program on its peer end) and prints pat's verdict for each.
# Everything it creates (namespaces, pins under /sys/fs/bpf/gx<PID>*) is removed on exit.
# Usage: host.sh [MB per case, default 20]. Must run as root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mb=${1:-20}
id=$$
NS_S=gxs$id NS_R=gxr$id PIN=/sys/fs/bpf/gx$id
w=$(mktemp -d /tmp/gx$id.XXXX)
cleanup() {
	ip netns del $NS_S 2>/dev/null
	ip netns del $NS_R 2>/dev/null
	rm -rf "$PIN"t "$PIN"tm "$PIN"r "$PIN"rm "$w"
}
trap cleanup EXIT
set -e
inc=/usr/include/$(uname -m)-linux-gnu
clang -O2 -g -target bpf -mcpu=v3 -I"$inc" -c "$here/rx.bpf.c" -o "$w/rx.o"
clang -O2 -g -target bpf -mcpu=v3 -I"$inc" -c "$here/tx.bpf.c" -o "$w/tx.o"
gcc -O2 -static -o "$w/pat" "$here/pat.c"
S() { nsenter --net=/run/netns/$NS_S "$@"; }
R() { nsenter --net=/run/netns/$NS_R "$@"; }
ip netns add $NS_S
ip netns add $NS_R
ip link add gxa$id netns $NS_S type veth peer name gxb$id netns $NS_R
S ip addr add 198.51.100.2/24 dev gxa$id
S ip addr add 192.0.2.2/32 dev lo
S ip link set lo up
S ip link set gxa$id up
S ip route add 192.0.2.1/32 via 198.51.100.1 dev gxa$id mtu 1420 src 192.0.2.2
S ip link set dev gxa$id gso_max_segs 1
R ip addr add 198.51.100.1/24 dev gxb$id
R ip link set lo up
R ip link set gxb$id up
R ip route add 192.0.2.2/32 via 198.51.100.2
R ip link add xwg0 mtu 1420 type veth peer name xwgh mtu 1420
R ip link set xwg0 arp off
R ip link set xwgh arp off
R ip addr add 192.0.2.1/32 dev xwg0
R ip link set xwg0 up
R ip link set xwgh up
bpftool prog loadall "$w/tx.o" "$PIN"t pinmaps "$PIN"tm
bpftool prog loadall "$w/rx.o" "$PIN"r pinmaps "$PIN"rm
S tc qdisc add dev gxa$id clsact
S tc filter add dev gxa$id egress bpf direct-action object-pinned "$PIN"t/tx_egress
R bpftool net attach xdpgeneric pinned "$PIN"r/rx_xdp dev gxb$id
set +e
mac() { R ip -o link show dev "$1" | grep -o 'link/ether [0-9a-f:]*' | awk '{print $2}' | tr : ' '; }
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
IH=$(R ip -o link show dev xwgh | cut -d: -f1)
echo "kernel $(uname -r), generic XDP on a veth end, $mb MB per case"
# case NAME TXFLAGS RXFLAGS PEERPROG: tx.bpf.c / rx.bpf.c flag values (see their headers)
case_() {
	local dmac
	if [ $(($3 & 4)) != 0 ]; then dmac=$(mac xwg0); else dmac=$(mac gxb$id); fi
	if [ "$4" = 1 ]; then
		R ip -o link show dev xwg0 | grep -q prog/xdp || R bpftool net attach xdp pinned "$PIN"r/pass_xdp dev xwg0
	else
		R ip link set dev xwg0 xdp off
	fi
	bpftool map update pinned "$PIN"tm/tcfg key 0 0 0 0 value hex $(le32 $2) c0 00 02 01 c6 33 64 02 c6 33 64 01
	bpftool map update pinned "$PIN"rm/cfg key 0 0 0 0 value hex $(le32 $3) $(le32 $IH) c0 00 02 01 00 00 00 00 $dmac $(mac xwgh)
	timeout 60 nsenter --net=/run/netns/$NS_R "$w/pat" recv 5004 $((mb << 20)) 5 >"$w/out" &
	sleep 0.3
	timeout 60 nsenter --net=/run/netns/$NS_S "$w/pat" send 192.0.2.1 5004 $((mb << 20)) 5
	wait
	printf '%-34s %s\n' "$1" "$(grep '^PAT' "$w/out" | grep -o 'bad_bytes=[0-9]* bad_ranges=[0-9]*') $(grep -m1 '^BAD' "$w/out" | grep -o 'kind=[a-z_]*\( shift=[0-9]*\)\?\|garbage=[0-9a-f]*' | tr '\n' ' ')"
}
case_ "strip+trailer, XDP_PASS" 3 3 1
case_ "strip, no trailer, XDP_PASS" 7 19 1
case_ "strip+trailer, redirect, peer prog" 3 7 1
case_ "strip+trailer, redirect, no peer prog" 3 7 0
case_ "strip, no trailer, redirect, no peer" 7 23 0
