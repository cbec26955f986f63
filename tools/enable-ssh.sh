#!/usr/bin/env bash
# Let Ansible reach a running test container over SSH, as it reaches a real host:
# host keys of its own (the image has none), the given public key for root, sshd on.
#   tools/enable-ssh.sh CONTAINER PUBLIC_KEY_FILE
set -euo pipefail
name=${1:?usage: enable-ssh.sh CONTAINER PUBLIC_KEY_FILE}
key=${2:?usage: enable-ssh.sh CONTAINER PUBLIC_KEY_FILE}
podman exec -i "$name" sh -c '
  set -e
  ssh-keygen -A >/dev/null
  install -d -m 0700 /root/.ssh
  cat > /root/.ssh/authorized_keys
  chmod 0600 /root/.ssh/authorized_keys
  systemctl enable --now ssh.service >/dev/null 2>&1
  systemctl is-active --quiet ssh.service' <"$key"
