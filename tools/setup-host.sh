#!/usr/bin/env bash
# Prepare this machine for the test bench and the demo; safe to run again.
#   - host packages: podman, runc, debootstrap (Debian's packages, as root)
#   - podman settings that containers need on this kind of machine
#   - local Debian base images built with debootstrap (no registry needed)
#   - the container network the scenarios rely on, tried end to end (check-bench-network.sh)
#   - /dev/mqueue, for ansible-navigator
#   - the Pythons the tests need (checked: 3.8, 3.11, 3.12, 3.13)
#   - .venv with the pinned Python tools from requirements/test.txt
# A step whose result is already in place is skipped, so a re-run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

host_packages=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs iproute2 shellcheck)
missing=()
for pkg in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: host packages missing (${missing[*]}); run as root or install them with apt-get" >&2
    exit 1
  fi
  say "Installing host packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

tools/configure-podman.sh

# ansible-navigator (make test-ee) will not use podman without /dev/mqueue, which systemd
# mounts on a host it booted; a machine that systemd did not boot may lack it.
if [ ! -d /dev/mqueue ] || ! mountpoint -q /dev/mqueue; then
  say "Mounting the POSIX message queue filesystem on /dev/mqueue (for ansible-navigator)"
  mkdir -p /dev/mqueue
  mount -t mqueue mqueue /dev/mqueue
fi

# The Pythons the tests run: 3.11 (.venv: ansible-core 2.19, the tools), 3.12 (ansible-core
# 2.20 and 2.21), 3.8 and 3.13 (sanity's compile and import tests of the code that runs on
# managed hosts). Debian 12 packages only 3.11; the others come from pyenv.
missing_pythons=()
for version in "${TOOLS_PYTHON:-3.11}" 3.12 3.8 3.13; do
  tools/find-python.sh "$version" >/dev/null 2>&1 || missing_pythons+=("$version")
done
if ((${#missing_pythons[@]})); then
  echo "setup: Python ${missing_pythons[*]} not found (python3.X on the PATH, or under pyenv's versions/);" \
    "install them, for example with 'pyenv install 3.12'" >&2
  exit 1
fi

for release in bookworm trixie; do
  tools/build-image.sh "$release"
done
tools/check-bench-network.sh

tools/make-venv.sh .venv "${TOOLS_PYTHON:-3.11}" requirements/test.txt
say "Setup complete"
