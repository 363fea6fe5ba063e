#!/usr/bin/env bash
# fuzz.sh — long fuzzing runs (not part of the test run): each libFuzzer target for
# FUZZ_SECONDS (default 600) over its seeds plus what earlier runs found (kept in
# build/fuzz-work/corpus/NAME), then dataplane_fuzz for FUZZ_CASES frames (default
# 2,000,000) with a fresh seed. Prints each target's runs and execs/s; crashes land in
# build/fuzz-work/artifacts/NAME/ (replay one: build/libfuzzer/fuzz/NAME FILE).
#   sudo bash bench/fuzz.sh [TARGET...]     # default: every target
# Knobs: FUZZ_SECONDS, FUZZ_CASES, FUZZ_SEED (dataplane_fuzz), FUZZ_JOBS (parallel
# libFuzzer jobs per target, default 1), FUZZ_BUILD_DIR (an existing build to use instead
# of building build/).
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
root=$PWD
build=${FUZZ_BUILD_DIR:-}
if [ -z "$build" ]; then
	bash scripts/build.sh >/dev/null
	build=$root/build
fi

seconds=${FUZZ_SECONDS:-600}
cases=${FUZZ_CASES:-2000000}
jobs=${FUZZ_JOBS:-1}
work=$build/fuzz-work
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config_fuzz uapi_fuzz handshake_fuzz cookie_fuzz keys_fuzz dataplane_fuzz)

rc=0
for t in "${targets[@]}"; do
	printf '\n=== %s\n' "$t"
	if [ "$t" = dataplane_fuzz ]; then
		seed=${FUZZ_SEED:-$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')}
		(cd "$build" && ./fuzz/dataplane_fuzz --seed "$seed" --cases "$cases") || rc=1
		continue
	fi
	mkdir -p "$work/$t"
	log=$work/$t.log
	parallel=()
	[ "$jobs" -le 1 ] || parallel=(-jobs="$jobs" -workers="$jobs")
	rm -f "$work/$t"/fuzz-*.log
	# From its own directory: parallel jobs write their fuzz-N.log there.
	if (cd "$work/$t" && bash "$root/fuzz/run.sh" --keep "$build/libfuzzer/fuzz/$t" \
		"$root/fuzz/corpus/$t" "$work" -max_total_time="$seconds" "${parallel[@]}") \
		>"$log" 2>&1; then
		status=ok
	else
		status="FAILED (see $log and $work/artifacts/$t/)"
		rc=1
	fi
	logs=("$log" "$work/$t"/fuzz-*.log)
	runs=$(awk '/stat::number_of_executed_units/ {n += $2} END {print n + 0}' "${logs[@]}")
	echo "$t: $status, $runs runs in ${seconds} s ($((runs / seconds)) execs/s)," \
		"corpus $(ls "$work/corpus/$t" | wc -l) inputs"
done
exit $rc
