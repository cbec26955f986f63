# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long the audit (playbook mailfleet.postfix_mysql.audit) takes on a big mail database, over SSH.

Not a test: writes docs/audit-benchmark.md. Starts and removes its own container (mf-abench-mail,
Debian 12, on network mf-abench, 10.213.60.0/24), reached over SSH as a fleet is (a key made for
the run, the container's own host keys, pipelining and ControlPersist). site.yml sets it up with
the database on the same host, as in the tutorial; then the tutorial's tables get 100,000 mailboxes
in 200 domains and 50,000 alias rows of the shapes mail servers have: a catch-all per domain, plain
aliases, chains of two, forwards to remote addresses, and lists of four.

Measured, best and median of AUDIT_BENCH_REPEAT runs: the whole audit playbook (ansible-playbook's
wall time), and inside it the module's own time reading the database and resolving every address.
Beside it, what the same answers cost with one `postmap -q KEY TABLE` per lookup (what an admin's
shell loop does), timed on a sample and extrapolated to the number of lookups the audit made.

    make bench-audit        # or .venv/bin/python bench/audit_bench.py after `make setup`
    AUDIT_BENCH_KEEP=1 make bench-audit     # leave the container running afterwards
"""

import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import ENV, ROOT, Progress, cleanup, run, start_ssh_container

OUT = os.environ.get('AUDIT_BENCH_OUT', os.path.join(ROOT, 'docs', 'audit-benchmark.md'))
REPEAT = int(os.environ.get('AUDIT_BENCH_REPEAT', '3'))
SAMPLE = int(os.environ.get('AUDIT_BENCH_SAMPLE', '300'))
IMAGE = os.environ.get('AUDIT_BENCH_IMAGE', 'localhost/mailfleet-debian:bookworm')
NET, SUBNET = 'mf-abench', '10.213.60.0/24'
HOST = ('mf-abench-mail', '10.213.60.10')
DOMAINS, MAILBOXES = 200, 100000
TARGET_SECONDS = 20

# The shapes, as (kind, rows). 50,000 rows in all.
SHAPES = [('catch-all per domain', DOMAINS), ('plain alias to a mailbox', 40000),
          ('chain: alias to an alias', 5000), ('forward to a remote address', 4000),
          ('list of four mailboxes', 800)]
FILL = """
SET SESSION sql_log_bin = 0;
INSERT INTO virtual_domains (name) SELECT CONCAT('d', seq, '.example') FROM seq_1_to_{domains};
INSERT INTO virtual_users (domain_id, email, password)
  SELECT d.id, CONCAT('user', s.seq, '@', d.name), '{{BLF-CRYPT}}not-a-real-hash'
  FROM seq_1_to_{mailboxes} s JOIN virtual_domains d ON d.name = CONCAT('d', 1 + s.seq % {domains}, '.example');
INSERT INTO virtual_aliases (domain_id, source, destination)
  SELECT d.id, CONCAT('@', d.name), CONCAT('user', {domains} - 1 + s.seq, '@', d.name)
  FROM seq_1_to_{domains} s JOIN virtual_domains d ON d.name = CONCAT('d', s.seq, '.example');
INSERT INTO virtual_aliases (domain_id, source, destination)
  SELECT d.id, CONCAT('alias', s.seq, '@', d.name), CONCAT('user', s.seq, '@', d.name)
  FROM seq_1_to_40000 s JOIN virtual_domains d ON d.name = CONCAT('d', 1 + s.seq % {domains}, '.example');
INSERT INTO virtual_aliases (domain_id, source, destination)
  SELECT d.id, CONCAT('chain', s.seq, '@', d.name), CONCAT('alias', s.seq, '@', d.name)
  FROM seq_1_to_5000 s JOIN virtual_domains d ON d.name = CONCAT('d', 1 + s.seq % {domains}, '.example');
INSERT INTO virtual_aliases (domain_id, source, destination)
  SELECT d.id, CONCAT('fwd', s.seq, '@', d.name), CONCAT('someone', s.seq, '@example.net')
  FROM seq_1_to_4000 s JOIN virtual_domains d ON d.name = CONCAT('d', 1 + s.seq % {domains}, '.example');
INSERT INTO virtual_aliases (domain_id, source, destination)
  SELECT d.id, CONCAT('list', s.seq DIV 4, '@', d.name), CONCAT('user', s.seq, '@', u.name)
  FROM seq_4_to_803 s JOIN virtual_domains d ON d.name = CONCAT('d', 1 + (s.seq DIV 4) % {domains}, '.example')
  JOIN virtual_domains u ON u.name = CONCAT('d', 1 + s.seq % {domains}, '.example');
""".format(domains=DOMAINS, mailboxes=MAILBOXES)
TABLES = ['mysql:/etc/postfix/mysql-virtual-alias-maps.cf', 'mysql:/etc/postfix/mysql-email2email.cf',
          'mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf']


def write_files(work, key):
    ssh_dir = os.path.join(work, 'ssh')
    os.makedirs(os.path.join(ssh_dir, 'cp'))
    config = os.path.join(work, 'ansible.cfg')
    with open(config, 'w') as handle:
        handle.write('\n'.join([
            '[defaults]', 'interpreter_python = /usr/bin/python3', 'stdout_callback = ansible.posix.json',
            '[ssh_connection]', 'pipelining = True',
            'ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=accept-new '
            '-o UserKnownHostsFile=%s/known_hosts' % ssh_dir,
            'control_path_dir = %s/cp' % ssh_dir]) + '\n')
    inventory = os.path.join(work, 'inventory.json')
    host = {'ansible_host': HOST[1], 'mailfleet_address': HOST[1]}
    with open(inventory, 'w') as handle:
        json.dump({'all': {
            'vars': {'ansible_user': 'root', 'ansible_ssh_private_key_file': key, 'ansible_become': False,
                     'mailfleet_database_reader_password': 'bench-pass', 'mailfleet_postfix_db_password': 'bench-pass'},
            'children': {'mail_databases': {'hosts': {HOST[0]: host}},
                         'mail_servers': {'hosts': {HOST[0]: host}}}}}, handle)
    return config, inventory


def playbook(config, inventory, *argv):
    """(seconds, JSON report) of one ansible-playbook run over SSH."""
    env = dict(ENV, ANSIBLE_CONFIG=config)
    env.pop('ANSIBLE_HOST_KEY_CHECKING', None)
    started = time.time()
    proc = subprocess.run(['ansible-playbook', '-i', inventory] + list(argv), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    seconds = time.time() - started
    if proc.returncode != 0:
        sys.exit('FAILED: ansible-playbook %s\n%s\n%s' % (' '.join(argv), proc.stdout[-4000:], proc.stderr[-2000:]))
    return seconds, json.loads(proc.stdout)


def task_result(report, name):
    """(the host's result, seconds) of the task NAME in a JSON report."""
    for task in report['plays'][0]['tasks']:
        if task['task']['name'] == name:
            duration = task['task']['duration']
            start, end = (datetime.datetime.strptime(duration[k], '%Y-%m-%dT%H:%M:%S.%fZ') for k in ('start', 'end'))
            return list(task['hosts'].values())[0], (end - start).total_seconds()
    raise KeyError(name)


def settle(limit=60):
    """Wait (at most LIMIT seconds) until the setup's load has passed: a 1-minute load average below 1.5."""
    for _second in range(limit):
        if float(open('/proc/loadavg').read().split()[0]) < 1.5:
            return
        time.sleep(1)


def single_postmap_seconds():
    """Seconds per `postmap -q KEY TABLE` process, on a sample of keys the audit asks (addresses of
    mailboxes and aliases, found or not, asked of the three tables in turn)."""
    keys = run('podman', 'exec', HOST[0], 'mariadb', '--batch', '--skip-column-names', 'mailserver', '-e',
               'SELECT email FROM virtual_users UNION ALL SELECT source FROM virtual_aliases').split()
    sample = random.Random(7).sample(keys, SAMPLE)
    script = ''.join("postmap -q '%s' %s >/dev/null || true\n" % (key, TABLES[index % len(TABLES)])
                     for index, key in enumerate(sample))
    started = time.time()
    subprocess.run(['podman', 'exec', '-i', HOST[0], 'sh'], input=script, universal_newlines=True, check=True)
    return (time.time() - started) / SAMPLE


def main():
    prefix = HOST[0]
    cleanup(prefix, NET)
    work = tempfile.mkdtemp(prefix='mf-abench-')
    key = os.path.join(work, 'id_ed25519')
    try:
        run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key)
        run('podman', 'network', 'create', '--subnet', SUBNET, NET)
        # Start, set up, fill, the audits, the one-postmap-per-lookup sample.
        progress = Progress(4 + REPEAT)
        progress.step('starting %s (%s)' % (HOST[0], IMAGE))
        start_ssh_container(HOST[0], HOST[1], NET, IMAGE, key)
        config, inventory = write_files(work, key)
        progress.step('site.yml over SSH: database and Postfix on one host')
        setup_seconds, _report = playbook(config, inventory, os.path.join(ROOT, 'playbooks', 'site.yml'))
        progress.step('filling the database: %d domains, %d mailboxes, %d alias rows'
                      % (DOMAINS, MAILBOXES, sum(rows for _kind, rows in SHAPES)))
        subprocess.run(['podman', 'exec', '-i', HOST[0], 'mariadb', 'mailserver'], input=FILL,
                       universal_newlines=True, check=True)
        counts = run('podman', 'exec', HOST[0], 'mariadb', '--batch', '--skip-column-names', 'mailserver', '-e',
                     'SELECT (SELECT COUNT(*) FROM virtual_domains), (SELECT COUNT(*) FROM virtual_users), '
                     '(SELECT COUNT(*) FROM virtual_aliases)').split()
        settle()
        load = open('/proc/loadavg').read().split()[:3]
        runs = []
        for attempt in range(1, REPEAT + 1):
            progress.step('audit %d of %d' % (attempt, REPEAT))
            seconds, report = playbook(config, inventory, 'mailfleet.postfix_mysql.audit',
                                       '-e', 'mailfleet_audit_fail_on=never')
            audit, task_seconds = task_result(report, "Resolve every address as the host's Postfix does")
            comparison, _seconds = task_result(report, 'Report the findings, and fail on those of '
                                                       'mailfleet_audit_fail_on')
            runs.append(dict(wall=seconds, task=task_seconds, read=audit['summary']['seconds']['read'],
                             resolve=audit['summary']['seconds']['resolve'],
                             postmap=audit['summary']['seconds']['postmap'], lookups=audit['summary']['lookups'],
                             addresses=audit['summary']['addresses'], findings=comparison['severity_counts']))
            progress.say('  %.1f s in all; the module read for %.2f s and resolved for %.1f s (%.1f s waiting for postmap)'
                         % (seconds, runs[-1]['read'], runs[-1]['resolve'], audit['summary']['seconds']['postmap']))
        progress.step('one postmap -q per lookup, on %d keys' % SAMPLE)
        per_call = single_postmap_seconds()
        write(runs, per_call, counts, setup_seconds, load)
    finally:
        if os.environ.get('AUDIT_BENCH_KEEP') != '1':
            cleanup(prefix, NET)
        subprocess.run(['rm', '-rf', work], check=False)


def write(runs, per_call, counts, setup_seconds, load):
    def best_median(key):
        values = [r[key] for r in runs]
        return min(values), statistics.median(values)

    wall, task, read, resolve, postmap = (best_median(k) for k in ('wall', 'task', 'read', 'resolve', 'postmap'))
    lookups = runs[0]['lookups']
    single = per_call * lookups
    verdict = 'met' if wall[0] < TARGET_SECONDS else 'MISSED'
    lines = [
        '# Audit benchmark',
        '',
        'How long `ansible-playbook mailfleet.postfix_mysql.audit` takes on one mail host over SSH, with a '
        'database of %s domains, %s mailboxes and %s alias rows, read from the host\'s live tables '
        '(the collection\'s default maps: `proxy:mysql:` tables, with the identity map).'
        % tuple('{:,}'.format(int(c)) for c in counts),
        '',
        'Reproduce with `make bench-audit` (bench/audit_bench.py, which starts and removes its own '
        'container `mf-abench-mail`). Best and median of %d runs.' % len(runs),
        '',
        'The aliases, by shape: ' + ', '.join('%s %s' % ('{:,}'.format(rows), kind) for kind, rows in SHAPES) + '.',
        '',
        '| what | best | median |',
        '| --- | --- | --- |',
        '| the whole audit playbook (wall time over SSH) | %.1f s | %.1f s |' % wall,
        '| its audit task (Ansible\'s task duration) | %.1f s | %.1f s |' % task,
        '| in the module: reading the database | %.2f s | %.2f s |' % read,
        '| in the module: asking the tables and resolving %s addresses (%s lookups) | %.1f s | %.1f s |'
        % ('{:,}'.format(runs[0]['addresses']), '{:,}'.format(lookups), resolve[0], resolve[1]),
        '| of that, waiting for the `postmap -q -` processes | %.1f s | %.1f s |' % postmap,
        '| the same %s lookups as one `postmap -q KEY TABLE` each (extrapolated from %d, %.1f ms each) '
        '| %.0f s (%.1f h) | |' % ('{:,}'.format(lookups), SAMPLE, per_call * 1000, single, single / 3600),
        '',
        '| target | figure | |',
        '| --- | --- | --- |',
        '| whole audit under %d s | %.1f s | %s |' % (TARGET_SECONDS, wall[0], verdict),
        '| against one postmap per lookup | %.0fx faster | |' % (single / wall[0]),
        '',
        'Where the time goes: the %s lookups themselves take %.1f s of waiting for postmap, %.0f µs each with '
        'both CPUs busy (postmap and MariaDB, over TCP as the client files say); resolving in Python takes '
        '%.1f s, and Ansible over SSH %.1f s.' % (
            '{:,}'.format(lookups), postmap[0], postmap[0] / lookups * 1e6, resolve[0] - postmap[0],
            wall[0] - resolve[0] - read[0]),
        '',
        'Findings on this data: %s error(s), %s warning(s) (the data is clean: every catch-all is kept off '
        'the mailboxes by the identity map).' % (
            runs[0]['findings'].get('error', 0), runs[0]['findings'].get('warning', 0)),
        '',
        'Every key is asked of every table of `virtual_alias_maps` (not only until one answers), so that '
        'answers that depend on the order of the tables are seen; each table gets a few `postmap -q -` '
        'processes at once (twice the CPUs). The database role creates `virtual_aliases` with an index on '
        '`source`: without it every alias lookup, Postfix\'s own included, reads the whole table.',
        '',
        'Machine: %d CPUs, load average %s before the audits; site.yml took %.0f s to set the host up. '
        'Measured on %s. The machine is shared: compare the ratios rather than the seconds.'
        % (os.cpu_count(), ' '.join(load), setup_seconds, time.strftime('%Y-%m-%d')),
        '',
    ]
    with open(OUT, 'w') as handle:
        handle.write('\n'.join(lines))
    print('\n'.join(lines))
    print('wrote %s' % OUT)


if __name__ == '__main__':
    main()
