#!/usr/bin/env bash
# run.sh — generic-XDP payload-corruption reproducer (project issue 18), no crypto.
# Builds rx.bpf.c, tx.bpf.c and pat.c, then boots Debian's 6.1 and 6.12 kernels under qemu
# with scripts/kernels.sh -n (two virtio-net NICs on a hub) and runs guest.sh inside:
# a TCP pattern stream, encapsulated by a TC program on the sender, stripped and redirected
# into a veth by an XDP program on the receiver, every received byte checked.
#
# Usage: run.sh [-s CPUS] [-k KERNEL_GLOB]... [-t SECS] [-o OUTDIR]
#   -s  guest CPUs (default 2)      -k  kernels.sh -k (default: both kernels)
#   -t  qemu timeout per guest (default 900)
#   -o  where logs go (default /var/tmp/generic_xdp_repro.XXXX, not under /tmp);
#       OUTDIR/kernels.out is kernels.sh's output; OUTDIR/<kernel>.log the guest's full
#       log and OUTDIR/<kernel>.console its console when kernels.sh kept them (it does
#       when a test fails, i.e. when corruption was seen)
# kernels.sh runs in a private mount namespace with its own /tmp, so that other jobs
# cleaning /tmp cannot remove its run directory mid-run.
# Env: VARIANTS (see guest.sh; default: the main matrix below), ROUNDS, MB, BUDGET (seconds
# of variants started inside a guest).
# Prints the guest's "REPRO ..." summary lines (one per variant).
# Must run as root (kernels.sh builds an initramfs and runs qemu).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
smp=2 limit=900 out="" kargs=()
while getopts "s:k:t:o:" o; do
	case $o in
	s) smp=$OPTARG ;;
	k) kargs+=(-k "$OPTARG") ;;
	t) limit=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done
[ -n "$out" ] || out=$(mktemp -d /var/tmp/generic_xdp_repro.XXXX)
mkdir -p "$out"
b=$out/build
mkdir -p "$b"
arch_inc=/usr/include/$(uname -m)-linux-gnu
clang -O2 -g -target bpf -mcpu=v3 -Wall -Wextra -I"$arch_inc" -c "$here/rx.bpf.c" -o "$b/rx.o"
clang -O2 -g -target bpf -mcpu=v3 -Wall -Wextra -I"$arch_inc" -c "$here/tx.bpf.c" -o "$b/tx.o"
gcc -O2 -Wall -static -o "$b/pat" "$here/pat.c"
cp "$here/guest.sh" "$b/guest.sh"

# Default matrix: one change at a time. "pass*" strip the outer headers and XDP_PASS the
# inner frame on eth0; "frags*" use the xdp.frags entry point; "nopeer*" redirect into the
# veth with no XDP program on its peer end; "*_notail" leave the trailer in place (no
# bpf_xdp_adjust_tail; IP trims it). base = generic, MTU 9000, encap + transform + strip
# (head and tail) + redirect into the veth with an XDP_PASS program on its peer end.
DEFAULT_VARIANTS="name=pass act=pass;\
name=pass_notail act=pass tail=0;\
name=pass_tailonly act=pass encap=0 ptrail=1 xform=0;\
name=pass_noxform act=pass xform=0;\
name=gen1500_pass mtu=1500 act=pass;\
name=native1500_pass xdp=native mtu=1500 act=pass;\
name=frags prog=rx_frags;\
name=frags_notail prog=rx_frags tail=0;\
name=nopeer peerprog=0;\
name=nopeer_notail peerprog=0 tail=0;\
name=base;\
name=ctl_corrupt corrupt=200"
# The effect of a preceding native-XDP variant (virtio's receive ring keeps buffers
# posted with XDP headroom), e.g.:
#   VARIANTS="name=nat xdp=native mtu=1500 rounds=1;name=after_native rounds=3;\
#             name=gen mtu=1500 rounds=1;name=after_generic rounds=3" run.sh
variants=${VARIANTS:-$DEFAULT_VARIANTS}
rounds=${ROUNDS:-3} mb=${MB:-8} budget=${BUDGET:-$((limit * 3 / 4))}

tools=()
for t in ethtool nstat; do
	p=$(command -v $t) || { echo "run.sh: $t is missing on this machine" >&2; exit 2; }
	tools+=(-f "$p")
done
echo "run.sh: -s $smp, ${rounds} x ${mb} MB per variant, logs in $out"
rc=0
# inside: kernels.sh, then copy what it kept (test.log, console.log per kernel) to $out
inner='mount -t tmpfs -o size=3g tmpfs /tmp || exit 2
out=$1; shift
"$@"; rc=$?
for d in /tmp/xwg-kernels.*/*/; do
	[ -d "$d" ] || continue
	k=$(basename "$d")
	[ -f "$d/test.log" ] && cp "$d/test.log" "$out/$k.log"
	[ -f "$d/console.log" ] && tr -d "\r" <"$d/console.log" >"$out/$k.console"
done
exit $rc'
unshare -m --propagation private bash -c "$inner" - "$out" \
	bash "$root/scripts/kernels.sh" -v -n -s "$smp" -t "$limit" "${kargs[@]}" \
	-f "$b/pat" -f "$b/guest.sh" "${tools[@]}" \
	-c "VARIANTS='$variants' ROUNDS=$rounds MB=$mb BUDGET=$budget bash ./guest.sh" \
	"$b/rx.o" "$b/tx.o" >"$out/kernels.out" 2>&1 || rc=$?
grep -E '^kernel |^kernels:' "$out/kernels.out" || true
# the summaries: from the kept full logs, else from kernels.sh's output tail
if ls "$out"/*.log >/dev/null 2>&1; then
	for f in "$out"/*.log; do echo "-- $(basename "$f" .log)"; grep -E '^REPRO|^---- summary|SETUP ERROR' "$f" || tail -n 5 "$f"; done
else
	grep -E 'REPRO|---- summary|SETUP ERROR' "$out/kernels.out" | sed 's/^ *//' || true
fi
exit $rc
