#!/usr/bin/env bash
# demo.sh — the main job: a live xwg tunnel between two network namespaces.
#
# Installs what is missing, builds, then: namespace "a" runs xwg (XDP decrypt, TC
# encrypt), namespace "b" runs the stock wireguard-go configured with wg. Pings across
# the tunnel both ways (IPv4 and IPv6 overlay), moves 20 MB over TCP with a checksum,
# prints `xwg show` and a bpftool view of a pinned map, and tears everything down.
# Touches nothing outside its namespaces; addresses are documentation ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
XWG=$PWD/build/xwg

id=$$
A=xwgdemoA$id B=xwgdemoB$id
IF_A=xdemo$((id % 100000)) IF_B=wgdemo$((id % 100000))
UA=xda$((id % 100000)) UB=xdb$((id % 100000))
work=$(mktemp -d)
cleanup() {
	set +e
	nsenter --net=/run/netns/$A "$XWG" down "$IF_A" >/dev/null 2>&1
	if [ -n "${WGGO_PID:-}" ]; then
		kill "$WGGO_PID" 2>/dev/null
		wait "$WGGO_PID" 2>/dev/null
	fi
	rm -f "/var/run/wireguard/$IF_B.sock"
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
in_a() { nsenter --net=/run/netns/$A "$@"; }
in_b() { nsenter --net=/run/netns/$B "$@"; }

say "two namespaces joined by a veth underlay (192.0.2.0/24, 2001:db8::/64)"
ip netns add "$A"
ip netns add "$B"
ip link add "$UA" netns "$A" type veth peer name "$UB" netns "$B"
in_a ip addr add 192.0.2.1/24 dev "$UA"
in_a ip addr add 2001:db8::1/64 dev "$UA" nodad
in_a ip link set "$UA" up
in_a ip link set lo up
in_b ip addr add 192.0.2.2/24 dev "$UB"
in_b ip addr add 2001:db8::2/64 dev "$UB" nodad
in_b ip link set "$UB" up
in_b ip link set lo up

key_a=$("$XWG" genkey)
key_b=$("$XWG" genkey)
pub_a=$(echo "$key_a" | "$XWG" pubkey)
pub_b=$(echo "$key_b" | "$XWG" pubkey)

say "namespace a: xwg up $IF_A.conf"
cat >"$work/$IF_A.conf" <<CONF
[Interface]
PrivateKey = $key_a
ListenPort = 51820
Address = 198.51.100.1/24, fd00:77::1/64
Underlay = $UA

[Peer]
PublicKey = $pub_b
Endpoint = 192.0.2.2:51820
AllowedIPs = 198.51.100.2/32, fd00:77::2/128
CONF
in_a "$XWG" up "$work/$IF_A.conf"

say "namespace b: wireguard-go $IF_B, configured with wg"
echo "$key_b" >"$work/b.key"
# nsenter execs wireguard-go, so $! is wireguard-go itself (the cleanup kills it)
WG_PROCESS_FOREGROUND=1 nsenter --net=/run/netns/$B wireguard-go -f "$IF_B" >"$work/wggo.log" 2>&1 &
WGGO_PID=$!
for _ in $(seq 50); do [ -S /var/run/wireguard/$IF_B.sock ] && break; sleep 0.1; done
in_b wg set "$IF_B" private-key "$work/b.key" listen-port 51820 \
	peer "$pub_a" endpoint 192.0.2.1:51820 allowed-ips 198.51.100.1/32,fd00:77::1/128
in_b ip addr add 198.51.100.2/24 dev "$IF_B"
in_b ip addr add fd00:77::2/64 dev "$IF_B" nodad
in_b ip link set "$IF_B" mtu 1420 up

say "ping across the tunnel, both directions, IPv4 and IPv6 overlay"
in_a ping -c 3 -i 0.2 -W 2 198.51.100.2
in_b ping -c 3 -i 0.2 -W 2 198.51.100.1
in_a ping -6 -c 3 -i 0.2 -W 2 fd00:77::2
in_b ping -6 -c 3 -i 0.2 -W 2 fd00:77::1

say "20 MB over TCP from a to b, checksummed on both ends"
head -c 20000000 /dev/urandom >"$work/payload"
sent=$(sha256sum <"$work/payload" | cut -d' ' -f1)
in_b timeout 60 socat -u TCP-LISTEN:5201,bind=198.51.100.2,reuseaddr - | sha256sum >"$work/received" &
rx=$!
sleep 0.5
start=$(date +%s%N)
in_a timeout 60 socat -u "FILE:$work/payload" TCP:198.51.100.2:5201
wait $rx
ms=$(( ($(date +%s%N) - start) / 1000000 ))
got=$(cut -d' ' -f1 <"$work/received")
echo "20000000 bytes in ${ms} ms ($(( 160000 / (ms + 1) )) Mbit/s); sha256 sent ${sent:0:16}... received ${got:0:16}..."
[ "$got" = "$sent" ] || { echo "checksum mismatch"; exit 1; }

say "xwg show $IF_A"
in_a "$XWG" show "$IF_A"
say "wg show $IF_B (wireguard-go's view)"
in_b wg show "$IF_B"
say "bpftool map lookup pinned /sys/fs/bpf/xwg/$IF_A/peer_stats key 0 (peer 0, per CPU)"
bpftool map lookup pinned "/sys/fs/bpf/xwg/$IF_A/peer_stats" key 0 0 0 0
say "bpftool net (namespace a)"
in_a bpftool net

say "xwg down $IF_A"
in_a "$XWG" down "$IF_A"
echo "demo complete"
