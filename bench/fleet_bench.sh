#!/usr/bin/env bash
# Wall time of playbooks/site.yml for 1, 2 and 4 mail hosts reading one database host,
# first run and no-op re-run, beside the floor (ansible.builtin.ping on the same hosts).
# Not a test: writes docs/fleet-benchmark.md. Starts and removes its own containers
# (mf-fbench-*) on its own network (mf-fbench); stale ones of those names go first.
#
#   bench/fleet_bench.sh            # from the collection root, after `make setup`
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=false
export ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.profile_tasks
IMAGE=${FLEET_BENCH_IMAGE:-localhost/mailfleet-debian:bookworm}
SIZES=${FLEET_BENCH_SIZES:-"1 2 4"}
NET=mf-fbench
SUBNET_PREFIX=10.213.48
OUT=${FLEET_BENCH_OUT:-docs/fleet-benchmark.md}
# Every run's ansible-playbook output (with profile_tasks) is kept here for a closer look.
LOGS=${FLEET_BENCH_LOGS:-$ROOT/.cache/fleet-bench}
WORK=$(mktemp -d /tmp/fleet_bench.XXXXXX)
DB=mf-fbench-db

cleanup() {
  local names
  names=$(podman ps -a --format '{{.Names}}' | grep '^mf-fbench-' || true)
  # shellcheck disable=SC2086 # one name per word
  [ -z "$names" ] || podman rm -f -t 0 $names >/dev/null
  if podman network exists "$NET"; then podman network rm -f "$NET" >/dev/null; fi
}
keep_logs() { mkdir -p "$LOGS"; cp "$WORK"/*.log "$LOGS"/ 2>/dev/null || true; }
trap 'keep_logs; cleanup; rm -rf "$WORK"' EXIT

start() {  # name address
  podman run -d --name "$1" --hostname "$1" --network "$NET" --ip "$2" --systemd=always \
    "$IMAGE" /lib/systemd/systemd >/dev/null
}

inventory() {  # number of mail hosts
  local n=$1 i
  {
    echo "all:"
    echo "  vars:"
    echo "    ansible_connection: containers.podman.podman"
    echo "    ansible_python_interpreter: /usr/bin/python3"
    echo "    ansible_become: false"
    echo "    mailfleet_database_reader_password: bench-pass"
    echo "    mailfleet_postfix_db_password: bench-pass"
    echo "    mailfleet_postfix_db_hosts: ['$SUBNET_PREFIX.10']"
    # All four addresses up front: a size's first run does not change the database host,
    # so its cost stays the same across sizes.
    echo "    mailfleet_database_reader_hosts: ['$SUBNET_PREFIX.21', '$SUBNET_PREFIX.22', '$SUBNET_PREFIX.23', '$SUBNET_PREFIX.24']"
    echo "    mailfleet_database_reader_revoke_other_hosts: false"
    echo "    mailfleet_database_domains: [{name: example.org}]"
    echo "    mailfleet_database_aliases: [{source: jack@example.org, destination: john@example.org}]"
    echo "    mailfleet_postfix_checks: [{map: virtual-mailbox-domains, expect: {example.org: '1'}}]"
    echo "  children:"
    echo "    mail_databases:"
    echo "      hosts:"
    echo "        $DB: {mailfleet_address: $SUBNET_PREFIX.10, mailfleet_database_bind_address: $SUBNET_PREFIX.10}"
    echo "    mail_servers:"
    echo "      hosts:"
    for i in $(seq 1 4); do
      if [ "$i" -le "$n" ]; then
        echo "        mf-fbench-mail$i: {mailfleet_address: $SUBNET_PREFIX.2$i}"
      fi
    done
  } >"$WORK/inventory-$n.yml"
}

cat >"$WORK/ping.yml" <<'YAML'
---
- name: Floor
  hosts: mail_databases:mail_servers
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
YAML

timed() {  # label logfile command...: prints seconds
  local label=$1 log=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED: $label (see $log)" >&2
    tail -30 "$log" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
cleanup
podman network create --subnet "$SUBNET_PREFIX.0/24" "$NET" >/dev/null
start "$DB" "$SUBNET_PREFIX.10"
inventory 1
echo "==> database host (not timed)"
timed db "$WORK/db.log" ansible-playbook -i "$WORK/inventory-1.yml" playbooks/site.yml --limit mail_databases >/dev/null

ROWS=""
declare -A FIRST NOOP FLOOR
for n in $SIZES; do
  for i in $(seq 1 "$n"); do start "mf-fbench-mail$i" "$SUBNET_PREFIX.2$i"; done
  inventory "$n"
  echo "==> $n mail host(s)"
  FIRST[$n]=$(timed "first $n" "$WORK/first-$n.log" ansible-playbook -i "$WORK/inventory-$n.yml" playbooks/site.yml)
  NOOP[$n]=$(timed "noop $n" "$WORK/noop-$n.log" ansible-playbook -i "$WORK/inventory-$n.yml" playbooks/site.yml)
  grep -q 'changed=[1-9]' "$WORK/noop-$n.log" && { echo "re-run changed something" >&2; exit 1; }
  FLOOR[$n]=$(timed "floor $n" "$WORK/floor-$n.log" ansible-playbook -i "$WORK/inventory-$n.yml" "$WORK/ping.yml")
  printf '    first %.1fs  no-op %.1fs  ping floor %.1fs\n' "${FIRST[$n]}" "${NOOP[$n]}" "${FLOOR[$n]}"
  ROWS+=$(printf '| %d | %.1f | %.1f | %.1f | %.1f |' "$n" "${FIRST[$n]}" "${NOOP[$n]}" "${FLOOR[$n]}" \
          "$(echo "${NOOP[$n]} / ${FLOOR[$n]}" | bc -l)")$'\n'
  for i in $(seq 1 "$n"); do podman rm -f -t 0 "mf-fbench-mail$i" >/dev/null; done
done

read -r -a SIZE_LIST <<<"$SIZES"
LO=${SIZE_LIST[0]}; HI=${SIZE_LIST[-1]}
R_NOOP=$(echo "${NOOP[$HI]} / ${FLOOR[$HI]}" | bc -l)
R_SCALE=$(echo "${FIRST[$HI]} / ${FIRST[$LO]}" | bc -l)
R_SCALE_NOOP=$(echo "${NOOP[$HI]} / ${NOOP[$LO]}" | bc -l)
verdict() { if [ "$(echo "$1 <= $2" | bc -l)" = 1 ]; then echo met; else echo MISSED; fi; }
TOP=$(grep -E ' -+ [0-9.]+s$' "$WORK/first-$HI.log" | head -6 | sed 's/^/    /')
TOPNOOP=$(grep -E ' -+ [0-9.]+s$' "$WORK/noop-$HI.log" | head -6 | sed 's/^/    /')

cat >"$OUT" <<MD
# Fleet benchmark: site.yml over 1, 2 and 4 mail hosts

Not a test: wall time of \`playbooks/site.yml\` for ${SIZES// /, } mail hosts
(Debian 12 containers, podman connection) reading one database host, first run and
no-op re-run, beside the floor: a play that only runs \`ansible.builtin.ping\` on the same
hosts (database host included). The database host is converged once before the timed
runs (its reader account already lists all four addresses), so each size's first run
is the mail hosts' first run plus the database play's no-op.

Reproduce: \`bench/fleet_bench.sh\` (after \`make setup\`). Measured on $(date -u +%Y-%m-%d),
$(nproc) CPU(s), load average before the run: $LOAD0, ansible-core $(ansible --version | head -1 | grep -o '[0-9.]*' | head -1).

| mail hosts | first run (s) | no-op re-run (s) | ping floor (s) | no-op / floor |
| --- | --- | --- | --- | --- |
$ROWS
## Targets

| target | measured | verdict |
| --- | --- | --- |
| no-op re-run within 4x of the ping floor ($HI hosts) | $(printf '%.1fx' "$R_NOOP") | $(verdict "$R_NOOP" 4) |
| $HI hosts within 2x the time of $LO host (first run) | $(printf '%.2fx' "$R_SCALE") | $(verdict "$R_SCALE" 2) |
| $HI hosts within 2x the time of $LO host (no-op re-run) | $(printf '%.2fx' "$R_SCALE_NOOP") | $(verdict "$R_SCALE_NOOP" 2) |

## Where the time goes ($HI hosts, profile_tasks)

First run:

$TOP

No-op re-run:

$TOPNOOP

## Reading the numbers

- Every task a host runs pays the connection's fixed cost: over the podman connection a
  temporary directory, a copy of the module and a \`podman exec python3\` (it cannot
  pipeline), about as much as the whole ping floor for one host. The ratio to the floor is
  therefore about the number of module runs, not the work they do.
- An unchanged mail host costs three module runs plus one per check: \`postfix_info\`
  (packages, service, version and chrooted services: facts only), \`mysql_maps\` (it
  compares and, where needed, writes all client files and main.cf in one call),
  \`db_recovery_watch\` (the database recovery service: program, unit and state in one
  call), and the \`mailfleet_postfix_checks\` lookups (one here); \`validate_maps\` runs on the
  controller and costs no round trip. The package, debconf and service tasks are skipped
  when \`postfix_info\` found nothing missing. An unchanged database host costs three:
  \`system_info\`, its settings drop-in (\`mariadb_server_settings\`, which decides itself) and
  \`mail_database\` (database, content and the reader account of every mail host in
  one call).
- The hosts of a task run in parallel (5 forks), but on $(nproc) CPU(s) 4 hosts' module runs
  compete for the CPU: the first run's package installation is CPU-bound, and 4 hosts
  take longer than one there than in the no-op run.
- Logs of every run (profile_tasks): \`$(realpath --relative-to="$ROOT" "$LOGS")/\`.
MD
echo "==> wrote $OUT"
