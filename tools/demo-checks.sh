#!/usr/bin/env bash
# The tutorial's postmap -q checks on the demo host, as a table.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "--- the tutorial's checks (postmap -q on the host)"
ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false \
  ansible-playbook -i demo/inventory.yml --vault-password-file demo/vault-password.txt \
  playbooks/check_maps.yml | sed -n '/TASK \[Show the answers\]/,/PLAY RECAP/p' | grep -v -e '^TASK' -e '^PLAY RECAP' -e '^ok:' -e '^$' -e 'msg: |-'
