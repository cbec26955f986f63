#!/usr/bin/env bash
# Write the podman settings this machine needs, only when they differ:
#   - runtime runc: crun refuses the cgroups v1 "hybrid" layout seen on these hosts;
#   - default_ulimits at or below this host's hard limits: podman otherwise asks for
#     more than the host allows and fails with "setrlimit ... Operation not permitted".
set -euo pipefail
conf=/etc/containers/containers.conf
marker="# managed by mailfleet.postfix_mysql tools/configure-podman.sh"

hard_nofile=$(ulimit -Hn)
hard_nproc=$(ulimit -Hu)
# 'unlimited' is a valid hard limit; podman wants numbers.
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
[ "$hard_nproc" = unlimited ] && hard_nproc=1048576
# podman's conmon runs with RLIMIT_NPROC capped at the kernel's pid_max (seen: hard
# limit 96364, pid_max 32768, conmon 32768), and a container cannot be given more
# than its conmon has: take the smaller of the two.
pid_max=$(cat /proc/sys/kernel/pid_max)
nproc=$((hard_nproc < pid_max ? hard_nproc : pid_max))

runtime=crun
if [ -d /sys/fs/cgroup/systemd ] || ! command -v crun >/dev/null 2>&1; then
  runtime=runc
fi

wanted=$(cat <<CONF
$marker
[containers]
default_ulimits = ["nofile=${hard_nofile}:${hard_nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "${runtime}"
CONF
)
if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
  echo "configure-podman: $conf exists and is not ours; leaving it alone" >&2
  exit 0
fi
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$wanted" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$wanted" > "$conf"
  echo "==> Wrote $conf (runtime $runtime, nofile $hard_nofile, nproc $nproc)"
fi
