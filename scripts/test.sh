#!/usr/bin/env bash
# test.sh — the whole test suite from a clean clone: dependencies, build, then every
# test through CTest (unit, BPF_PROG_TEST_RUN, network namespaces, kernel matrix).
# Needs root (BPF, namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure
