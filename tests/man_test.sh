#!/usr/bin/env bash
# man_test.sh SRC BUILD — the manual pages: xwg(8) and xwg.conf(5) render with groff and
# mandoc without a single warning, xwg.conf(5) describes every key the config parser
# knows, and `cmake --install` puts them (with the binary, the unit and the docs) where
# `man` finds and reads them. Missing tools fail the test.
set -euo pipefail
src=$1 build=$2
fail() { echo "man_test: FAIL: $*" >&2; exit 1; }
for tool in groff mandoc man gzip; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/deps.sh installs it)"
done

pages=(xwg.8 xwg.conf.5)
for page in "${pages[@]}"; do
	f=$src/man/$page
	[ -f "$f" ] || fail "$f is missing"
	# -ww: every groff warning; -z: format, print nothing. Warnings go to stderr.
	out=$(groff -man -Tutf8 -ww -z "$f" 2>&1) || fail "groff failed on $page: $out"
	[ -z "$out" ] || fail "groff warns about $page:"$'\n'"$out"
	# mandoc's lint at level "warning" (its "style" notes, such as long source lines, pass).
	out=$(mandoc -Tlint -Wwarning "$f" 2>&1) || fail "mandoc -Tlint warns about $page:"$'\n'"$out"
	[ -z "$out" ] || fail "mandoc -Tlint warns about $page:"$'\n'"$out"
	echo "ok: $page renders without warnings (groff -ww, mandoc -Tlint -Wwarning)"
done

# Every key the parser knows, by its canonical spelling, has its own entry in xwg.conf(5).
keys=$(grep -o '{"[a-z]*", {"[A-Za-z]*", Section::' "$src/loader/control/config_file.cpp" |
	sed 's/.*{"\([A-Za-z]*\)", Section::/\1/')
[ "$(wc -w <<<"$keys")" -ge 19 ] || fail "found only $(wc -w <<<"$keys") keys in config_file.cpp: the pattern no longer matches"
for key in $keys; do
	grep -q "^\.BI $key \"" "$src/man/xwg.conf.5" || fail "xwg.conf(5) has no entry for $key"
done
echo "ok: xwg.conf(5) describes all $(wc -w <<<"$keys") keys of config_file.cpp"

# Installed into a scratch prefix, read back with man.
prefix=$(mktemp -d /tmp/xwg-man-test.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null || fail "cmake --install $build failed"
for f in bin/xwg share/man/man8/xwg.8.gz share/man/man5/xwg.conf.5.gz \
	share/doc/xwg/copyright share/doc/xwg/README.md.gz share/doc/xwg/changelog.Debian.gz; do
	[ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
done
export MANPATH=$prefix/share/man MANWIDTH=80
for name in "8 xwg" "5 xwg.conf"; do
	set -- $name
	where=$(man -w "$1" "$2") || fail "man -w $1 $2 finds nothing under $MANPATH"
	[ "$where" = "$prefix/share/man/man$1/$2.$1.gz" ] || fail "man -w $1 $2 gives $where"
	# Through man's own pipeline (gzip, preprocessors, groff) with groff's warnings on.
	text=$(man --warnings=w -P cat "$1" "$2" 2>"$prefix/stderr") || fail "man $1 $2 failed: $(cat "$prefix/stderr")"
	[ ! -s "$prefix/stderr" ] || fail "man $1 $2 warns: $(cat "$prefix/stderr")"
	grep -q "^NAME" <<<"$text" || fail "man $1 $2 printed no NAME section"
	grep -q "^SEE ALSO" <<<"$text" || fail "man $1 $2 printed no SEE ALSO section"
	echo "ok: man $1 $2 reads $where ($(wc -l <<<"$text") lines)"
done
