#!/usr/bin/env bash
# build-deb.sh [BUILD_DIR] — build what the package holds (xwg, xwg-cni, the man pages,
# the docs) in BUILD_DIR (default build/, configured if needed) and make the .deb there
# with CPack: BUILD_DIR/packages/xwg_<version>_<arch>.deb. Prints the package's path.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
# Quiet when it works, everything it said when it does not.
quiet() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "build-deb.sh: failed: $*" >&2
		return 1
	fi
}
[ -f "$build/CMakeCache.txt" ] || quiet cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
quiet cmake --build "$build" -j2 --target xwg xwg-cni man docs
rm -f "$build"/packages/xwg_*.deb
(cd "$build" && quiet cpack -G DEB --config CPackConfig.cmake)
ls "$build"/packages/xwg_*.deb
