#!/usr/bin/env bash
# kernels.sh — check that BPF object files pass the verifier of other stock kernels.
# (Project copy of the shared tools/kernels.sh, so that a fresh clone runs the kernel matrix
# without the shared folder; tests/kernel_matrix.sh drives it.)
#
# Boots each cached Debian kernel (by default the newest Debian 12 "cloud" 6.1 and
# 6.12 kernels apt offers) under qemu with a tiny busybox initramfs, and inside it runs
#     bpftool prog loadall OBJ /sys/fs/bpf/NAME        (NAME = basename of OBJ without .o, dots as _)
# for every OBJ, then optionally a test command.  Prints, on stdout, one line per
# kernel per object and a summary; verifier-log tails and progress go to stderr.
#
#   kernel 6.1.0-56-cloud-amd64: pass.o: PASS
#   kernel 6.1.0-56-cloud-amd64: bad.o: FAIL (invalid access to packet, ...; R1 offset is outside of the packet)
#   kernels: 0 passed, 2 failed
# The reason is the verifier's error lines, else the last libbpf error. One boot+check
# takes about 5 s per kernel here (qemu TCG, no KVM); both kernels boot in parallel.
#
# Usage: kernels.sh [options] OBJ...
#   -c CMD     test command, run with bash inside each guest after the loads, as root
#              (cwd /job/files; pins under /sys/fs/bpf/NAME/PROG; objects in /job/objs;
#              busybox applets, bpftool, iproute2 ip and tc on PATH; bpffs, debugfs,
#              tracefs, cgroup2 mounted; veth dummy sch_ingress cls_bpf act_bpf virtio_net
#              and the kernel's own wireguard module loaded (pass -f /usr/bin/wg to use it);
#              no network device but lo, unless -n). Reported as "kernel K: test: PASS|FAIL (rc=N)".
#   -f FILE    copy FILE into the guest's /job/files (repeatable); for a dynamic ELF its
#              shared libraries come along too
#   -k GLOB    only kernels whose release matches GLOB (e.g. '6.1.*'); repeatable
#   -t SECS    hard timeout per qemu run, boot included (default $XWG_KTIMEOUT or 180)
#   -j N       qemu runs in parallel (default: number of CPUs)
#   -r         refresh: ask apt for the newest kernels again (downloads if newer)
#   -l         list cached kernels and exit
#   -v         also show the test command's output when it passes
#   -n         give each guest two virtio-net NICs (eth0, eth1) joined to each other by a
#              qemu hub, so a test can put them in two namespaces and run XDP on a real
#              driver (virtio_net; native XDP works, with a warning about queues)
#   -s N       guest CPUs (default 1; cpumap and per-CPU paths need 2)
# A kernel "passes" when every object loaded and the test command (if any) exited 0.
# Exit status: 0 all kernels passed, 1 some failed, 2 usage/setup error.
#
# Cache: ${XWG_KCACHE:-/var/cache/xwg-kernels}: debs/ (downloaded .debs), k/RELEASE/
# (vmlinuz, config, modules.cpio.gz), base-*.cpio.gz (busybox+bpftool initramfs).
# Env XWG_BPFTOOL=/path/to/bpftool uses another bpftool (default: this machine's, whose
# libbpf decides which SEC() names and ELF features are understood).
# Env XWG_KERNEL_PKGS="pkg ..." picks the kernel packages instead of the newest
# 6.1/6.12 cloud ones.  Never installs a kernel package, never touches this machine's
# boot configuration, running kernel or network interfaces (qemu runs with -nic none).
set -u -o pipefail
umask 022

CACHE=${XWG_KCACHE:-/var/cache/xwg-kernels}
TIMEOUT=${XWG_KTIMEOUT:-180}
JOBS=$(nproc 2>/dev/null || echo 1)
CMD="" REFRESH=0 LIST=0 VERBOSE=0
FILES=() KGLOBS=()
MODS="veth dummy sch_ingress cls_bpf act_bpf virtio_pci virtio_net wireguard"
NICS=0 SMP=1

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2; }
log() { echo "kernels.sh: $*" >&2; }
die() { log "error: $*"; exit 2; }

while getopts "c:f:k:t:j:s:nrlvh" o; do
  case $o in
    c) CMD=$OPTARG ;;
    f) FILES+=("$OPTARG") ;;
    k) KGLOBS+=("$OPTARG") ;;
    t) TIMEOUT=$OPTARG ;;
    j) JOBS=$OPTARG ;;
    r) REFRESH=1 ;;
    l) LIST=1 ;;
    v) VERBOSE=1 ;;
    n) NICS=1 ;;
    s) SMP=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
OBJS=("$@")
[ ${#OBJS[@]} -gt 0 ] || [ $LIST = 1 ] || [ $REFRESH = 1 ] || usage
[ "$(id -u)" = 0 ] || die "must run as root (apt, mknod)"

declare -A SEEN=()
NAMES=()
for o in "${OBJS[@]}"; do
  [ -f "$o" ] || die "no such object: $o"
  n=$(basename "$o"); n=${n%.o}; n=${n//./_}   # bpffs refuses dots in pin names
  [[ $n =~ ^[A-Za-z0-9_+-]+$ ]] || die "object name '$n' has odd characters"
  [ -z "${SEEN[$n]:-}" ] || die "two objects named $n (pin path /sys/fs/bpf/$n would clash)"
  SEEN[$n]=$o
  NAMES+=("$n")
done
for f in "${FILES[@]}"; do [ -e "$f" ] || die "no such file: $f"; done

# ---------------------------------------------------------------- host tools
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
# (no "| grep -q" below: with pipefail an early-exiting grep can fail the pipeline)
command -v file >/dev/null || need_pkgs+=(file)
bb=$(command -v busybox 2>/dev/null)
{ [ -n "$bb" ] && file -L "$bb" | grep 'statically linked' >/dev/null &&
  "$bb" --list | grep -x cpio >/dev/null; } || need_pkgs+=(busybox-static)
command -v bpftool >/dev/null || need_pkgs+=(bpftool)
mkdir -p "$CACHE" || die "cannot create $CACHE"
exec 9>"$CACHE/.lock"
if [ ${#need_pkgs[@]} -gt 0 ]; then
  flock 9
  log "installing ${need_pkgs[*]} (no recommends)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2; } ||
    die "cannot install ${need_pkgs[*]}"
  flock -u 9
fi
BB=$(command -v busybox) || die "no busybox"
file -L "$BB" | grep 'statically linked' >/dev/null || die "$BB is not static (install busybox-static)"
BPFTOOL=${XWG_BPFTOOL:-$(command -v bpftool)}
# Debian's /usr/sbin/bpftool may be a wrapper script around a versioned binary
if ! file -L "$BPFTOOL" | grep ELF >/dev/null; then
  BPFTOOL=$(ls /usr/lib/linux-tools*/bpftool /usr/lib/linux-tools/*/bpftool 2>/dev/null | sort -V | tail -n1)
  [ -x "$BPFTOOL" ] || die "bpftool is not an ELF binary and no versioned one found"
fi

# ---------------------------------------------------------------- kernels
# prepare_kernel DEB: extract vmlinuz + a few modules into $CACHE/k/RELEASE
prepare_kernel() {
  local deb=$1 x rel mroot m f todo dep
  x=$(mktemp -d "$CACHE/x.XXXXXX")
  dpkg -x "$deb" "$x" || { rm -rf "$x"; return 1; }
  f=$(ls "$x"/boot/vmlinuz-* 2>/dev/null | head -n1)
  [ -n "$f" ] || { log "no vmlinuz in $deb"; rm -rf "$x"; return 1; }
  rel=${f##*/vmlinuz-}
  rm -rf "$CACHE/k/$rel.tmp"; mkdir -p "$CACHE/k/$rel.tmp"
  cp "$f" "$CACHE/k/$rel.tmp/vmlinuz"
  cp "$x/boot/config-$rel" "$CACHE/k/$rel.tmp/config" 2>/dev/null
  basename "$deb" > "$CACHE/k/$rel.tmp/pkg"
  echo "$MODS" > "$CACHE/k/$rel.tmp/mods"
  # modules for test commands (veth etc.) plus their dependencies, uncompressed
  mroot=$(mktemp -d "$CACHE/m.XXXXXX")
  mkdir -p "$mroot/lib/modules/$rel"
  todo=$MODS
  declare -A done_=()
  while [ -n "${todo// /}" ]; do
    set -- $todo; m=$1; shift; todo="$*"
    [ -z "${done_[$m]:-}" ] || continue; done_[$m]=1
    f=$(find "$x/lib/modules/$rel/kernel" -name "$(echo "$m" | sed 's/[_-]/[_-]/g').ko*" | head -n1)
    [ -n "$f" ] || continue            # built in, or absent in this flavour
    mkdir -p "$mroot/lib/modules/$rel/$(dirname "${f#"$x/lib/modules/$rel/"}")"
    local dst="$mroot/lib/modules/$rel/${f#"$x/lib/modules/$rel/"}"
    case $f in
      *.xz) xz -dc "$f" > "${dst%.xz}" ;;
      *.zst) zstd -qdc "$f" > "${dst%.zst}" ;;
      *.gz) gzip -dc "$f" > "${dst%.gz}" ;;
      *) cp "$f" "$dst" ;;
    esac
    dst=${dst%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
    # read the dependency list from the module's own .modinfo section (busybox modinfo
    # needs a modules.dep for the running kernel, which this host may not have)
    dep=$(objcopy -O binary --only-section=.modinfo "$dst" /dev/stdout 2>/dev/null |
          tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
    todo="$todo $dep"
    echo "$m" >> "$mroot/lib/modules/$rel/.preload.rev"
  done
  # deps were appended after their users: load in reverse order
  [ -f "$mroot/lib/modules/$rel/.preload.rev" ] &&
    tac "$mroot/lib/modules/$rel/.preload.rev" | awk '!s[$0]++' > "$mroot/lib/modules/$rel/preload"
  rm -f "$mroot/lib/modules/$rel/.preload.rev"
  for f in modules.builtin modules.order modules.builtin.modinfo; do
    [ -f "$x/lib/modules/$rel/$f" ] && cp "$x/lib/modules/$rel/$f" "$mroot/lib/modules/$rel/"
  done
  "$BB" depmod -b "$mroot" "$rel" 2>/dev/null
  (cd "$mroot" && find . -mindepth 1 | "$BB" cpio -o -H newc -R 0:0 2>/dev/null | gzip -9) \
    > "$CACHE/k/$rel.tmp/modules.cpio.gz"
  rm -rf "$x" "$mroot" "$CACHE/k/$rel"
  mv "$CACHE/k/$rel.tmp" "$CACHE/k/$rel"
  log "prepared kernel $rel from $(basename "$deb")"
}

pick_pkg() { # newest package name matching an ERE
  apt-cache search --names-only "$1" 2>/dev/null | awk '{print $1}' | grep -E "$1" | sort -V | tail -n1
}

fetch_kernels() {
  local pkgs=() p deb
  if [ -n "${XWG_KERNEL_PKGS:-}" ]; then
    pkgs=($XWG_KERNEL_PKGS)
  else
    [ -n "$(pick_pkg '^linux-image-6\.1\.0-[0-9]+-(cloud-)?amd64-unsigned$')" ] || apt-get update >&2
    p=$(pick_pkg '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$')
    [ -n "$p" ] || p=$(pick_pkg '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$')
    [ -n "$p" ] && pkgs+=("$p") || log "apt offers no 6.1 kernel"
    p=$(pick_pkg '^linux-image-6\.12\.[0-9.]+\+deb[0-9]+-cloud-amd64-unsigned$')
    [ -n "$p" ] || p=$(pick_pkg '^linux-image-6\.12\.[0-9.]+\+deb[0-9]+-amd64-unsigned$')
    [ -n "$p" ] && pkgs+=("$p") || log "apt offers no 6.12 kernel"
  fi
  mkdir -p "$CACHE/debs"
  for p in "${pkgs[@]}"; do
    fn=$(apt-get download --print-uris "$p" 2>/dev/null | awk 'NR==1 {print $2}')
    [ -n "$fn" ] || { log "apt does not offer $p"; continue; }
    deb=$CACHE/debs/$fn
    if [ ! -s "$deb" ]; then
      log "downloading $p (apt-get download: nothing is installed)"
      (cd "$CACHE/debs" && apt-get download "$p" >/dev/null 2>&1) && [ -s "$deb" ] ||
        { log "download of $p failed"; continue; }
    fi
    # already prepared from this very .deb?
    # (and with today's module list)
    local hit=0 pk
    for pk in "$CACHE"/k/*/pkg; do
      [ -f "$pk" ] && grep -qxF "$(basename "$deb")" "$pk" && [ "$(cat "${pk%/pkg}/mods" 2>/dev/null)" = "$MODS" ] && hit=1
    done
    [ $hit = 1 ] && continue
    prepare_kernel "$deb" || log "could not prepare $deb"
  done
}

flock 9
mkdir -p "$CACHE/k"
stale=0
for d in "$CACHE"/k/*/; do [ -f "$d/vmlinuz" ] && [ "$(cat "$d/mods" 2>/dev/null)" != "$MODS" ] && stale=1; done
if [ $REFRESH = 1 ] || [ $stale = 1 ] || ! ls "$CACHE"/k/*/vmlinuz >/dev/null 2>&1; then
  [ $REFRESH = 1 ] && [ -z "${XWG_KERNEL_PKGS:-}" ] && apt-get update >&2
  fetch_kernels
fi
flock -u 9
KERNELS=()
for d in $(ls -d "$CACHE"/k/*/ 2>/dev/null | sort -V); do
  rel=$(basename "$d")
  [[ $rel == *.tmp ]] && continue
  [ -f "$d/vmlinuz" ] && [ -f "$d/modules.cpio.gz" ] || continue
  if [ ${#KGLOBS[@]} -gt 0 ]; then
    ok=0; for g in "${KGLOBS[@]}"; do [[ $rel == $g ]] && ok=1; done; [ $ok = 1 ] || continue
  fi
  KERNELS+=("$rel")
done
if [ $LIST = 1 ]; then
  for k in "${KERNELS[@]}"; do echo "$k $(cat "$CACHE/k/$k/pkg" 2>/dev/null)"; done; exit 0
fi
[ ${#OBJS[@]} -gt 0 ] || exit 0
[ ${#KERNELS[@]} -gt 0 ] || die "no kernels available in $CACHE/k"

# ---------------------------------------------------------------- base initramfs
read -r -d '' INIT <<'EOF'
#!/bin/bash
# /bin/sh is bash; busybox applets are symlinks in /bin (busybox's own sh would run its
# applets, e.g. its limited ip/tc, in preference to PATH)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ulimit -l unlimited
exec 3>/dev/ttyS1
say() { echo "XWG $*" >&3; }
say BEGIN "$(uname -r)"
ip link set lo up 2>/dev/null
for m in $(cat /lib/modules/$(uname -r)/preload 2>/dev/null); do
  modprobe "$m" 2>/dev/null || say NOTE "modprobe $m failed"
done
for o in /job/objs/*.o; do
  [ -f "$o" ] || continue
  n=${o##*/}; n=${n%.o}
  if bpftool prog loadall "$o" "/sys/fs/bpf/$n" >/tmp/$n.log 2>&1; then
    say RESULT "$n" PASS
  else
    say RESULT "$n" FAIL
  fi
  tail -n 300 /tmp/$n.log | awk -v n="$n" '{print "XWG LOG " n " " $0}' >&3
done
if [ -f /job/cmd ]; then
  cd /job/files
  bash /job/cmd >/tmp/test.log 2>&1 </dev/null
  rc=$?
  cd /
  say TEST "$rc"
  tail -n 300 /tmp/test.log | awk '{print "XWG TLOG " $0}' >&3
fi
say END
exec 3>&-
sleep 1
poweroff -f
sleep 5
reboot -f
EOF

copy_with_libs() { # copy_with_libs ROOT FILE [DEST]: copy FILE (+ its shared libs at their paths)
  local root=$1 f=$2 dst=${3:-$2} l
  mkdir -p "$root$(dirname "$dst")"
  cp -L "$f" "$root$dst"
  file -L "$f" | grep 'dynamically linked' >/dev/null || return 0
  for l in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+'); do
    [ -e "$root$l" ] && continue
    mkdir -p "$root$(dirname "$l")"
    cp -L "$l" "$root$l"
  done
}

IPBIN=$(command -v ip 2>/dev/null || true) TCBIN=$(command -v tc 2>/dev/null || true)
stamp=$({ printf '%s\n' "$INIT"; sha256sum "$BB" "$BPFTOOL" $IPBIN $TCBIN 2>/dev/null; } | sha256sum | cut -c1-16)
BASE=$CACHE/base-$stamp.cpio.gz
flock 9
if [ ! -s "$BASE" ]; then
  r=$(mktemp -d "$CACHE/r.XXXXXX")
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,lib/x86_64-linux-gnu,lib64,job/objs,job/files}
  cp "$BB" "$r/bin/busybox"
  for a in $("$BB" --list); do
    case $a in busybox|sh|ash|bash) ;; *) ln -s busybox "$r/bin/$a" ;; esac
  done
  copy_with_libs "$r" "$(readlink -f /bin/bash)" /bin/bash
  ln -s bash "$r/bin/sh"
  ln -s ../bin/busybox "$r/sbin/modprobe"  # the kernel's request_module() runs /sbin/modprobe
  rm -f "$r/bin/ip" "$r/bin/tc"          # prefer full iproute2 below (busybox's as fallback)
  copy_with_libs "$r" "$BPFTOOL" /usr/sbin/bpftool
  if [ -n "$IPBIN" ]; then copy_with_libs "$r" "$IPBIN" /usr/sbin/ip; else ln -s busybox "$r/bin/ip"; fi
  if [ -n "$TCBIN" ]; then copy_with_libs "$r" "$TCBIN" /usr/sbin/tc; else ln -s busybox "$r/bin/tc"; fi
  mknod -m 600 "$r/dev/console" c 5 1; mknod -m 666 "$r/dev/null" c 1 3
  printf '%s\n' "$INIT" > "$r/init"; chmod 755 "$r/init"
  echo 'root:x:0:0:root:/:/bin/sh' > "$r/etc/passwd"
  (cd "$r" && find . -mindepth 1 | "$BB" cpio -o -H newc -R 0:0 2>/dev/null | gzip -9) > "$BASE.tmp" &&
    mv "$BASE.tmp" "$BASE"
  rm -rf "$r"
  ls "$CACHE"/base-*.cpio.gz | grep -vxF "$BASE" | xargs -r rm -f
  log "built base initramfs $BASE ($(du -h "$BASE" | cut -f1))"
fi
flock -u 9

# ---------------------------------------------------------------- per-run job archive
RUN=$(mktemp -d /tmp/xwg-kernels.XXXXXX)
j=$RUN/jobroot
mkdir -p "$j/job/objs" "$j/job/files"
for n in "${!SEEN[@]}"; do cp "${SEEN[$n]}" "$j/job/objs/$n.o"; done
for f in "${FILES[@]}"; do
  if [ -d "$f" ]; then cp -a "$f" "$j/job/files/"; else copy_with_libs "$j" "$(readlink -f "$f")" "/job/files/$(basename "$f")"; fi
done
[ -n "$CMD" ] && printf '%s\n' "$CMD" > "$j/job/cmd"
(cd "$j" && find . -mindepth 1 | "$BB" cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) > "$RUN/job.cpio.gz"

ACCEL=tcg CPU=max
if [ -w /dev/kvm ] && grep -qw -e vmx -e svm /proc/cpuinfo; then ACCEL=kvm CPU=host; fi

boot_one() { # boot_one RELEASE -> $RUN/RELEASE/{console.log,result.log,time}
  local k=$1 d=$RUN/$1 t0 rc
  mkdir -p "$d"
  cat "$BASE" "$CACHE/k/$k/modules.cpio.gz" "$RUN/job.cpio.gz" > "$d/initrd.img"
  t0=$(date +%s)
  local nic=(-nic none)
  [ $NICS = 1 ] && nic=(-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,mac=52:54:00:00:0a:01,romfile=
                        -netdev hubport,id=n1,hubid=0 -device virtio-net-pci,netdev=n1,mac=52:54:00:00:0b:02,romfile=)
  timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -smp "$SMP" -m 1G \
    -nodefaults -no-reboot -display none -monitor none "${nic[@]}" \
    -serial "file:$d/console.log" -serial "file:$d/result.log" \
    -kernel "$CACHE/k/$k/vmlinuz" -initrd "$d/initrd.img" \
    -append "console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4 mitigations=off nokaslr" \
    </dev/null >"$d/qemu.out" 2>&1
  rc=$?
  echo "$rc $(( $(date +%s) - t0 ))" > "$d/time"
  rm -f "$d/initrd.img"
}

log "booting ${#KERNELS[@]} kernel(s) under qemu ($ACCEL, timeout ${TIMEOUT}s, $JOBS at a time); logs in $RUN"
running=0
for k in "${KERNELS[@]}"; do
  boot_one "$k" &
  running=$((running + 1))
  if [ $running -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

# ---------------------------------------------------------------- report
reason_of() { # extract a one-line reason from a failed load's output
  awk '
    /-- BEGIN PROG LOAD LOG --/ { inlog=1; n=0; next }
    /-- END PROG LOAD LOG --/   { inlog=0; next }
    inlog { if ($0 ~ /^processed [0-9]+ insns/) { stop=1; next }
            if (!stop) { if ($0 ~ /^[0-9]+: \(|^; |^[0-9]+: R[0-9]|^from [0-9]+ to|^R[0-9]+.*=|^func#|^last_idx|^regs=|^parent |^[0-9]+: .*frame/) { n=0 } else if ($0 != "") { err[n++]=$0 } } next }
    /^libbpf: / && !/failed to load object|failed to load program|BEGIN PROG|END PROG/ { lib=$0 }
    /^Error: / { bt=$0 }
    END {
      if (n > 0) { s=err[0]; for (i=1;i<n && i<3;i++) s=s "; " err[i]; print s; exit }
      if (lib != "") { sub(/^libbpf: /, "", lib); print lib; exit }
      if (bt != "") { print bt; exit }
      print "load failed (no log)"
    }'
}

kpass=0 kfail=0
for k in "${KERNELS[@]}"; do
  d=$RUN/$k
  read -r qrc secs < "$d/time"
  tr -d '\r' < "$d/result.log" > "$d/result.txt" 2>/dev/null
  ok=1
  guest=$(awk '$1=="XWG" && $2=="BEGIN" {print $3}' "$d/result.txt")
  ended=$(grep -c '^XWG END' "$d/result.txt")
  for n in "${NAMES[@]}"; do
    o=${SEEN[$n]}
    res=$(awk -v n="$n" '$1=="XWG" && $2=="RESULT" && $3==n {print $4}' "$d/result.txt")
    grep "^XWG LOG $n " "$d/result.txt" | sed "s/^XWG LOG $n //" > "$d/$n.log"
    if [ "$res" = PASS ]; then
      echo "kernel $k: $o: PASS"
    elif [ "$res" = FAIL ]; then
      ok=0
      echo "kernel $k: $o: FAIL ($(reason_of < "$d/$n.log" | sed "s|/job/objs/$n\.o|$o|g"))"
      {
        echo "---- kernel $k: $o: verifier/libbpf log tail ($d/$n.log):"
        grep -v -e '^libbpf: failed to load' -e '^-- END PROG LOAD LOG --' -e '^Warning: bpftool is now running in libbpf strict' \
          -e '^If it used to work for this object file' -e '^$' "$d/$n.log" | tail -n 20 | sed 's/^/    /'
      } >&2
    else
      ok=0
      if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then why="no result: qemu timed out after ${secs}s"
      elif [ -z "$guest" ]; then why="no result: guest did not start (qemu rc=$qrc)"
      else why="no result (guest $guest ended=$ended, qemu rc=$qrc)"; fi
      echo "kernel $k: $o: FAIL ($why)"
    fi
  done
  if [ -n "$CMD" ]; then
    trc=$(awk '$1=="XWG" && $2=="TEST" {print $3}' "$d/result.txt")
    grep '^XWG TLOG ' "$d/result.txt" | sed 's/^XWG TLOG //' > "$d/test.log"
    if [ "$trc" = 0 ]; then
      echo "kernel $k: test: PASS"
      [ $VERBOSE = 1 ] && { echo "---- kernel $k: test output tail:"; tail -n 20 "$d/test.log" | sed 's/^/    /'; } >&2
    else
      ok=0
      echo "kernel $k: test: FAIL (${trc:+rc=}${trc:-no result})"
      { echo "---- kernel $k: test output tail ($d/test.log):"; tail -n 20 "$d/test.log" | sed 's/^/    /'; } >&2
    fi
  fi
  if [ -z "$guest" ] || [ "$ended" = 0 ]; then
    ok=0
    { echo "---- kernel $k: console tail ($d/console.log, qemu rc=$qrc):"
      tr -d '\r' < "$d/console.log" | tail -n 25 | sed 's/^/    /'
      sed 's/^/    qemu: /' "$d/qemu.out"; } >&2
  fi
  grep '^XWG NOTE ' "$d/result.txt" | sed "s/^XWG NOTE /kernels.sh: $k: /" >&2
  log "$k: guest uname ${guest:-?}, boot+check ${secs}s"
  if [ $ok = 1 ]; then kpass=$((kpass + 1)); else kfail=$((kfail + 1)); fi
done
echo "kernels: $kpass passed, $kfail failed"
if [ $kfail = 0 ]; then rm -rf "$RUN"; exit 0; fi
log "logs kept in $RUN"
exit 1
