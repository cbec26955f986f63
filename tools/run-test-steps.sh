#!/usr/bin/env bash
# `make test`'s driver: runs each make target of STEPS in turn, announced as
# "==> make test: step N of M: NAME (time so far)", and stops at the first failure.
#
# BESIDE names targets that run one after another in a second lane, from the end of step
# AFTER (at once when AFTER is empty) until STEPS reaches BEFORE (the first step whose
# timings must not share the machine: the scenarios with outage, load or recovery tests).
# Neither lane's steps before BEFORE measure time, so the two cores are shared freely; the
# scenarios of the two lanes have containers, networks and molecule directories of their
# own. The lane's output goes to LOG_DIR and is printed whole when it ends, so that no two
# outputs mix; if it fails, the run fails there, naming the target and printing its output.
#
# Usage: run-test-steps.sh "STEPS..." "BESIDE..." AFTER BEFORE LOG_DIR
set -euo pipefail

# The second lane, run by this script itself: --lane STATUS_FILE TARGET...
if [ "${1-}" = --lane ]; then
  status_file=$2
  shift 2
  for target in "$@"; do
    printf '\n==> make test: beside: %s\n' "$target"
    if ! make --no-print-directory "$target"; then
      printf '%s\n' "$target" >"$status_file"
      exit 1
    fi
  done
  exit 0
fi

read -r -a steps <<<"$1"
read -r -a beside <<<"$2"
after=$3
before=$4
log_dir=$5
start=$(date +%s)
mkdir -p "$log_dir"

since_start() {
  local elapsed=$(($(date +%s) - start))
  printf '%dm%02ds' $((elapsed / 60)) $((elapsed % 60))
}

beside_pid=
beside_log=$log_dir/beside.log
beside_status=$log_dir/beside.status
stop_beside() {
  if [ -n "$beside_pid" ]; then
    kill -- "-$beside_pid" 2>/dev/null || true
    wait "$beside_pid" 2>/dev/null || true
  fi
}
trap stop_beside EXIT

join_beside() {
  [ -n "$beside_pid" ] || return 0
  local status=0
  wait "$beside_pid" || status=$?
  beside_pid=
  printf '\n==> make test: the second lane ended (%s so far); its output:\n' "$(since_start)"
  cat "$beside_log"
  if [ "$status" -ne 0 ]; then
    printf '==> make test: %s (second lane) FAILED\n' "$(cat "$beside_status" 2>/dev/null || echo "the lane")"
    exit 1
  fi
}

start_beside() {
  [ ${#beside[@]} -gt 0 ] || return 0
  rm -f "$beside_status"
  # A process group of its own, so that a failure in STEPS stops the whole lane.
  setsid "$0" --lane "$beside_status" "${beside[@]}" >"$beside_log" 2>&1 &
  beside_pid=$!
  printf '\n==> make test: in a second lane until %s: %s (output: %s)\n' \
    "$before" "${beside[*]}" "$beside_log"
}

if [ -z "$after" ]; then start_beside; fi
for i in "${!steps[@]}"; do
  if [ "${steps[i]}" = "$before" ]; then join_beside; fi
  printf '\n==> make test: step %d of %d: %s (%s so far)\n' $((i + 1)) ${#steps[@]} "${steps[i]}" "$(since_start)"
  make --no-print-directory "${steps[i]}" || {
    printf '==> make test: step %d of %d (%s) FAILED\n' $((i + 1)) ${#steps[@]} "${steps[i]}"
    exit 1
  }
  if [ "${steps[i]}" = "$after" ]; then start_beside; fi
done
join_beside
printf '\n==> make test: all %d steps and %d beside them passed in %s\n' ${#steps[@]} ${#beside[@]} "$(since_start)"
