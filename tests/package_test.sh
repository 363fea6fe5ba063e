#!/usr/bin/env bash
# package_test.sh SRC BUILD — the Debian package, end to end, on this machine:
#   1. packaging/build-deb.sh makes xwg_<version>_<arch>.deb; its control file has
#      dpkg-shlibdeps' dependencies (libbpf, libsodium, libb2, libnl) and the project's
#      version, and it holds the binary, both man pages, the unit and the docs;
#   2. `apt-get install ./xwg_*.deb`, then the installed /usr/bin/xwg: --version, man, and
#      a tunnel between two namespaces against wireguard-go with pings both ways, checking
#      that the daemon running it is /usr/bin/xwg;
#   3. `apt-get remove --purge xwg`, always (trap), and nothing that `dpkg -L xwg` listed
#      is left.
# A package named xwg that is installed already, or a file of the package that exists
# before it is installed, fails the test and is left alone: only what this test
# installed is removed. Addresses are documentation ranges inside the namespaces.
set -euo pipefail
src=$1 build=$2
id=$$
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
say() { echo "package_test: $*"; }

[ "$(id -u)" -eq 0 ] || fail "needs root (it installs a package)"
for tool in dpkg-deb dpkg-query dpkg-shlibdeps apt-get man wireguard-go wg nsenter ping ip; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/deps.sh installs it)"
done

# Known to dpkg in any state but "not-installed" (installed, half-installed, or removed
# with its configuration files kept).
installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' xwg 2>/dev/null || true)
	[ -n "$status" ] && [[ $status != *not-installed* ]]
}
if installed; then
	fail "a package named xwg is installed already ($(dpkg-query -W -f='${Status} ${Version}' xwg)); this test does not touch it. If it is a leftover of this test, remove it with: apt-get remove --purge -y xwg"
fi

# 1. The package.
deb=$(bash "$src/packaging/build-deb.sh" "$build") || fail "packaging/build-deb.sh failed"
[ -f "$deb" ] || fail "no package at '$deb'"
version=$("$build/xwg" --version | sed 's/^xwg //')
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "xwg_${version}_${arch}.deb" ] || fail "package file is $(basename "$deb"), expected xwg_${version}_${arch}.deb"
[ "$(dpkg-deb -f "$deb" Package)" = xwg ] || fail "Package is not xwg"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version $(dpkg-deb -f "$deb" Version), expected $version"
depends=$(dpkg-deb -f "$deb" Depends)
say "Depends: $depends"
depends_names=$(sed 's/ ([^)]*)//g; s/, */\n/g' <<<"$depends")
for lib in libbpf1 libsodium23 libb2-1 libnl-3-200 libnl-route-3-200 libc6 libstdc++6; do
	grep -qxF "$lib" <<<"$depends_names" || fail "Depends lacks $lib: $depends"
done
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/xwg /usr/lib/cni/xwg-cni /usr/share/man/man8/xwg.8.gz /usr/share/man/man5/xwg.conf.5.gz \
	/usr/lib/systemd/system/xwg@.service /usr/share/doc/xwg/copyright \
	/usr/share/doc/xwg/changelog.Debian.gz /usr/share/doc/xwg/README.md.gz; do
	grep -qxF "$f" <<<"$contents" || fail "the package lacks $f"
done
# Files of the package that exist already would be overwritten, then removed with it.
while read -r f; do
	[ -z "$f" ] || [ "${f: -1}" = / ] || [ ! -e "$f" ] || fail "$f exists already and is not from a package this test installed; not installing over it"
done <<<"$contents"
say "built $deb: $(dpkg-deb -f "$deb" Installed-Size) KiB installed"

# 2. Installed, and always removed again; a tunnel from the installed binary.
A=xwgpkgA$id B=xwgpkgB$id
IF_A=xpkg$((id % 100000)) IF_B=wpkg$((id % 100000))
UA=xpa$((id % 100000)) UB=xpb$((id % 100000))
work=$(mktemp -d /tmp/xwg-package-test.XXXXXX)
we_installed=0
wggo_pid=
cleanup() {
	set +e
	[ -e /run/netns/$A ] && timeout 20 nsenter --net=/run/netns/$A /usr/bin/xwg down "$IF_A" >/dev/null 2>&1
	if [ -n "$wggo_pid" ]; then
		kill "$wggo_pid" 2>/dev/null
		wait "$wggo_pid" 2>/dev/null
	fi
	rm -f "/var/run/wireguard/$IF_B.sock"
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	if [ "$we_installed" = 1 ]; then
		timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y xwg >"$work/remove.log" 2>&1 ||
			{ echo "package_test: apt-get remove --purge xwg failed:"; cat "$work/remove.log"; } >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT

we_installed=1 # from here on the trap removes it, even when the installation fails halfway
# A directory apt's unprivileged downloader may read, apart from the test's keys.
mkdir -m 0755 "$work/deb"
cp "$deb" "$work/deb/"
(cd "$work/deb" && timeout 300 env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "./$(basename "$deb")" >"$work/install.log" 2>&1) ||
	fail "apt-get install ./$(basename "$deb") failed: $(cat "$work/install.log")"
installed || fail "xwg is not installed after apt-get install"
dpkg -L xwg >"$work/files"
say "installed: $(wc -l <"$work/files") paths"

[ "$(/usr/bin/xwg --version)" = "xwg $version" ] || fail "/usr/bin/xwg --version says '$(/usr/bin/xwg --version)'"
[ "$(env -u MANPATH man -w 8 xwg)" = /usr/share/man/man8/xwg.8.gz ] || fail "man -w 8 xwg: $(env -u MANPATH man -w 8 xwg 2>&1)"
[ "$(env -u MANPATH man -w 5 xwg.conf)" = /usr/share/man/man5/xwg.conf.5.gz ] || fail "man -w 5 xwg.conf: $(env -u MANPATH man -w 5 xwg.conf 2>&1)"
env -u MANPATH man -P cat 8 xwg 2>/dev/null | grep -q "^SYNOPSIS" || fail "man xwg does not read"
say "/usr/bin/xwg --version: xwg $version; man xwg and man xwg.conf read"

in_a() { timeout 30 nsenter --net=/run/netns/$A "$@"; }
in_b() { timeout 30 nsenter --net=/run/netns/$B "$@"; }
ip netns add "$A"
ip netns add "$B"
ip link add "$UA" netns "$A" type veth peer name "$UB" netns "$B"
in_a ip addr add 192.0.2.1/24 dev "$UA"
in_a ip link set "$UA" up
in_a ip link set lo up
in_b ip addr add 192.0.2.2/24 dev "$UB"
in_b ip link set "$UB" up
in_b ip link set lo up

key_a=$(/usr/bin/xwg genkey)
key_b=$(/usr/bin/xwg genkey)
pub_a=$(/usr/bin/xwg pubkey <<<"$key_a")
pub_b=$(/usr/bin/xwg pubkey <<<"$key_b")
cat >"$work/$IF_A.conf" <<CONF
[Interface]
PrivateKey = $key_a
ListenPort = 51820
Address = 198.51.100.1/24
Underlay = $UA

[Peer]
PublicKey = $pub_b
Endpoint = 192.0.2.2:51820
AllowedIPs = 198.51.100.2/32
CONF
in_a /usr/bin/xwg up "$work/$IF_A.conf" || fail "/usr/bin/xwg up failed"
pid=$(cat "/run/xwg/$IF_A.pid")
exe=$(readlink "/proc/$pid/exe")
[ "$exe" = /usr/bin/xwg ] || fail "the daemon of $IF_A (pid $pid) runs $exe, not /usr/bin/xwg"
say "$IF_A is up; its daemon (pid $pid) runs $exe"

echo "$key_b" >"$work/b.key"
# nsenter execs wireguard-go, so $! is wireguard-go itself (the cleanup kills it).
WG_PROCESS_FOREGROUND=1 nsenter --net=/run/netns/$B wireguard-go -f "$IF_B" >"$work/wggo.log" 2>&1 &
wggo_pid=$!
for _ in $(seq 50); do [ -S "/var/run/wireguard/$IF_B.sock" ] && break; sleep 0.1; done
[ -S "/var/run/wireguard/$IF_B.sock" ] || fail "wireguard-go did not start: $(cat "$work/wggo.log")"
in_b wg set "$IF_B" private-key "$work/b.key" listen-port 51820 \
	peer "$pub_a" endpoint 192.0.2.1:51820 allowed-ips 198.51.100.1/32
in_b ip addr add 198.51.100.2/24 dev "$IF_B"
in_b ip link set "$IF_B" mtu 1420 up
in_a ping -c 3 -i 0.2 -W 2 198.51.100.2 >"$work/ping" || fail "ping from xwg to wireguard-go: $(cat "$work/ping")"
in_b ping -c 3 -i 0.2 -W 2 198.51.100.1 >"$work/ping" || fail "ping from wireguard-go to xwg: $(cat "$work/ping")"
say "ping across the tunnel both ways: $(grep -o '[0-9]* received' "$work/ping")"
in_a /usr/bin/xwg show "$IF_A" | grep -q "latest handshake" || fail "xwg show names no handshake"
in_a /usr/bin/xwg down "$IF_A" || fail "/usr/bin/xwg down failed"

# 3. Purged: gone from dpkg's database and from the disk. A directory the package listed
# may stay only while other files keep it (/usr/bin, /usr/share/man/man8, ...).
(timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y xwg >"$work/remove.log" 2>&1) ||
	fail "apt-get remove --purge xwg failed: $(cat "$work/remove.log")"
we_installed=0
! installed || fail "xwg is still installed after apt-get remove --purge"
left=0
while read -r f; do
	case $f in /. | "") continue ;; esac
	if [ -d "$f" ] && [ ! -L "$f" ]; then
		[ -n "$(ls -A "$f")" ] || { echo "left behind: empty directory $f" >&2; left=1; }
	elif [ -e "$f" ] || [ -L "$f" ]; then
		echo "left behind: $f" >&2
		left=1
	fi
done <"$work/files"
[ "$left" = 0 ] || fail "the purge left files of the package behind"
[ ! -e /usr/share/doc/xwg ] || fail "/usr/share/doc/xwg is left behind"
say "purged: none of the $(wc -l <"$work/files") paths it listed is left"
