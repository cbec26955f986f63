#!/usr/bin/env bash
# Start a Debian container that boots systemd, and wait until it has booted.
#   tools/start-container.sh NAME IMAGE [more podman run options...]
# A container of that name left from an earlier run is replaced.
set -euo pipefail
name=${1:?usage: start-container.sh NAME IMAGE [podman run options]}
image=${2:?usage: start-container.sh NAME IMAGE [podman run options]}
shift 2
podman rm -f "$name" >/dev/null 2>&1 || true
echo "==> Starting container $name ($image)"
podman run -d --name "$name" --systemd=always "$@" "$image" /lib/systemd/systemd >/dev/null
for _ in $(seq 100); do
  state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) exit 0 ;; esac
  sleep 0.2
done
echo "start-container: $name did not finish booting in 20 s (systemctl: ${state:-no answer})" >&2
exit 1
