#!/usr/bin/env bash
# The tutorial's postmap -q checks on the demo host, as a table.
#   tools/demo-checks.sh                  ansible-playbook, the demo's inventory and vault
#   tools/demo-checks.sh COMMAND ARGS...  another command that runs playbooks/check_maps.yml,
#                                         from the caller's directory (tools/ee-test.sh:
#                                         ansible-navigator in the execution environment)
set -euo pipefail
if [ $# -eq 0 ]; then
  cd "$(dirname "$0")/.."
  set -- ansible-playbook -i demo/inventory.yml --vault-password-file demo/vault-password.txt \
    playbooks/check_maps.yml
fi
echo "--- the tutorial's checks (postmap -q on the host)"
ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false \
  "$@" | sed -n '/TASK \[Show the answers\]/,/PLAY RECAP/p' | grep -v -e '^TASK' -e '^PLAY RECAP' -e '^ok:' -e '^$' -e 'msg: |-'
