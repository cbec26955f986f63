# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database connections a mail host opens under concurrent SMTP, with mysql: and proxy:mysql:.

Not a test: writes docs/connections-benchmark.md. Starts and removes its own containers
(mf-cbench-*) on its own network (mf-cbench, 10.213.50.0/24): one MariaDB host with
Debian's defaults (max_connections 151), four mail hosts (two Debian 12, two Debian 13)
set up by playbooks/site.yml with Postfix's default process limits, and a client
container that sends the load, so that the mail hosts see a non-loopback client.

For each way of reading the maps and each number of mail hosts (1, then 4), SESSIONS
SMTP sessions per mail host are opened at once; when all are open, each asks RCPT TO for
two existing addresses and an unknown one, holds the session HOLD seconds, and quits.
Meanwhile the database's PROCESSLIST is sampled for the reader's connections per mail
host. Reported: the peak per mail host, MariaDB's Max_used_connections and the
connections it refused for max_connections, "Too many connections" in the mail hosts'
logs, and the answers (a 4xx for an existing address is mail deferred).

The load comes from one address, so Postfix's per-client limits (anvil) are lifted on the
mail hosts for the measurement; the process limits stay Postfix's defaults.

    make bench-connections   # or .venv/bin/python bench/connections_bench.py after `make setup`
"""

import json
import os
import subprocess
import tempfile
import threading
import time

from benchlib import ROOT, Progress, cleanup, run, write_inventory

OUT = os.environ.get('CONNECTIONS_BENCH_OUT', os.path.join(ROOT, 'docs', 'connections-benchmark.md'))
SESSIONS = int(os.environ.get('CONNECTIONS_BENCH_SESSIONS', '50'))
MAIL_HOST_COUNTS = (1, 4)
HOLD = 3
NET, PREFIX = 'mf-cbench', '10.213.50'
DB = ('mf-cbench-db', PREFIX + '.10', 'trixie')
CLIENT = ('mf-cbench-client', PREFIX + '.30', 'trixie')
MAIL = [('mf-cbench-mail1', PREFIX + '.21', 'bookworm'), ('mf-cbench-mail2', PREFIX + '.22', 'trixie'),
        ('mf-cbench-mail3', PREFIX + '.23', 'bookworm'), ('mf-cbench-mail4', PREFIX + '.24', 'trixie')]
RECIPIENTS = {'john@example.org': 250, 'jack@example.org': 250, 'nobody@example.org': 550}
# (label, role variables): the ways to read the maps that are compared.
MODES = [
    ('mysql: (each Postfix process connects)', {'mailfleet_postfix_proxy': False}),
    ('proxy:mysql:, proxymap up to 100 processes (Postfix\'s default)',
     {'mailfleet_postfix_proxy': True, 'mailfleet_postfix_proxymap_process_limit': 100}),
    ('proxy:mysql:, proxymap up to 4 processes (the role\'s default)',
     {'mailfleet_postfix_proxy': True, 'mailfleet_postfix_proxymap_process_limit': 4}),
]
# Runs in the client container: SESSIONS sessions per server, all open before the first RCPT.
# Bounded: at most 100 sessions per server, 60 s for the whole load.
LOAD = r'''
import json, smtplib, sys, threading, time
job = json.loads(sys.argv[1])
servers, recipients, sessions = job['servers'], job['recipients'], min(int(job['sessions']), 100)
deadline = time.time() + 60
barrier = threading.Barrier(len(servers) * sessions, timeout=30)
results = []
def one(server):
    codes, error = {}, None
    try:
        client = smtplib.SMTP(server, 25, local_hostname='load.mailfleet.invalid', timeout=30)
        client.ehlo()
        client.mail('load@example.net')
        barrier.wait()
        for rcpt in recipients:
            codes[rcpt] = client.rcpt(rcpt)[0]
        time.sleep(max(0, min(job['hold'], deadline - time.time())))
        client.quit()
    except Exception as exc:
        error = '%s: %s' % (type(exc).__name__, exc)
        try:
            barrier.abort()
        except Exception:
            pass
    results.append(dict(server=server, codes=codes, error=error))
threads = [threading.Thread(target=one, args=(s,)) for s in servers for _ in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join(max(1, deadline - time.time()))
print(json.dumps(results))
'''

PEAK_SQL = ("SELECT SUBSTRING_INDEX(HOST, ':', 1), COUNT(*) FROM information_schema.PROCESSLIST "
            "WHERE USER IN ('mailuser', 'mailuser_b') GROUP BY 1")


def sql(query):
    return [line.split('\t') for line in run('podman', 'exec', DB[0], 'mariadb', '--batch', '--skip-column-names',
                                             '--execute', query).splitlines()]


def sample(peaks, stop):
    """Peak reader connections per client address, and of all together ('all'), until STOP is set."""
    while not stop.is_set():
        try:
            rows = sql(PEAK_SQL)
        except subprocess.CalledProcessError:
            # The server refused the sampler too: it is full, the peak is its max_connections.
            peaks['full'] = True
            time.sleep(0.2)
            continue
        for address, count in rows:
            peaks[address] = max(peaks.get(address, 0), int(count))
        peaks['all'] = max(peaks.get('all', 0), sum(int(count) for _address, count in rows))
        time.sleep(0.2)


def refused_so_far():
    """Connections MariaDB refused for max_connections since it started (a global counter)."""
    rows = sql("SHOW GLOBAL STATUS LIKE 'Connection_errors_max_connections'")
    return int(rows[0][1]) if rows else 0


def one_load(mail):
    refused_before = refused_so_far()
    since = run('date', '+%Y-%m-%d %H:%M:%S').strip()
    peaks, stop = {}, threading.Event()
    sampler = threading.Thread(target=sample, args=(peaks, stop))
    sampler.start()
    try:
        job = dict(servers=[address for _n, address, _i in mail], recipients=list(RECIPIENTS), sessions=SESSIONS,
                   hold=HOLD)
        results = json.loads(run('podman', 'exec', '-i', CLIENT[0], 'python3', '-', json.dumps(job), input=LOAD))
        time.sleep(1)
    finally:
        stop.set()
        sampler.join()
    too_many = 0
    for name, _address, _image in mail:
        log = run('podman', 'exec', name, 'journalctl', '--since', since, '--no-pager', '-q')
        too_many += log.count('Too many connections')
    deferred = sum(1 for r in results for rcpt, code in r['codes'].items() if RECIPIENTS[rcpt] == 250
                   and 400 <= code < 500)
    wrong = sum(1 for r in results for rcpt, code in r['codes'].items() if code != RECIPIENTS[rcpt])
    errors = sum(1 for r in results if r['error'])
    per_host = [peaks.get(address, 0) for _n, address, _i in mail]
    return dict(per_host=per_host, total=peaks.get('all', 0), full=peaks.get('full', False), refused=refused_so_far() - refused_before,
                too_many=too_many,
                deferred=deferred, wrong=wrong, errors=errors, sessions=len(results))


def main():
    cleanup('mf-cbench-', NET)
    work = tempfile.mkdtemp(prefix='connections_bench.')
    rows = []
    try:
        run('podman', 'network', 'create', '--subnet', PREFIX + '.0/24', NET)
        for name, address, image in [DB, CLIENT] + MAIL:
            run('podman', 'run', '-d', '--name', name, '--hostname', name, '--network', NET, '--ip', address,
                '--systemd=always', 'localhost/mailfleet-debian:' + image, '/lib/systemd/systemd')
        path = os.path.join(work, 'inventory.json')
        max_connections = None
        progress = Progress(len(MAIL_HOST_COUNTS) * len(MODES))
        for count in MAIL_HOST_COUNTS:
            write_inventory(path, DB, MAIL[:count], [address for _n, address, _i in MAIL],
                            mailfleet_database_aliases=[{'source': 'jack@example.org',
                                                         'destination': 'john@example.org'}],
                            # One client address sends all the load: Postfix's per-client limits would refuse it.
                            mailfleet_postfix_extra_settings={'smtpd_client_connection_count_limit': 0,
                                                              'smtpd_client_connection_rate_limit': 0})
            for label, settings in MODES:
                progress.step('%d mail host(s), %s: site.yml, then %d SMTP sessions per host' % (count, label, SESSIONS))
                run('ansible-playbook', '-i', path, os.path.join(ROOT, 'playbooks', 'site.yml'), '-e',
                    json.dumps(settings))
                max_connections = max_connections or sql("SELECT @@max_connections")[0][0]
                # Postfix as after a quiet night: no process left over from the converge.
                for name, _address, _image in MAIL[:count]:
                    run('podman', 'exec', name, 'systemctl', 'restart', 'postfix')
                time.sleep(2)
                row = one_load(MAIL[:count])
                progress.say('  %s' % json.dumps(row))
                rows.append((count, label, row))
        write(rows, max_connections)
    finally:
        cleanup('mf-cbench-', NET)


def write(rows, max_connections):
    lines = [
        '# Database connections under concurrent SMTP',
        '',
        'Not a test: how many connections the reader account holds on the database while %d SMTP sessions per'
        % SESSIONS,
        'mail host are open at once, each asking RCPT TO for two existing addresses and an unknown one and',
        'holding the session %d s. One MariaDB host with Debian\'s defaults (`max_connections` = %s), mail hosts'
        % (HOLD, max_connections),
        'with Postfix\'s default process limits (Debian 12 and Debian 13 in turn), the load sent from another',
        'container of the same network. Peaks from `information_schema.PROCESSLIST`, sampled every 0.2 s.',
        '',
        'Reproduce (about 6 minutes, from the collection root): `make bench-connections`. Measured on %s.'
        % time.strftime('%Y-%m-%d'),
        '',
        '| maps read as | mail hosts | sessions | peak connections per mail host | peak connections, all mail hosts '
        '| refused for max_connections | "Too many connections" in mail logs | 4xx for existing addresses '
        '| other answers than expected (4xx for the unknown address) | session errors |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for count, label, row in rows:
        lines.append('| %s | %d | %d | %s | %s | %d | %d | %d | %d | %d |' % (
            label, count, row['sessions'], ', '.join(str(n) for n in row['per_host']),
            '%s (the server refused even the sampler: full)' % max_connections if row['full'] else row['total'],
            row['refused'], row['too_many'], row['deferred'], row['wrong'] - row['deferred'], row['errors']))
    lines += [
        '',
        '## Reading the numbers',
        '',
        '- With `mysql:` every smtpd, cleanup and trivial-rewrite process opens its own connection per table',
        '  it asks: the connections grow with SMTP concurrency, up to Postfix\'s process limit (100 smtpd) times',
        '  the tables. One mail host can take all of MariaDB\'s default `max_connections`; the next connection',
        '  is refused ("Too many connections"), lookups fail, and mail is deferred (4xx).',
        '- With `proxy:mysql:` only proxymap connects, one connection per table and proxymap process. master',
        '  starts another proxymap whenever the running ones are busy, up to its process limit (100 by default),',
        '  so the number still grows with the load, if slowly.',
        '- With proxymap limited to 4 processes (`mailfleet_postfix_proxymap_process_limit`, the role\'s default)',
        '  a mail host holds at most 4 x the number of maps (16 with the tutorial\'s four), whatever the SMTP',
        '  concurrency, and every recipient got the expected answer. This is why the postfix role reads the maps',
        '  through proxymap with that limit by default; proxymap is also what makes TLS to the database work',
        '  where Debian\'s master.cf chroots smtpd, cleanup and trivial-rewrite.',
        '- Sizing: MariaDB needs `max_connections` of at least (mail hosts x 4 x maps) + replicas + admins.',
        '  The database role sets 16 per mail host + 25 (`mailfleet_database_max_connections`), never below',
        '  Debian\'s 151, which serves 7 mail hosts with the tutorial\'s maps.',
        '',
    ]
    with open(OUT, 'w') as handle:
        handle.write('\n'.join(lines))
    print('wrote', OUT)


if __name__ == '__main__':
    main()
