#!/usr/bin/env bash
# kernel_matrix.sh BUILD_DIR — every shipped BPF object through Debian's 6.1 and 6.12
# kernels under qemu (scripts/kernels.sh): each must load, and the smoke test
# (tests/kernel_smoke.cpp) and the AEAD's BPF tests (tests/aead_bpf_test.cpp: RFC vectors,
# libsodium differential, tamper) must pass inside each guest. Prints the verifier's
# instruction counts per kernel. Fails loudly when qemu or the kernels cannot be had.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
objs=("$build"/bpf/*.bpf.o)
[ -e "${objs[0]}" ] || { echo "kernel_matrix: no BPF objects in $build/bpf" >&2; exit 1; }
for t in kernel_smoke aead_bpf_test; do
	[ -x "$build/tests/$t" ] || { echo "kernel_matrix: no $build/tests/$t" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "kernel_matrix: qemu-system-x86 is missing (scripts/deps.sh installs it)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/log
# kernels.sh pins each object under its name, which must not contain the ".bpf" dot.
names=()
for o in "${objs[@]}"; do
	n=$(basename "$o" .bpf.o)
	cp "$o" "$work/$n.o"
	names+=("$work/$n.o")
done
rc=0
bash "$here/../scripts/kernels.sh" -v -t 600 -f "$build/tests/kernel_smoke" -f "$build/tests/aead_bpf_test" \
	-c "set -o pipefail; ./kernel_smoke && ./aead_bpf_test 2>&1 | grep -E 'verified instructions|All tests passed|test cases'" \
	"${names[@]}" >"$out" 2>&1 || rc=$?
# The per-kernel verdicts, the instruction counts, then the whole log on failure.
grep -E '^kernel |^kernels:|verified insns|verified instructions|^ *(ok|FAIL):|All tests passed|test cases? failed|guest uname' "$out" || true
[ $rc -eq 0 ] || { echo "---- full log"; cat "$out"; }
grep -q '^kernels: [1-9][0-9]* passed, 0 failed' "$out" || rc=1
exit $rc
