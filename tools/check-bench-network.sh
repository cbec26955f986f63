#!/usr/bin/env bash
# Try on this machine, end to end, the networking that the molecule scenarios rely on, and
# say what is wrong before a scenario fails on it half an hour into `make test`:
#   - a podman network with a fixed subnet, containers with fixed addresses and MACs;
#   - the controller reaches a container over TCP, and so does another container;
#   - after `podman stop` and `podman start` the container has the same MAC, and both are
#     answered again at once (the fleet scenario restarts a mail host, then runs Ansible
#     over SSH to it: a new MAC left the old one in the neighbour caches, and SSH timed out).
# The result is remembered per podman version, kernel and podman settings
# (.cache/bench-network.ok); CHECK_NETWORK=1 tries again anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

image=localhost/mailfleet-debian:bookworm
network=mailfleet-netcheck
subnet=10.213.46
server=mailfleet-netcheck-server
client=mailfleet-netcheck-client
mac=02:00:0a:d5:2e:0a
stamp=.cache/bench-network.ok

key=$({ podman version --format '{{.Client.Version}}'; uname -r; cat /etc/containers/containers.conf 2>/dev/null
        podman info --format '{{.Host.NetworkBackend}}'; } | sha256sum | cut -c1-16)
if [ "${CHECK_NETWORK:-0}" != 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  exit 0
fi

fail() {
  echo "check-bench-network: $*" >&2
  echo "check-bench-network: podman's network back end is $(podman info --format '{{.Host.NetworkBackend}}');" \
    "the FORWARD chain's policy is $(iptables -S FORWARD 2>/dev/null | head -n 1 || echo unknown)" >&2
  exit 1
}
cleanup() {
  podman rm -f -t 0 "$server" "$client" >/dev/null 2>&1 || true
  podman network rm -f "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

# Whether HOST's TCP port 8080 answers within SECONDS, asked from the controller.
answers_from_controller() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/8080" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

echo "==> Trying the test bench's container network (a fixed address and MAC, restarted)"
podman network create --subnet "$subnet.0/24" "$network" >/dev/null
podman run -d --name "$server" --network "$network" --ip "$subnet.10" --mac-address "$mac" "$image" \
  python3 -m http.server --bind 0.0.0.0 8080 >/dev/null
podman run -d --name "$client" --network "$network" --ip "$subnet.11" "$image" sleep 600 >/dev/null
answers_from_controller "$subnet.10" 10 ||
  fail "the controller cannot reach a container at $subnet.10 on a podman network of its own"
podman exec "$client" python3 -c "import socket; socket.create_connection(('$subnet.10', 8080), timeout=5)" ||
  fail "one container cannot reach another on the same podman network (a firewall's FORWARD policy?)"

podman stop -t 0 "$server" >/dev/null
podman start "$server" >/dev/null
seen=$(podman exec "$server" cat /sys/class/net/eth0/address)
[ "$seen" = "$mac" ] ||
  fail "a restarted container came back with the MAC $seen instead of its --mac-address $mac"
answers_from_controller "$subnet.10" 5 ||
  fail "the controller did not reach a restarted container within 5 s; neighbour entry: $(ip neigh show "$subnet.10")"
podman exec "$client" python3 -c "import socket; socket.create_connection(('$subnet.10', 8080), timeout=5)" ||
  fail "another container did not reach a restarted container within 5 s"

mkdir -p "$(dirname "$stamp")"
echo "$key" >"$stamp"
echo "==> The container network works (back end $(podman info --format '{{.Host.NetworkBackend}}'))"
