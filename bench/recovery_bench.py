# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seconds from "the database is reachable again" to the first 250, per Debian release.

Not a test: writes docs/recovery-benchmark.md. Starts and removes its own containers
(mf-rbench-*) on its own network (mf-rbench, 10.213.49.0/24): one database host and a
Debian 12 and a Debian 13 mail host set up by playbooks/site.yml. The SMTP probe
(molecule/shared/smtp_probe.py) runs in the database container, so the mail hosts see
a non-loopback client; it asks for john@example.org every 0.25 s, as a sender retrying
would, which is the worst case for Postfix's per-process answer cache.

For each setting (the role's defaults, and without the recovery watcher) and each round:
  outage   MariaDB stopped for 10 s (lookups fail meanwhile), then started;
  restart  `systemctl restart mariadb` while the probe runs.
The seconds are measured from the moment `systemctl start` returned (MariaDB is ready
then: Type=notify) to each mail host's first 250 afterwards.

    make bench-recovery     # or .venv/bin/python bench/recovery_bench.py after `make setup`
"""

import json
import os
import statistics
import tempfile
import threading
import time

from benchlib import ROOT, Progress, cleanup, run, write_inventory

PROBE = os.path.join(ROOT, 'molecule', 'shared', 'smtp_probe.py')
OUT = os.environ.get('RECOVERY_BENCH_OUT', os.path.join(ROOT, 'docs', 'recovery-benchmark.md'))
ROUNDS = int(os.environ.get('RECOVERY_BENCH_ROUNDS', '2'))
NET, PREFIX = 'mf-rbench', '10.213.49'
DB = ('mf-rbench-db', PREFIX + '.10', 'bookworm')
MAIL = [('mf-rbench-mail12', PREFIX + '.21', 'bookworm'), ('mf-rbench-mail13', PREFIX + '.22', 'trixie')]
RELEASE = {'mf-rbench-mail12': 'Debian 12', 'mf-rbench-mail13': 'Debian 13'}
SETTINGS = [('role defaults', {}),
            ('without the recovery watcher', {'mailfleet_postfix_db_recovery_watch': False})]


def probe(job):
    with open(PROBE) as handle:
        script = handle.read()
    out = run('podman', 'exec', '-i', DB[0], 'python3', '-', json.dumps(job), input=script)
    return [json.loads(line) for line in out.splitlines()]


def mariadb(action):
    # Stopped with its socket unit too, or the first connection would start it again.
    units = ['mariadb.socket', 'mariadb.service'] if action == 'stop' else ['mariadb.service']
    run('podman', 'exec', DB[0], 'systemctl', action, *units)


def first_250(lines, since):
    found = {}
    for line in lines:
        if line['t'] >= since and line['codes'].get('john@example.org') == 250:
            found.setdefault(line['server'], line['t'] - since)
    return found


def one_round(kind):
    """{mail host: seconds to the first 250 after the database is back}, {mail host: 4xx
    answers after it was back}, and the number of 5xx answers seen."""
    servers = [address for _n, address, _i in MAIL]
    by_address = dict((address, name) for name, address, _i in MAIL)
    if kind == 'outage':
        mariadb('stop')
        lines = probe(dict(servers=servers, recipients=['john@example.org'], rounds=40, interval=0.25, deadline=10))
        mariadb('start')
        back = time.time()
        lines += probe(dict(servers=servers, recipients=['john@example.org'], rounds=400, interval=0.25,
                            deadline=75, until_accepted='john@example.org'))
    else:
        lines = []
        thread = threading.Thread(target=lambda: lines.extend(probe(dict(
            servers=servers, recipients=['john@example.org'], rounds=400, interval=0.25, deadline=75))))
        thread.start()
        time.sleep(2)
        mariadb('restart')
        back = time.time()
        thread.join(120)
    deferred = dict((name, 0) for name in by_address.values())
    for line in lines:
        if line['t'] >= back and 400 <= line['codes'].get('john@example.org', 0) < 500:
            deferred[by_address[line['server']]] += 1
    fivexx = sum(1 for line in lines for code in line['codes'].values() if code >= 500)
    return dict((by_address[a], s) for a, s in first_250(lines, back).items()), deferred, fivexx


def main():
    cleanup('mf-rbench-', NET)
    work = tempfile.mkdtemp(prefix='recovery_bench.')
    try:
        run('podman', 'network', 'create', '--subnet', PREFIX + '.0/24', NET)
        for name, address, image in [DB] + MAIL:
            run('podman', 'run', '-d', '--name', name, '--hostname', name, '--network', NET, '--ip', address,
                '--systemd=always', 'localhost/mailfleet-debian:' + image, '/lib/systemd/systemd')
        path = os.path.join(work, 'inventory.json')
        write_inventory(path, DB, MAIL, [address for _n, address, _i in MAIL])
        rows = []
        progress = Progress(len(SETTINGS) * 2 * ROUNDS)
        for label, extra in SETTINGS:
            run('ansible-playbook', '-i', path, os.path.join(ROOT, 'playbooks', 'site.yml'), '-e', json.dumps(extra))
            for kind in ('outage', 'restart'):
                seconds = dict((name, []) for name, _a, _i in MAIL)
                deferred = dict((name, 0) for name, _a, _i in MAIL)
                fivexx = 0
                for round_number in range(ROUNDS):
                    progress.step('%s, %s, round %d of %d' % (label, kind, round_number + 1, ROUNDS))
                    found, late, bad = one_round(kind)
                    fivexx += bad
                    for name in seconds:
                        seconds[name].append(found.get(name))
                        deferred[name] += late[name]
                    time.sleep(3)
                for name, values in seconds.items():
                    rows.append((label, kind, RELEASE[name], values, deferred[name], fivexx))
                    progress.say('  %s %s %s %r %d %d' % (label, kind, RELEASE[name], values, deferred[name], fivexx))
        write(rows)
    finally:
        cleanup('mf-rbench-', NET)


def shown(values):
    known = [v for v in values if v is not None]
    text = ', '.join('%.1f' % v if v is not None else 'none in 90 s' for v in values)
    return '%s (median %.1f)' % (text, statistics.median(known)) if known else text


def write(rows):
    lines = [
        '# Recovery after a database outage',
        '',
        'Seconds from "MariaDB is reachable again" (`systemctl start` returned) to the first `250` for',
        '`RCPT TO:<john@example.org>`, asked every 0.25 s from another container, per mail host; %d rounds each.'
        % ROUNDS,
        '*outage*: MariaDB stopped for 10 s, then started; *restart*: `systemctl restart mariadb` under the probe.',
        'One database host (`mailfleet_postfix_db_hosts` with one address), Postfix 3.7 on Debian 12 and 3.10 on',
        'Debian 13, the role\'s client files otherwise unchanged.',
        '',
        '| Setting | Case | Mail host | Seconds to the first 250 | 4xx after the database was back | 5xx |',
        '|---|---|---|---|---|---|',
    ]
    for label, kind, release, values, deferred, fivexx in rows:
        lines.append('| %s | %s | %s | %s | %d | %d |' % (label, kind, release, shown(values), deferred, fivexx))
    lines += ['', 'Reproduce (about 10 minutes, from the collection root): `make bench-recovery`', '']
    with open(OUT, 'w') as handle:
        handle.write('\n'.join(lines))
    print('wrote', OUT)


if __name__ == '__main__':
    main()
