# -*- coding: utf-8 -*-
"""Rotating the reader password on the live fleet (playbooks/rotate_db_password.yml):
no refused or deferred recipient under SMTP load, the old password refused at the end,
ordinary runs unchanged afterwards, an interrupted rotation finished by the next run, and
a mail host that was down catching up on its next ordinary run."""

import json
import os
import signal
import subprocess
import time

import pytest

from fleetlib import ADDRESS, DB2, MAIL, node, start_host, stop_host
from mailfleet_testlib import BackgroundProbe, playbook_command, run_playbook, scenario_vars

# Outages, load, recoveries and killed runs, timed: alone on the machine (make test).
pytestmark = pytest.mark.timed

PROJECT = os.environ.get('MOLECULE_PROJECT_DIRECTORY', '')
ROTATE = os.path.join(PROJECT, 'playbooks', 'rotate_db_password.yml')
SITE = os.path.join(PROJECT, 'playbooks', 'site.yml')
PROBE_FROM = DB2
PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''
NEW_PASSWORD = 'Rot4ted#fleet pass-word'
RECIPIENTS = {'john@example.org': 250, 'jack@example.org': 250, 'ann@example.com': 250, 'nobody@example.com': 550}


def passwords(password):
    return json.dumps({'mailfleet_database_reader_password': password, 'mailfleet_postfix_db_password': password})


def login(password, user='mailuser', server='10.213.47.11', client='mf-fleet-mail1'):
    """(whether the database lets USER in from a mail host, Postfix's message) - asked the way
    Postfix asks, through a client file of its own (the mail hosts have no mariadb client)."""
    host = node(client)
    # With the live file's TLS settings: the accounts REQUIRE SSL.
    tls = host.check_output("grep '^tls_' /etc/postfix/mysql-virtual-mailbox-domains.cf")
    text = ('user = %s\npassword = %s\nhosts = %s\ndbname = mailserver\nquery = SELECT 1 FROM DUAL WHERE 0\n%s\n'
            % (user, password, server, tls))
    host.check_output('umask 077 && printf %%s %s > /root/login-check.cf', text)
    try:
        result = host.run('postmap -q probe mysql:/root/login-check.cf')
    finally:
        host.run('rm -f /root/login-check.cf')
    return result.rc in (0, 1) and not result.stderr.strip(), result.stderr


def client_file_users(name):
    return sorted(set(node(name).check_output("sed -n 's/^user = //p' /etc/postfix/mysql-*.cf").split()))


def Probe(servers):
    """SMTP from PROBE_FROM to the running mail hosts until stop(): its JSON lines."""
    return BackgroundProbe(PROBE_FROM, [ADDRESS[s] for s in servers], sorted(RECIPIENTS))


def test_a_rotation_under_load_defers_and_refuses_nothing():
    assert login(PASSWORD)[0]
    probe = Probe(MAIL)
    try:
        time.sleep(2)
        rc, output, _recap = run_playbook(ROTATE, '-e', passwords(NEW_PASSWORD))
    finally:
        lines, seconds = probe.stop()
    assert rc == 0, output[-3000:]
    assert NEW_PASSWORD not in output and PASSWORD not in output
    wrong = [line for line in lines if line['error'] or line['codes'] != RECIPIENTS]
    assert not wrong, wrong[:5]
    rcpts = sum(len(line['codes']) for line in lines)
    assert rcpts / seconds >= 20, (rcpts, seconds)
    # Every mail host moved; the old account is locked, the new one works.
    for name in MAIL:
        assert client_file_users(name) == ['mailuser_b'], name
    allowed, message = login(PASSWORD)
    assert not allowed and 'locked' in message, message
    assert login(NEW_PASSWORD, user='mailuser_b')[0]


@pytest.mark.continues
def test_an_interrupted_rotation_is_finished_by_the_next_run_and_a_host_that_was_down_catches_up():
    # What the test before left: the fleet on the second account.
    users = dict((name, client_file_users(name)) for name in MAIL)
    assert all(found == ['mailuser_b'] for found in users.values()), \
        'test_a_rotation_under_load_defers_and_refuses_nothing should have left every mail host on mailuser_b: %s' % users
    down = 'mf-fleet-mail3'
    stop_host(down)
    try:
        # Back to the first account, killed once the mail hosts are being moved.
        argv, environ = playbook_command(ROTATE, '-e', passwords(PASSWORD), PYTHONUNBUFFERED='1')
        proc = subprocess.Popen(argv, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, start_new_session=True)
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if 'Write the client files and point main.cf at the maps' in line:
                break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert any('Write the client files' in line for line in seen), ''.join(seen)[-3000:]
        # The idle account has the password now, and nothing is locked yet: mail flows on.
        assert login(PASSWORD)[0] and login(NEW_PASSWORD, user='mailuser_b')[0]
        rc, output, recap = run_playbook(ROTATE, '-e', passwords(PASSWORD))
        # The hosts that answered moved; the old account stays usable for the one that did not.
        assert rc != 0 and all(recap[name]['failed'] == 0 for name in MAIL[:2]), output[-3000:]
        assert 'mailuser_b was not locked: the mail host(s) %s did not answer' % down in output, output[-3000:]
        for name in MAIL[:2]:
            assert client_file_users(name) == ['mailuser'], name
        assert login(NEW_PASSWORD, user='mailuser_b')[0]
        # The admin locks it anyway: the host that was down moves on its next ordinary run.
        rc, output, recap = run_playbook(ROTATE, '-e', passwords(PASSWORD), '-e', 'mailfleet_rotation_lock_unanswered=true')
        # 4: a host was unreachable, which the rotation leaves to its next ordinary run.
        assert rc in (0, 4) and all(recap[name]['failed'] == 0 for name in MAIL[:2]), output[-3000:]
        assert not login(NEW_PASSWORD, user='mailuser_b')[0]
    finally:
        # Booted and reachable over SSH again, whatever failed above.
        start_host(down)
    # The host that was down still names the locked account; its next ordinary run moves it.
    assert client_file_users(down) == ['mailuser_b']
    rc, output, recap = run_playbook(SITE, '-e', passwords(PASSWORD), '--limit', down)
    assert rc == 0 and recap[down]['changed'] >= 1, output[-3000:]
    assert client_file_users(down) == ['mailuser']
    probe = Probe([down])
    time.sleep(2)
    lines, _seconds = probe.stop()
    assert lines and all(line['codes'] == RECIPIENTS for line in lines), lines[:3]
    # Ordinary runs after a rotation change nothing, anywhere.
    rc, output, recap = run_playbook(SITE, '-e', passwords(PASSWORD))
    assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output[-3000:]
