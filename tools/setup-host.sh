#!/usr/bin/env bash
# Prepare this machine for the test bench and the demo; safe to run again.
#   - host packages: podman, runc, debootstrap (Debian's packages, as root)
#   - podman settings that containers need on this kind of machine
#   - local Debian base images built with debootstrap (no registry needed)
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

for release in bookworm trixie; do
  tools/build-image.sh "$release"
done

tools/make-venv.sh .venv 3.11 requirements/test.txt
say "Setup complete"
