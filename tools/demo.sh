#!/usr/bin/env bash
# make demo: one local Debian 12 container as the mail host, set up by playbooks/site.yml.
# make demo-clean: remove it.
set -euo pipefail
cd "$(dirname "$0")/.."
name=mailfleet-demo
image=localhost/mailfleet-debian:bookworm

if [ "${1:-}" = clean ]; then
  podman rm -f "$name" >/dev/null 2>&1 && echo "==> Removed container $name" || echo "==> No demo container"
  exit 0
fi

if [ "$(podman container inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
  # A stopped or stale container of that name is replaced, not reused.
  tools/start-container.sh "$name" "$image" --hostname mail.example.org
else
  echo "==> Reusing running container $name"
fi

echo "==> ansible-playbook playbooks/site.yml (demo inventory, demo vault)"
ansible-playbook -i demo/inventory.yml --vault-password-file demo/vault-password.txt playbooks/site.yml

echo "==> What $name now serves"
echo "--- mail database content"
podman exec "$name" mariadb --table --database=mailserver --execute="
  SELECT d.name AS domain, u.email AS mailbox FROM virtual_domains d LEFT JOIN virtual_users u ON u.domain_id = d.id;
  SELECT source, destination FROM virtual_aliases ORDER BY source;"
if [ -x tools/demo-checks.sh ]; then
  tools/demo-checks.sh
fi
