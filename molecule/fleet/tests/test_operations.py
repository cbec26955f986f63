# -*- coding: utf-8 -*-
"""Live operations on the fleet, proved through SMTP from another container's address:
a database outage defers mail and ends within seconds, either database may stop without
a 4xx, a run killed at any moment leaves complete files and is finished (reload
included) by the next run, and two runs at once take turns."""

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from shlex import quote

import pytest

from fleetlib import ADDRESS, DB1, DB2, MAIL, node, wait_for_replication
from mailfleet_testlib import playbook_command, run_playbook, scenario_vars, wait_until

# Outages, load, recoveries and killed runs, timed: alone on the machine (make test).
pytestmark = pytest.mark.timed

# SMTP comes from here: a container of the scenario's network, not the mail host itself.
PROBE_FROM = DB2
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'smtp_probe.py')
# The kills: a Debian 12 and a Debian 13 mail host, both changed by every run.
KILLED = ['mf-fleet-mail1', 'mf-fleet-mail2']
KILLS = 20
SEED = 14

PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''
# A second reader account, so that a run can also change the user and the password.
OTHER_USER, OTHER_PASSWORD = 'mailops', 'Ops#second reader-pw'
ALIAS_QUERY_B = ("SELECT destination FROM virtual_aliases WHERE source='%s' "
                 "UNION SELECT 'ann@example.com' FROM DUAL WHERE '%s'='ops-b@example.com'")
EXTRA_QUERY = "SELECT 'ann@example.com' FROM DUAL WHERE '%s'='ops-c@example.com'"
# What each run changes, starting from the one before it in the cycle.
TARGETS = {
    'changed query': dict(mailfleet_postfix_maps=[{'name': 'virtual-alias-maps', 'query': ALIAS_QUERY_B}],
                          mailfleet_postfix_db_user='mailuser', mailfleet_postfix_db_password=PASSWORD),
    'map added, new password': dict(
        mailfleet_postfix_maps=[{'name': 'ops-extra', 'parameter': 'virtual_alias_maps', 'query': EXTRA_QUERY}],
        mailfleet_postfix_db_user=OTHER_USER, mailfleet_postfix_db_password=OTHER_PASSWORD),
    'map retired': dict(
        mailfleet_postfix_maps=[{'name': 'ops-extra', 'parameter': 'virtual_alias_maps', 'state': 'absent'}],
        mailfleet_postfix_db_user='mailuser', mailfleet_postfix_db_password=PASSWORD),
}
TARGETS['first converge'] = TARGETS['map retired']
CYCLE = ['changed query', 'map added, new password', 'map retired', 'first converge']
# The tutorial checks are the fleet tests' business; here they would only add time to each run.
for _target in TARGETS.values():
    _target['mailfleet_postfix_checks'] = []
# What SMTP answers under each target: only a reloaded Postfix answers this way.
SIGNATURE = {
    'changed query': {'ops-b@example.com': 250, 'ops-c@example.com': 550},
    'map added, new password': {'ops-b@example.com': 550, 'ops-c@example.com': 250},
    'map retired': {'ops-b@example.com': 550, 'ops-c@example.com': 550},
    'first converge': {'ops-b@example.com': 550, 'ops-c@example.com': 550},
}
# What a mail host looks like before the role's first run: Postfix without the maps.
UNCONFIGURED = ('rm -f /etc/postfix/mysql-*.cf && postconf -X virtual_mailbox_domains virtual_mailbox_maps '
                'virtual_alias_maps && postfix reload')
CLIENT_FILE_KEYS = ('user', 'password', 'hosts', 'dbname', 'query')


def probe(servers, recipients, **job):
    """Run smtp_probe.py in PROBE_FROM; its JSON lines."""
    job = dict(job, servers=[ADDRESS[s] for s in servers], recipients=recipients)
    with open(PROBE) as handle:
        script = handle.read()
    proc = subprocess.run(['podman', 'exec', '-i', PROBE_FROM, 'python3', '-', json.dumps(job)],
                          input=script, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=job.get('deadline', 60) + 60, check=False)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def codes(servers, recipients):
    """{host: {recipient: code}} from one SMTP session per host."""
    by_address = dict((ADDRESS[s], s) for s in servers)
    found = {}
    for line in probe(servers, recipients):
        if line['error'] is not None:
            # What the mail host's Postfix said meanwhile, to tell a hang from a refusal.
            journal = node(by_address[line['server']]).run('journalctl -u postfix@- --since -60s --no-pager -q')
            raise AssertionError('%r\n%s' % (line, journal.stdout[-4000:]))
        found[by_address[line['server']]] = line['codes']
    return found


def set_db(name, state):
    host = node(name)
    for unit in ('mariadb.socket', 'mariadb.service') if state == 'stop' else ('mariadb.service',):
        host.check_output('systemctl %s %s', state, unit)


# ------------------------------------------------------------------ the recovery service

WATCHER = 'mailfleet-postfix-db-recovery'
# Lines in the very words of Postfix's failure messages, naming the fleet's own database
# hosts and client files: what an SMTP client or a local user could try to make the
# recovery service reload Postfix with.
FORGED = [
    "warning: connect to mysql server %s: Can't connect to server on '%s' (115)" % (ADDRESS[DB1], ADDRESS[DB1]),
    'warning: mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf lookup error for "x@example.org"',
    'warning: virtual_mailbox_domains: proxy:mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf: table lookup problem',
    'warning: mysql:/etc/postfix/mysql-virtual-alias-maps.cf: query failed: Lost connection to server during query',
]
# SMTP sessions whose commands smtpd writes into its log (a non-SMTP command is logged
# verbatim; a refused recipient is logged with its address).
FORGED_SMTP = r"""
import socket, sys
for server in sys.argv[1:]:
    for lines in ([b'GET mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf lookup error for y'],
                  [b'POST warning: connect to mysql server %(db)s: forged'],
                  [b'EHLO forger.invalid', b'MAIL FROM:<warning: connect to mysql server %(db)s: x@forger.invalid>',
                   b'RCPT TO:<"warning: connect to mysql server %(db)s: x"@example.com>', b'QUIT']):
        client = socket.create_connection((server, 25), timeout=10)
        client.recv(1000)
        for line in lines:
            client.sendall(line + b'\r\n')
            client.recv(1000)
        client.close()
""" % {'db': ADDRESS[DB1]}


def journal_since(name, since, *matches):
    # One quoted word per argument: testinfra quotes each one.
    return node(name).check_output('journalctl --no-pager --quiet --output=cat --since=@%s' + ' %s' * len(matches),
                                   str(int(since)), *matches)


def wait_for_quiet_recovery(hosts):
    """Wait until the recovery service of each host has logged nothing for 12 s: nothing of
    an earlier test is still pending, and no host is within its hold-off of 10 s after a
    reload (a test that found one would measure the hold-off, not the recovery)."""
    def quiet(name):
        log = journal_since(name, time.time() - 12, '-u', WATCHER)
        return log == '', log

    for name in hosts:
        wait_until('the recovery service on %s to be quiet for 12 s' % name, lambda name=name: quiet(name), timeout=60)


def test_forged_log_lines_cause_no_probe_and_no_reload():
    """The recovery service believes only Postfix's own daemons: the failure messages sent
    through SMTP from another container and written with logger by an unprivileged local
    user, on a Debian 12 and a Debian 13 mail host, make it ask no database and reload
    nothing. (The outage test below shows that a real failure still makes it reload.)"""
    hosts = MAIL[:2]
    for name in hosts:
        assert node(name).service(WATCHER).is_running, name
    wait_for_quiet_recovery(hosts)
    since = time.time()
    result = subprocess.run(['podman', 'exec', '-i', PROBE_FROM, 'python3', '-'] + [ADDRESS[name] for name in hosts],
                            input=FORGED_SMTP, universal_newlines=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout
    for name in hosts:
        for line in FORGED:
            node(name).check_output('su nobody -s /bin/sh -c %s', 'logger -t postfix/smtpd %s' % quote(line))
            node(name).check_output('su nobody -s /bin/sh -c %s', 'logger -t postfix/proxymap %s' % quote(line))
    # The service reads the journal every second and would reload within 2 s.
    time.sleep(6)
    for name in hosts:
        smtpd = journal_since(name, since, 'SYSLOG_IDENTIFIER=postfix/smtpd')
        # The forged text did reach the journal, from smtpd and from logger.
        assert 'GET mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf' in smtpd, (name, smtpd[-2000:])
        assert all(line in smtpd for line in FORGED), (name, smtpd[-2000:])
        watcher = journal_since(name, since, '-u', WATCHER)
        assert watcher == '', (name, watcher)
        reloads = [line for line in journal_since(name, since, '_COMM=master').splitlines() if 'reload' in line]
        assert reloads == [], (name, reloads)


def test_the_recovery_service_runs_confined():
    for name in MAIL[:2]:
        report = node(name).check_output('systemd-analyze security --no-pager %s.service', WATCHER)
        exposure = float(re.search(r'Overall exposure level for \S+: ([0-9.]+)', report).group(1))
        print('%s: systemd-analyze security %s: %.1f' % (name, WATCHER, exposure))
        assert exposure < 5.0, report[-3000:]
        unit = node(name).check_output('systemctl cat %s.service', WATCHER)
        for line in ('NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'RuntimeDirectoryMode=0700'):
            assert line in unit, (name, line)
        program = node(name).file('/usr/lib/mailfleet-postfix-mysql/%s.py' % WATCHER)
        assert (program.user, program.group, program.mode) == ('root', 'root', 0o644)
        assert not node(name).file('/usr/local/lib/%s.py' % WATCHER).exists


# ------------------------------------------------------------------ database outages

def test_an_outage_defers_mail_and_it_is_accepted_again_within_seconds():
    wait_for_quiet_recovery(MAIL)
    outage = time.time()
    for name in (DB1, DB2):
        set_db(name, 'stop')
    try:
        # Down: every recipient deferred with 4xx, none refused, for every mail host.
        for line in probe(MAIL, ['john@example.org', 'jack@example.org', 'nobody@example.com'], rounds=2,
                          interval=0.5, deadline=30):
            assert line['error'] is None and all(400 <= c < 500 for c in line['codes'].values()), line
        set_db(DB1, 'start')
        back = time.time()
        lines = probe(MAIL, ['john@example.org'], until_accepted='john@example.org', rounds=1000,
                      interval=0.25, deadline=90)
    finally:
        set_db(DB1, 'start')
        set_db(DB2, 'start')
        wait_for_replication()
    by_address = dict((a, s) for s, a in ADDRESS.items())
    recovered = {}
    for line in lines:
        assert line['error'] is None and all(c == 250 or 400 <= c < 500 for c in line['codes'].values()), line
        if line['codes'].get('john@example.org') == 250:
            recovered.setdefault(by_address[line['server']], line['t'] - back)
    assert sorted(recovered) == sorted(MAIL), lines[-5:]
    print('seconds from "database back" to the first 250: %s' % json.dumps(recovered, sort_keys=True))
    # Debian 12 (Postfix 3.7, a fixed 60 s) and Debian 13 alike, thanks to the recovery watcher,
    # which says which of Postfix's messages made it reload.
    logs = dict((name, journal_since(name, outage, '-u', WATCHER)) for name in MAIL)
    assert all(seconds <= 5 for seconds in recovered.values()), (recovered, logs)
    for name, log in logs.items():
        assert re.search(r'answers again after \d+ s: postfix reload \(rc=0\); it had failed: warning: ', log), (name, log)


@pytest.mark.parametrize('down', [DB2, DB1])
def test_either_database_can_stop_without_a_single_4xx(down):
    recipients = ['john@example.org', 'jack@example.org', 'ann@example.com', 'nobody@example.com']
    expected = {'john@example.org': 250, 'jack@example.org': 250, 'ann@example.com': 250, 'nobody@example.com': 550}
    found = []
    # SMTP throughout: before, while and after the database stops (about 20 sessions a second).
    worker = threading.Thread(target=lambda: found.extend(
        probe(MAIL, recipients, rounds=60, interval=0.15, deadline=30)))
    worker.start()
    try:
        time.sleep(2)
        set_db(down, 'stop')
        worker.join(60)
    finally:
        set_db(down, 'start')
        if down == DB1:
            wait_for_replication()
    # The fleet is whole again within seconds (see the outage test): the next stop starts from there.
    time.sleep(5)
    assert len(found) >= 60, found[-3:]
    bad = [line for line in found if line['error'] or line['codes'] != expected]
    assert not bad, bad[:5]


# ------------------------------------------------------------------ interrupted runs

@pytest.fixture(scope='module')
def other_reader():
    """A second reader account on both databases (not replicated, so made on each)."""
    statements = ("SET SESSION sql_log_bin = 0; CREATE USER IF NOT EXISTS '{u}'@'10.213.47.%' IDENTIFIED BY '{p}'; "
                  "GRANT SELECT ON mailserver.* TO '{u}'@'10.213.47.%'").format(u=OTHER_USER, p=OTHER_PASSWORD)
    for name in (DB1, DB2):
        node(name).check_output('mariadb --execute=%s', statements)
    yield
    for name in (DB1, DB2):
        node(name).run('mariadb --execute=%s', "SET SESSION sql_log_bin = 0; DROP USER IF EXISTS '%s'@'10.213.47.%%'"
                       % OTHER_USER)


# Every client file and temporary file of /etc/postfix with its text and mode, in one
# command on the host: a killed run's module may still be finishing there (the controller
# died, not the module), so a file listed a moment ago may be gone when it is read.
SNAPSHOT = """
import glob, grp, json, os, pwd, stat
found = {}
for path in glob.glob('/etc/postfix/mysql-*.cf') + glob.glob('/etc/postfix/.mysql-*.new'):
    try:
        info = os.stat(path)
        with open(path) as handle:
            text = handle.read()
    except OSError:
        continue
    found[os.path.basename(path)] = [text, stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name,
                                     grp.getgrgid(info.st_gid).gr_name]
print(json.dumps(found))
"""


def files_of(name):
    return json.loads(node(name).check_output('python3 -c %s', SNAPSHOT))


def state_of(name):
    """What a mail host's configuration is: each client file's text, main.cf's alias maps."""
    files = dict((path, entry[0]) for path, entry in files_of(name).items() if not path.startswith('.'))
    return files, node(name).check_output('postconf -h virtual_alias_maps')


def assert_invariants(name):
    """What must hold on a mail host at any moment, a killed run or not."""
    host = node(name)
    for path, (text, mode, owner, group) in files_of(name).items():
        if path.startswith('.'):
            # A killed run's temporary file: never readable by others.
            assert mode & 0o007 == 0, (path, oct(mode))
            continue
        assert (mode, owner, group) == (0o640, 'root', 'postfix'), (path, oct(mode), owner, group)
        keys = [entry.split('=', 1)[0].strip() for entry in text.splitlines() if '=' in entry and entry[0] != '#']
        assert text.endswith('\n') and all(key in keys for key in CLIENT_FILE_KEYS), (path, keys)
    assert host.run('postfix check').rc == 0
    assert host.run('postfix status').rc == 0


def converge(target, *args, **kwargs):
    hosts = kwargs.get('hosts', KILLED)
    return run_playbook('mail_hosts.yml', '--limit', ','.join(hosts), '-e', json.dumps(TARGETS[target]), *args)


def started_run(target, hosts=None):
    # Unbuffered, so that timed_run() sees each task line when it is printed.
    argv, environ = playbook_command('mail_hosts.yml', '--limit', ','.join(hosts or KILLED),
                                     '-e', json.dumps(TARGETS[target]), PYTHONUNBUFFERED='1')
    return subprocess.Popen(argv, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, start_new_session=True)


def timed_run(target):
    """A full changing run; (its duration, when its mysql_maps task started and ended)."""
    proc = started_run(target)
    started = time.time()
    marks = []
    for line in proc.stdout:
        if line.startswith('TASK ['):
            marks.append((time.time() - started, line))
    proc.wait(600)
    duration = time.time() - started
    assert proc.returncode == 0, ''.join(m[1] for m in marks)
    tasks = [i for i, (_t, line) in enumerate(marks) if 'Write the client files' in line]
    window = (marks[tasks[0]][0], marks[tasks[0] + 1][0]) if tasks else (0, duration)
    return duration, window


def killed_runs(name, offsets, first_target):
    """Kill a changing run against mail host NAME at each offset; check what must hold after
    each kill, then that the next run finishes the change (through SMTP: the reload was
    paid) and that the run after it changes nothing."""
    previous = first_target
    for index, offset in enumerate(offsets):
        target = CYCLE[(CYCLE.index(previous) + 1) % len(CYCLE)]
        if target == 'first converge':
            node(name).check_output(UNCONFIGURED)
        before = state_of(name)
        proc = started_run(target, [name])
        time.sleep(offset)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        where = '%s: kill %d at %.2f s of a run to %r (from %r)' % (name, index, offset, target, previous)
        assert_invariants(name)
        # Postfix still answers, and still accepts a real user (unless it never knew the maps:
        # then it defers or refuses relaying, as before the run).
        found = codes([name], ['john@example.org'])[name]['john@example.org']
        assert found == 250 or target == 'first converge', (where, found)
        killed = state_of(name)

        rc, output, _recap = converge(target, hosts=[name])
        assert rc == 0, (where, output[-3000:])
        after = state_of(name)
        # Each file and main.cf were the old version or the new one, never anything else.
        for path, text in killed[0].items():
            assert text in (before[0].get(path), after[0].get(path)), (where, path)
        assert killed[1] in (before[1], after[1]), where
        # The running Postfix serves the new configuration: the reload was not lost.
        found = codes([name], sorted(SIGNATURE[target]))[name]
        assert found == SIGNATURE[target], (where, found)
        rc, output, recap = converge(target, hosts=[name])
        assert rc == 0 and recap[name]['changed'] == 0, (where, output[-3000:])
        previous = target


def test_a_run_killed_at_any_moment_is_finished_by_the_next_run(other_reader):
    rng = random.Random(SEED)
    rc, output, _recap = converge('map retired')
    assert rc == 0, output[-3000:]
    duration, window = timed_run(CYCLE[0])
    # Half the kills anywhere in a run, half while mysql_maps acts: seeded, so reproducible.
    offsets = [duration * (k + rng.random()) / (KILLS // 2) for k in range(KILLS // 2)]
    offsets += [window[0] + (window[1] - window[0]) * (k + rng.random()) / (KILLS - KILLS // 2)
                for k in range(KILLS - KILLS // 2)]
    rng.shuffle(offsets)
    # The Debian 12 and the Debian 13 host take every other point, at the same time.
    errors = []

    def worker(name, share):
        try:
            killed_runs(name, share, CYCLE[0])
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name, offsets[i::len(KILLED)])) for i, name in enumerate(KILLED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(1800)
    assert not errors, errors
    # Back to the scenario's own configuration for the tests that follow.
    rc, output, _recap = converge('map retired')
    assert rc == 0, output[-3000:]


# ------------------------------------------------------------------ two runs at once

def test_two_runs_at_once_take_turns(other_reader):
    rc, output, _recap = converge('map retired')
    assert rc == 0, output[-3000:]
    first, second = started_run('map added, new password'), started_run('map added, new password')
    outputs = [proc.communicate(timeout=600)[0] for proc in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, [o[-2000:] for o in outputs]
    for name in KILLED:
        assert_invariants(name)
    for name, found in codes(KILLED, sorted(SIGNATURE['map added, new password'])).items():
        assert found == SIGNATURE['map added, new password'], (name, found)
    rc, output, recap = converge('map added, new password')
    assert rc == 0 and all(recap[name]['changed'] == 0 for name in KILLED), output[-3000:]
    rc, output, _recap = converge('map retired')
    assert rc == 0, output[-3000:]


def test_a_run_that_cannot_get_the_lock_changes_nothing_and_says_who_holds_it():
    host = node(KILLED[0])
    lock = host.check_output("ls /run/mailfleet.postfix_mysql/etc-postfix.*.lock")
    before = state_of(KILLED[0])
    # Another admin's run, as far as the lock goes: it holds it for 10 s.
    holder = subprocess.Popen(['podman', 'exec', KILLED[0], 'flock', lock, 'sleep', '10'])
    try:
        time.sleep(1)
        rc, output, recap = run_playbook('mail_hosts.yml', '--limit', KILLED[0], '-e', json.dumps(dict(
            TARGETS['changed query'], mailfleet_postfix_lock_timeout=2)))
    finally:
        holder.wait(30)
    assert rc != 0 and recap[KILLED[0]]['failed'] == 1, output[-3000:]
    assert ('nothing was changed: another run is changing the Postfix configuration in /etc/postfix; gave up '
            'after waiting 2 s' in output), output[-3000:]
    assert state_of(KILLED[0]) == before
