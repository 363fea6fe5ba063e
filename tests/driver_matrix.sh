#!/usr/bin/env bash
# driver_matrix.sh BUILD_DIR [XWG] — xwg on a real NIC driver: Debian's 6.1 and 6.12 kernels under
# qemu (scripts/kernels.sh -n: two virtio-net NICs eth0/eth1 on a qemu hub), eth0 and eth1
# in two namespaces, xwg on eth0 against the kernel's own WireGuard on eth1 (and against a
# second xwg). tests/driver_guest.sh runs the cases inside each guest:
#   a  native XDP at underlay MTU 1500 (the default path)
#   b  ReceivePath = tc (the TC-ingress fallback, forced)
#   c  underlay MTU 9000 / tunnel MTU 8920, default ReceivePath (auto): above virtio_net's
#      limit for single-buffer XDP, so auto must pick native XDP where the driver takes
#      xwg's multi-buffer program at that MTU (probed: 6.12 does), else TC (6.1), never
#      generic XDP; full-size DF pings at 8920
#   d  xwg <-> xwg, IPv6 endpoints, native XDP on both NICs
#   e  xwg <-> kernel wg, IPv6 endpoints, ReceivePath = tc
# each with handshake, pings, full-size DF pings, 2 MB TCP each way (sha256), no
# auth_failed drops, the receive path (what the kernel has attached, which must be what
# `xwg show --json` reports and what carried the traffic), and a clean dmesg.
# Prints a verdict table per kernel per case. Fails loudly when qemu, the kernels or a
# tool the guest needs cannot be had.
#
# XWG defaults to BUILD_DIR/xwg; BUILD_DIR/bpf/xwg_tun.bpf.o is loaded in the guests (the
# native-XDP probe of case c).
# Env: DRIVER_CASES="a b c d e" (subset to run), DRIVER_SMP=2 (guest CPUs; 1 avoids the
# TCG code-patching hazard described in driver_guest.sh, at some speed),
# DRIVER_KERNELS='6.1.*' (kernels.sh -k globs, space-separated), DRIVER_TIMEOUT=480
# (seconds per guest, boot included).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: driver_matrix.sh BUILD_DIR [XWG]" >&2; exit 2; }
build=$(cd "$1" && pwd)
xwg=${2:-$build/xwg}
here=$(cd "$(dirname "$0")" && pwd)
cases=${DRIVER_CASES:-a b c d e}
smp=${DRIVER_SMP:-2}
limit=${DRIVER_TIMEOUT:-480}
die() { echo "driver_matrix: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (qemu initramfs, kernels.sh)"
[ -x "$xwg" ] || die "no $xwg (build the xwg target)"
obj=$build/bpf/xwg_tun.bpf.o
[ -f "$obj" ] || die "no $obj (build the bpf target)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86 is missing (scripts/deps.sh installs it)"
# Host binaries copied into the guest: the stock wg (for the kernel's WireGuard and
# latest-handshakes) and iputils ping (busybox ping has no -M do for DF pings).
wg_bin=$(command -v wg) || die "wg (wireguard-tools) is missing"
ping_bin=""
for p in $(type -ap ping) /usr/bin/ping /bin/ping; do
	[ -x "$p" ] && "$p" -V 2>&1 | grep -q iputils && { ping_bin=$p; break; }
done
[ -n "$ping_bin" ] || die "iputils ping is missing (apt-get install iputils-ping)"
command -v strip >/dev/null || die "strip (binutils) is missing"

work=$(mktemp -d /tmp/xwg-driver.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A stripped copy keeps the initramfs small (the build has debug info).
strip --strip-debug -o "$work/xwg" "$xwg"
cp "$ping_bin" "$work/ping"
cp "$here/driver_guest.sh" "$work/driver_guest.sh"
# kernels.sh wants at least one object to load: the smallest of ours.
cp "$obj" "$work/xwg_tun.o"

kargs=()
for g in ${DRIVER_KERNELS:-}; do kargs+=(-k "$g"); done
# The kernels must be there (kernels.sh fetches them through apt when the cache is empty).
klist=$(bash "$here/../scripts/kernels.sh" -l "${kargs[@]}" 2>&1) || die "kernels.sh -l failed: $klist"
[ -n "$klist" ] || die "no kernels: scripts/kernels.sh -l lists none${DRIVER_KERNELS:+ matching $DRIVER_KERNELS}"

out=$work/log
t0=$(date +%s)
echo "driver_matrix: cases [$cases] on $(echo "$klist" | awk '{print $1}' | tr '\n' ' ')(-n -s $smp, ${limit}s per guest)"
rc=0
bash "$here/../scripts/kernels.sh" -v -n -s "$smp" -t "$limit" "${kargs[@]}" \
	-f "$work/xwg" -f "$wg_bin" -f "$work/ping" -f "$work/driver_guest.sh" \
	-c "DRV_CASES='$cases' DRV_BUDGET=$((limit * 3 / 4)) bash ./driver_guest.sh" "$work/xwg_tun.o" >"$out" 2>&1 || rc=$?
# kernels.sh keeps its run directory (console logs) when something failed.
rundir=$(sed -n 's/^kernels.sh: booting .*; logs in \(.*\)$/\1/p' "$out" | head -n1)
secs=$(($(date +%s) - t0))

# ---- the verdict table: one row per case, one column per kernel
declare -A title=(
	[a]="a: xwg<->kernel wg, native XDP, MTU 1500"
	[b]="b: xwg<->kernel wg, ReceivePath = tc"
	[c]="c: xwg<->kernel wg, MTU 9000/8920, auto"
	[d]="d: xwg<->xwg, IPv6 endpoints, native XDP"
	[e]="e: xwg<->kernel wg, IPv6 endpoints, tc"
)
mapfile -t kernels < <(echo "$klist" | awk '{print $1}')
declare -A cell=()
all_ok=1
for k in "${kernels[@]}"; do
	# The guest's summary lines, from kernels.sh's tail of the test output.
	lines=$(sed -n "/^---- kernel $k: test output tail/,/^[^ ]/p" "$out" | sed -n 's/^    DRV /DRV /p')
	# No summary (crash, timeout): the per-case lines the guest also wrote to the console.
	if [ -z "$lines" ] && [ -n "$rundir" ] && [ -f "$rundir/$k/console.log" ]; then
		lines=$(tr -d '\r' <"$rundir/$k/console.log" | sed -n 's/^.*xwg-driver: DRV /DRV /p')
	fi
	krc=$(grep -E "^kernel $k: test: " "$out" | head -n1 || true)
	[ -n "$krc" ] || krc="kernel $k: test: no result"
	for c in $cases; do
		l=$(echo "$lines" | grep -E "^DRV CASE $c " | head -n1 || true)
		if [ -z "$l" ]; then
			why="no result from the guest (${krc#kernel $k: test: })"
			grep -qE "^kernel $k: .*qemu timed out" "$out" && why="no result (qemu timed out after ${limit}s)"
			cell[$k,$c]="NORESULT|$why"
			all_ok=0
			continue
		fi
		read -r _ _ _ verdict path _ <<<"$l"
		detail=${l#*| }
		nbad=$(echo "$lines" | awk -v c="$c" '$1=="DRV" && $2=="DMESG" && $3==c {print $4}')
		[ -z "$nbad" ] || [ "$nbad" = 0 ] || detail="$detail; dmesg: $nbad bad lines"
		cell[$k,$c]="$verdict|$path|$detail"
		[ "$verdict" = PASS ] || all_ok=0
	done
done

printf '\n%-48s' "case"
for k in "${kernels[@]}"; do printf '  %-30s' "$k"; done
printf '\n'
for c in $cases; do
	printf '%-48s' "${title[$c]:-$c}"
	for k in "${kernels[@]}"; do
		IFS='|' read -r v p _ <<<"${cell[$k,$c]}"
		[ "$v" = NORESULT ] || [ "$p" = - ] && p=""
		printf '  %-30s' "$v${p:+ (${p//_/ })}"
	done
	printf '\n'
done
echo "(receive path as the kernel has it attached on eth0[/eth1]; \"?\": xwg show --json did not report one)"
echo
# Reasons for everything that did not pass, and what the cases probed.
for k in "${kernels[@]}"; do
	for c in $cases; do
		IFS='|' read -r v p d <<<"${cell[$k,$c]}"
		[ "$v" = NORESULT ] && d=$p
		[ "$v" = PASS ] && [ "$d" = ok ] && continue
		echo "  $k case $c: $d"
	done
done
# Notes the guests made (dmesg summary, missing tools, ...).
sed -n 's/^    DRV NOTE /  note: /p' "$out" | sort -u
grep -E '^kernels.sh: .*(guest uname|NOTE|modprobe)' "$out" | sed 's/^/  /' || true
echo "driver_matrix: ${secs}s"
if [ $all_ok = 0 ] || [ $rc != 0 ]; then
	[ -z "$rundir" ] || [ ! -d "$rundir" ] ||
		echo "driver_matrix: each guest's whole output: $rundir/KERNEL/test.log (console.log: the kernel's)"
	echo "---- full log (kernels.sh, guest output tails)"
	cat "$out"
	exit 1
fi
exit 0
