#!/usr/bin/env bash
# The collection in its execution environment (EE), as AWX or ansible-navigator runs it:
#   tools/ee-test.sh TARBALL      (make test-ee: after make setup, the checked tarball)
#   1. .cache/venvs/ee with ansible-builder and ansible-navigator (requirements/ee.txt);
#   2. the collection's tarball, and community.mysql and community.crypto packed from
#      .venv, since no Galaxy server can be reached;
#   3. localhost/mailfleet-ee-base:trixie from execution-environment/base/, rebuilt when
#      its recipe, the machine's CA bundle or the Debian image under it changed;
#   4. localhost/mailfleet-ee:VERSION with ansible-builder from
#      execution-environment/execution-environment.yml, rebuilt when what goes into it
#      changed;
#   5. a Debian 12 mail host container reached over SSH, on a network of its own;
#   6. playbooks/site.yml run twice in the EE by ansible-navigator (the second run must
#      change nothing), with the demo's variables and vault; then the demo's checks
#      (tools/demo-checks.sh), in the EE too.
# The containers and the network go at the end, and stale ones of the same names first.
# Logs, and the EE's build context, stay in .cache/ee-test/. EE_REBUILD=1 rebuilds both
# images.
set -euo pipefail
tarball=$(realpath "${1:?usage: ee-test.sh TARBALL (the collection, from make tarball)}")
cd "$(dirname "$0")/.."
top=$PWD
started=$SECONDS
say() { printf '==> [%4ss] %s\n' "$((SECONDS - started))" "$*"; }

venv=$top/.cache/venvs/ee
logs=$top/.cache/ee-test
debian_image=localhost/mailfleet-debian:trixie
host_image=localhost/mailfleet-debian:bookworm
base_image=localhost/mailfleet-ee-base:trixie
# The EE carries the collection's version, as its tarball is named (NAMESPACE-NAME-VERSION.tar.gz).
version=${tarball##*-}
ee_image=localhost/mailfleet-ee:${version%.tar.gz}
host=mailfleet-ee-mail
network=mailfleet-ee
# The labels that tell which recipe the base image, and which inputs the EE, were built
# from. The EE inherits the base image's label: every image of this script carries it.
base_label=org.mailfleet.ee-base-recipe
ee_label=org.mailfleet.ee-inputs

remove_containers() {
  podman rm -f -t 0 "$host" >/dev/null 2>&1 || true
  if podman network exists "$network"; then
    podman network rm -f "$network" >/dev/null
  fi
}
work=$(mktemp -d "${TMPDIR:-/tmp}/mailfleet-ee.XXXXXX")
cleanup() {
  remove_containers
  rm -rf "$work"
}
trap cleanup EXIT
remove_containers
mkdir -p "$logs"

# Run a long command with its output in a log; show the log's end if it fails.
logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "ee-test: failed: $* (whole log: $log)" >&2
    return 1
  fi
}

# An image's label (image, label), or nothing when there is no such image.
image_label() {
  podman image inspect --format "{{ index .Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# --- 1. tools
tools/make-venv.sh "$venv" "${TOOLS_PYTHON:-3.11}" requirements/ee.txt

# --- 2. the collections, as tarballs under the copy of the EE definition
say "The collection tarballs"
definition=$work/ee/execution-environment.yml
mkdir -p "$work/ee/collections"
cp execution-environment/execution-environment.yml "$definition"
cp "$tarball" "$work/ee/collections/mailfleet-postfix_mysql.tar.gz"
# community.mysql and community.crypto as .venv has them (the `ansible` package).
.venv/bin/python tools/pack-collection.py "$work/ee/collections" community.mysql community.crypto

# The EE runs the newest supported ansible-core: the release `make versions` tests.
ee_core=$(sed -n 's/^ *package_pip: *\(ansible-core==.*\)$/\1/p' "$definition")
tested_core=$(grep -h '^ansible-core==' requirements/ansible-core-*.txt | sort -V | tail -n 1)
if [ "$ee_core" != "$tested_core" ]; then
  echo "ee-test: execution-environment.yml pins '$ee_core', the newest release tested is '$tested_core'" \
    "(requirements/ansible-core-*.txt): pin the same" >&2
  exit 1
fi

# --- 3. the base image
base_context=$work/base
mkdir -p "$base_context"
cp execution-environment/base/* "$base_context/"
cp /etc/ssl/certs/ca-certificates.crt "$base_context/"
base_recipe=$({ podman image inspect --format '{{.Id}}' "$debian_image"; cat "$base_context"/*; } | sha256sum | cut -c1-16)
if [ "${EE_REBUILD:-0}" = 1 ] || [ "$(image_label "$base_image" "$base_label")" != "$base_recipe" ]; then
  say "Building $base_image (log: .cache/ee-test/base.log)"
  logged "$logs/base.log" podman build --layers=false --label "$base_label=$base_recipe" --tag "$base_image" \
    --file "$base_context/Containerfile" "$base_context"
else
  say "$base_image is up to date"
fi

# --- 4. the execution environment
# What goes into it: the definition, the base image, ansible-builder's version, and the
# collections' manifests (which hold the checksums of all their files).
ee_inputs=$({
  podman image inspect --format '{{.Id}}' "$base_image"
  cat "$definition" requirements/ee.txt
  for tarball in "$work"/ee/collections/*.tar.gz; do tar -xzOf "$tarball" MANIFEST.json; done
} | sha256sum | cut -c1-16)
if [ "${EE_REBUILD:-0}" = 1 ] || [ "$(image_label "$ee_image" "$ee_label")" != "$ee_inputs" ]; then
  say "ansible-builder build: $ee_image (about a minute; log: .cache/ee-test/ansible-builder.log)"
  # The build context (with the Containerfile ansible-builder wrote) stays for a look.
  rm -rf "$logs/context"
  logged "$logs/ansible-builder.log" "$venv/bin/ansible-builder" build --file "$definition" \
    --context "$logs/context" --tag "$ee_image" --container-runtime podman --verbosity 3 \
    --extra-build-cli-args="--layers=false --label=$ee_label=$ee_inputs"
else
  say "$ee_image is up to date"
fi
# Earlier builds of the two images, now untagged, are not kept.
for image in $(podman images --quiet --filter dangling=true --filter "label=$base_label"); do
  podman rmi "$image" >/dev/null 2>&1 || true
done
# What the collection's meta/execution-environment.yml asked for is there: PyMySQL
# (requirements.txt), Postfix with the mysql map type for the postmap lookup (bindep.txt).
contents=$(podman run --rm --entrypoint sh "$ee_image" -c '
  set -e
  postconf -m | grep -qx mysql
  pymysql=$(python3 -c "import importlib.metadata as m; print(m.version(\"PyMySQL\"))")
  echo "$(ansible --version | head -n 1), ansible-runner $(ansible-runner --version)," \
    "PyMySQL $pymysql, postmap with the mysql map type"')
say "In $ee_image: $contents"

# --- 5. the mail host, reached over SSH
podman network create "$network" >/dev/null
tools/start-container.sh "$host" "$host_image" --hostname mail.example.org --network "$network"
# The key is made in the EE, which has ssh-keygen (openssh-client, from bindep.txt).
podman run --rm --user root --volume "$work:$work:z" --entrypoint ssh-keygen "$ee_image" \
  -q -t ed25519 -N '' -C mailfleet-ee-test -f "$work/id_ed25519"
tools/enable-ssh.sh "$host" "$work/id_ed25519.pub"
address=$(podman container inspect --format "{{ (index .NetworkSettings.Networks \"$network\").IPAddress }}" "$host")
host_key=$(podman exec "$host" cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f1,2)
printf '%s %s\n' "$address" "$host_key" >"$work/known_hosts"
say "Mail host $host at $address, SSH key and host key in place"

# The demo's inventory, reached over SSH instead of podman: the demo's group_vars (its
# data and its vault) beside it, and its vault password.
mkdir -p "$work/inventory"
cp -r demo/group_vars "$work/inventory/"
cp demo/vault-password.txt "$work/vault-password.txt"
cat >"$work/inventory/hosts.yml" <<YAML
---
all:
  children:
    mail_databases:
      hosts:
        $host:
    mail_servers:
      hosts:
        $host:
  vars:
    ansible_host: $address
    ansible_user: root
    ansible_ssh_private_key_file: $work/id_ed25519
    ansible_ssh_common_args: -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes
    ansible_python_interpreter: /usr/bin/python3
    # Root logs in; real hosts keep site.yml's become.
    ansible_become: false
YAML

# --- 6. the playbooks, in the EE
# ansible-runner gives the EE the host's IPC namespace (podman run --ipc=host), so
# ansible-navigator wants /dev/mqueue on this machine: tools/setup-host.sh mounts it.
# ansible-navigator mounts its working directory ($work, with the inventory, the key and
# the vault password) at the same path in the EE; the EE joins the mail host's network.
# Where its output is no terminal, the event markers of ansible-runner show as base64
# between escape sequences (ansible-navigator issue 1828): the wrapper takes them out.
# The EE runs the collections installed in it: a collections path of the caller's (the
# Makefile exports one, at the repository) would be passed in and hide them.
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
cat >"$work/navigator" <<SH
#!/usr/bin/env bash
set -euo pipefail
"$venv/bin/ansible-navigator" run --ee true --ce podman --eei "$ee_image" --pp never \\
  --mode stdout --dc false --pae false --lf "$logs/navigator.log" --co=--network=$network "\$@" 2>&1 |
  sed -E 's/\x1b\[K[A-Za-z0-9+\/=]*\x1b\[[0-9]+D//g; s/\x1b\[K//g'
SH
chmod +x "$work/navigator"
cd "$work"
playbook_args=(-i "$work/inventory/hosts.yml" --vault-password-file "$work/vault-password.txt")

for run in first second; do
  say "ansible-navigator run mailfleet.postfix_mysql.site in the EE ($run run)"
  "$work/navigator" mailfleet.postfix_mysql.site "${playbook_args[@]}" | tee "$logs/site-$run.log"
done
recap=$(grep -E "^$host +:" "$logs/site-second.log" | tail -n 1)
if ! grep -qE ' changed=0 .* failed=0 ' <<<"$recap"; then
  echo "ee-test: the second run of site.yml changed something or failed: $recap" >&2
  exit 1
fi
say "Second run changed nothing"
# Nothing on the hosts' side spoke out of turn (a module's stderr after its JSON shows as
# "junk after the JSON data"), and the password is in no output.
if grep -h "junk after the JSON data" "$logs"/site-*.log; then
  echo "ee-test: a module wrote more than its JSON (above)" >&2
  exit 1
fi
password=$("$top/.venv/bin/ansible-vault" view --vault-password-file "$work/vault-password.txt" \
  "$work/inventory/group_vars/all/vault.yml" | sed -n 's/^vault_mailuser_password: *//p')
if [ -z "$password" ] || grep -lF "$password" "$logs"/site-*.log "$logs/navigator.log"; then
  echo "ee-test: the database password is in the output above (or could not be read from the vault)" >&2
  exit 1
fi
say "No module wrote more than its JSON; the password is in no output"

say "The demo's checks, in the EE"
"$top/tools/demo-checks.sh" "$work/navigator" mailfleet.postfix_mysql.check_maps "${playbook_args[@]}" \
  --penv ANSIBLE_CALLBACK_RESULT_FORMAT --penv ANSIBLE_DISPLAY_SKIPPED_HOSTS

say "Passed: site.yml and the checks in $ee_image"
