#!/usr/bin/env bash
# asan_unit.sh — the unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer:
# configures this tree with XWG_SANITIZE=ON into its own build directory (GCC, like the
# main build), builds the unit tests (target unit_tests: every test without a label, the
# data-plane fuzz smoke included) and runs them with ctest -LE 'netns|kernels'. The
# asan_unit_tests CTest test runs it, so scripts/test.sh (CI) does.
#   asan_unit.sh SOURCE_DIR BUILD_DIR
# Any report fails the run: UBSan does not recover (-fno-sanitize-recover=all), ASan stops at
# its first error, and LeakSanitizer's leaks are errors.
set -euo pipefail
if [ $# -ne 2 ]; then
	echo "usage: $0 SOURCE_DIR BUILD_DIR" >&2
	exit 2
fi
src=$1 build=$2
start=$SECONDS
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXWG_SANITIZE=ON >/dev/null
cmake --build "$build" --target unit_tests -j"$(nproc)"
echo "asan_unit.sh: built in $((SECONDS - start)) s"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest --output-on-failure -LE 'netns|kernels'
echo "asan_unit.sh: done in $((SECONDS - start)) s"
