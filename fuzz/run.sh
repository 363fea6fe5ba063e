#!/usr/bin/env bash
# run.sh — runs one libFuzzer target over its seed corpus, for the CTest smokes and for
# bench/fuzz.sh:
#   run.sh [--keep] TARGET_BINARY SEED_DIR WORK_DIR [libFuzzer options...]
# New inputs go to WORK_DIR/corpus/NAME (emptied first, unless --keep, so a long run
# resumes where the last one stopped) and never into the seed directory in the tree; a
# crash, leak or timeout is saved under WORK_DIR/artifacts/NAME/ and fails the run.
set -euo pipefail
keep=0
if [ "${1:-}" = --keep ]; then
	keep=1
	shift
fi
if [ $# -lt 3 ]; then
	echo "usage: $0 [--keep] TARGET_BINARY SEED_DIR WORK_DIR [libFuzzer options...]" >&2
	exit 2
fi
bin=$1 seeds=$2 work=$3
shift 3
name=$(basename "$bin")
if [ ! -x "$bin" ]; then
	echo "$0: $bin is missing: build the libFuzzer targets (bash scripts/build.sh)" >&2
	exit 1
fi
if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
	echo "$0: no seeds in $seeds" >&2
	exit 1
fi
corpus=$work/corpus/$name
artifacts=$work/artifacts/$name
[ $keep -eq 1 ] || rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
exec "$bin" -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" "$corpus" "$seeds"
