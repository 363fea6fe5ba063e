#!/usr/bin/env bash
# deps.sh — install what xwg needs to build, test, demo and benchmark, from Debian 12
# packages only. A no-op when everything is already installed.
set -euo pipefail

PKGS=(
  # build
  clang llvm cmake make pkg-config g++ libbpf-dev bpftool
  libsodium-dev libb2-dev libnl-3-dev libnl-route-3-dev libcli11-dev nlohmann-json3-dev
  libsystemd-dev
  # tests
  catch2 iproute2 iputils-ping socat jq wireguard-tools wireguard-go iperf3 ethtool tcpdump
  # the CNI plugin's test (cni_e2e_test): the reference bridge and host-local plugins
  containernetworking-plugins
  # xwg-cni under podman (cni_podman_test): podman 4.3 with the CNI backend, runc as its
  # runtime (crun refuses hybrid cgroup setups); the containers' root is busybox-static
  # (listed with the kernel matrix). podman pulls in conmon, crun, login, passwd and a few
  # small libraries (~40 MB)
  podman runc
  # the systemd unit's test: systemd-analyze verify; setpriv applies its capabilities
  systemd util-linux
  # man pages and the .deb (man_test, package_test): groff and mandoc check the pages, man
  # reads them, dpkg-shlibdeps (dpkg-dev) finds the package's library dependencies
  groff-base mandoc man-db dpkg-dev
  # tests: wg-quick hooks add an nftables rule inside a namespace
  nftables
  # metrics tests: promtool checks the exposition. Debian ships it only inside the
  # Prometheus server package (19 MB download, 96 MB installed); its postinst enables
  # and starts the server on a host with an init system (not in containers whose
  # policy-rc.d forbids starting services, like these machines).
  prometheus
  # fuzzing (fuzz/): clang's runtimes, libFuzzer's among them (only recommended by clang)
  libclang-rt-14-dev
  # kernel matrix (tests/kernels): Debian 6.1 and 6.12 under qemu
  qemu-system-x86 busybox-static cpio
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
