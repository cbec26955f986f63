#!/usr/bin/env bash
# make bench: how fast postmap_query (and the postmap lookup) answer many keys, against
# one postmap process per key and against plain SQL. Not a test: it prints a Markdown
# table and writes it to docs/postmap-benchmark.md.
#
# Starts its own container (mf-bench, Debian 12) with MariaDB and Postfix, loads
# BENCH_KEYS/2 mailboxes, and times BENCH_KEYS addresses (half of them unknown):
#   (a)  the collection's postmap runner (plugins/module_utils/postmap.py), as the module
#        runs it, with the default parallelism and with parallel=1;
#   (a') the module itself through Ansible's podman connection (wall time, for context);
#   (b)  one `postmap -q KEY` process per key, on a BENCH_SAMPLE-key sample, extrapolated;
#   (c)  one single-key SELECT per key on one PyMySQL connection;
#   (d)  one SELECT ... WHERE email IN (...) for all keys.
set -euo pipefail
cd "$(dirname "$0")/.."
name=mf-bench
image=localhost/mailfleet-debian:bookworm
keys=${BENCH_KEYS:-10000}
sample=${BENCH_SAMPLE:-1000}
repeat=${BENCH_REPEAT:-3}
output=${BENCH_OUTPUT:-docs/postmap-benchmark.md}
results=bench/results
table=mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf
# A throwaway container's read-only account: not a secret.
db_password=bench-only-password
collection=/root/bench/ansible_collections/mailfleet/postfix_mysql

cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
}
cleanup
trap cleanup EXIT
mkdir -p "$results" "$(dirname "$output")"

tools/start-container.sh "$name" "$image" --hostname mail.example.org

echo "==> Installing MariaDB, Postfix with MySQL support and PyMySQL"
podman exec "$name" sh -c '
  set -e
  printf "%s\n" "postfix postfix/main_mailer_type select Internet Site" \
    "postfix postfix/mailname string mail.example.org" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    mariadb-server postfix postfix-mysql python3-pymysql >/dev/null
  systemctl start mariadb'

echo "==> Loading $((keys / 2)) mailboxes"
podman exec -i "$name" mariadb <<SQL
CREATE DATABASE mailserver CHARACTER SET utf8mb4;
USE mailserver;
CREATE TABLE virtual_domains (
  id int NOT NULL AUTO_INCREMENT, name varchar(50) NOT NULL,
  PRIMARY KEY (id), UNIQUE KEY name (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE virtual_users (
  id int NOT NULL AUTO_INCREMENT, domain_id int NOT NULL, email varchar(100) NOT NULL,
  password varchar(150) NOT NULL, quota bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (id), UNIQUE KEY email (email),
  FOREIGN KEY (domain_id) REFERENCES virtual_domains (id) ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO virtual_domains (name) VALUES ('example.org');
INSERT INTO virtual_users (domain_id, email, password)
  SELECT 1, CONCAT('user', LPAD(seq, 5, '0'), '@example.org'), '{BLF-CRYPT}not-a-real-hash' FROM seq_1_to_$((keys / 2));
CREATE USER 'mailuser'@'127.0.0.1' IDENTIFIED BY '$db_password';
GRANT SELECT ON mailserver.* TO 'mailuser'@'127.0.0.1';
SQL

echo "==> Writing the client file and copying the collection's postmap runner"
podman exec -i "$name" sh -c 'cat > /etc/postfix/mysql-virtual-mailbox-maps.cf &&
  chown root:postfix /etc/postfix/mysql-virtual-mailbox-maps.cf && chmod 0640 /etc/postfix/mysql-virtual-mailbox-maps.cf' <<CF
user = mailuser
password = $db_password
hosts = 127.0.0.1
dbname = mailserver
query = SELECT 1 FROM virtual_users WHERE email='%s'
CF
podman exec "$name" mkdir -p "$collection/plugins/module_utils"
for file in plugins/module_utils/postmap.py plugins/module_utils/postfix_cli.py; do
  podman cp "$file" "$name:$collection/$file"
done
podman cp bench/postmap_bench.py "$name:/root/bench/postmap_bench.py"

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "==> Measuring (a), (b), (c), (d): $keys keys, best of $repeat; (b) on $sample keys"
podman exec "$name" python3 /root/bench/postmap_bench.py measure --collections /root/bench \
  --keys "$keys" --sample "$sample" --repeat "$repeat" --db-password "$db_password" > "$results/postmap.json"

echo "==> Measuring (a'): the module through Ansible's podman connection, best of $repeat"
python3 bench/postmap_bench.py keys --keys "$keys" > "$results/postmap-keys.json"
best=
for _ in $(seq "$repeat"); do
  start=$(date +%s.%N)
  ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.posix.json \
    ansible all -i "$name," -c containers.podman.podman -e ansible_python_interpreter=/usr/bin/python3 \
    -e @"$results/postmap-keys.json" -m mailfleet.postfix_mysql.postmap_query \
    -a "{\"table\": \"$table\", \"keys\": \"{{ bench_keys }}\"}" > "$results/postmap-ansible.json"
  end=$(date +%s.%N)
  elapsed=$(python3 -c "print($end - $start)")
  if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $elapsed < $best)"; then
    best=$elapsed
  fi
done

python3 bench/postmap_bench.py report --results "$results/postmap.json" --ansible-seconds "$best" \
  --ansible-output "$results/postmap-ansible.json" --date "$(date -u +%Y-%m-%d)" --load "$load" \
  --host "Debian $(cat /etc/debian_version) host, $(podman --version)" --output "$output"
echo "==> Wrote $output"
