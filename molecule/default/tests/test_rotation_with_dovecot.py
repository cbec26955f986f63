# -*- coding: utf-8 -*-
"""Dovecot reads the mail database with the account Postfix uses, configured by hand as the
guide does (prepare.yml): Dovecot 2.3 on Debian 12, 2.4 on Debian 13. A password rotation
(playbooks/rotate_db_password.yml) moves Dovecot with Postfix, while a login probe runs,
and never locks an account that Dovecot still names.

Each host is its own fleet here (database and mail host in one, as in the guide): the
rotation runs on both at once, each with an inventory of its own. The hosts end on the
other reader account, so this file runs last (its name sorts after the others').
"""

import concurrent.futures
import json
import os
import subprocess

import pytest
import yaml

from mailfleet_testlib import PROJECT_DIR, all_hosts, run_playbook, scenario_vars, sql

# The guide's test mailbox; the hash in molecule.yml is of this password.
JOHN, JOHN_PASSWORD = 'john@example.org', 'summersun'
ROTATE = 'mailfleet.postfix_mysql.rotate_db_password'
# New reader passwords: Dovecot 2.3 cannot take a blank in its connect string, 2.4 can;
# both get the characters that need Dovecot's quoting.
NEW_PASSWORDS = {'2.3': 'R0tated#"quoted\\pass', '2.4': 'R0tated #"quoted\\ pass%{x}'}
DOVECOT_FILES = {'2.3': '/etc/dovecot/dovecot-sql.conf.ext', '2.4': '/etc/dovecot/conf.d/auth-sql.conf.ext'}
PROBE_STOP = '/tmp/mailfleet-login-probe-stop'


@pytest.fixture(scope='module')
def hosts():
    found = [h for h in all_hosts() if h.backend.get_hostname() != 'mf-postfix-fresh']
    return dict((h.backend.get_hostname(), h) for h in found)


def dovecot_layout(host):
    return '2.3' if host.run('dovecot --version').stdout.startswith('2.3') else '2.4'


def login_works(host, password=JOHN_PASSWORD):
    return host.run('doveadm auth test %s %s', JOHN, password).rc == 0


class LoginProbe(object):
    """doveadm auth test for john twice a second inside NAME's container, bounded in count
    and time, until stop(); stop() returns (good logins, failed logins with Dovecot's words)."""

    def __init__(self, name):
        self.name = name
        subprocess.run(['podman', 'exec', name, 'rm', '-f', PROBE_STOP], check=True)
        script = ('i=0; while [ $i -lt 600 ] && [ ! -e %s ]; do '
                  'if out=$(doveadm auth test %s %s 2>&1); then echo ok; else echo "failed: $out" | tr "\\n" " "; '
                  'echo; fi; i=$((i+1)); sleep 0.5; done' % (PROBE_STOP, JOHN, JOHN_PASSWORD))
        self.proc = subprocess.Popen(['podman', 'exec', name, 'sh', '-c', script], stdout=subprocess.PIPE,
                                     universal_newlines=True)

    def stop(self):
        subprocess.run(['podman', 'exec', self.name, 'touch', PROBE_STOP], check=True)
        out, _err = self.proc.communicate(timeout=60)
        lines = [line for line in out.splitlines() if line.strip()]
        return [l for l in lines if l == 'ok'], [l for l in lines if l != 'ok']


def rotate(name, password, tmp_path, *args):
    """rotate_db_password.yml for the fleet of one host: its inventory names it in both groups."""
    inventory = tmp_path / ('fleet-%s.yml' % name)
    inventory.write_text(yaml.safe_dump({'all': {'children': {
        'mail_servers': {'hosts': {name: None}}, 'mail_databases': {'hosts': {name: None}}}}}))
    # The containers are reached as root, without sudo (the playbook asks for become).
    extra = {'mailfleet_database_reader_password': password, 'mailfleet_postfix_db_password': password,
             'ansible_become': False}
    return run_playbook(ROTATE, '-i', str(inventory), '-e', json.dumps(extra), *args)


# The probes' counts, kept for the record beside make test's other logs.
PROBE_LOG = os.path.join(PROJECT_DIR, '.cache', 'test-logs', 'dovecot-login-probes.jsonl')


def rotate_all(hosts, passwords, tmp_path, *args):
    """The rotation on every host at once, each under a login probe: {name: (rc, output, recap, probe)}."""
    probes = dict((name, LoginProbe(name)) for name in hosts)
    with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
        runs = dict((name, pool.submit(rotate, name, passwords[name], tmp_path, *args)) for name in hosts)
        results = dict((name, run.result()) for name, run in runs.items())
    outcome = dict((name, results[name] + (probes[name].stop(),)) for name in hosts)
    os.makedirs(os.path.dirname(PROBE_LOG), exist_ok=True)
    with open(PROBE_LOG, 'a') as log:
        for name, (rc, _output, _recap, (good, failed)) in sorted(outcome.items()):
            log.write(json.dumps(dict(host=name, args=list(args), rc=rc, logins=len(good), failed=len(failed))) + '\n')
    return outcome


def dovecot_config(host):
    path = DOVECOT_FILES[dovecot_layout(host)]
    return host.file(path)


def test_dovecot_built_by_hand_logs_users_in_with_the_account_of_postfix(hosts):
    for name, host in hosts.items():
        assert login_works(host), name
        assert 'mailuser' in dovecot_config(host).content_string, name


def test_a_password_dovecot_2_3_cannot_take_is_refused_before_anything_moves(hosts, tmp_path):
    names = [name for name, host in hosts.items() if dovecot_layout(host) == '2.3']
    assert names, 'no host with Dovecot 2.3'
    host = hosts[names[0]]
    before = dovecot_config(host).content_string
    rc, output, _recap = rotate(names[0], 'Two words#2.3', tmp_path)
    assert rc != 0
    assert ('mailfleet_postfix_db_password holds a blank, and Dovecot 2.3 on this host '
            '(/etc/dovecot/dovecot-sql.conf.ext) splits its connect string at blanks') in output, output[-3000:]
    assert 'Two words' not in output
    assert dovecot_config(host).content_string == before
    assert not locked(host, 'mailuser') and login_works(host)


def test_an_account_the_inventory_does_not_know_is_refused_before_anything_moves(hosts, tmp_path):
    """The trixie edition's account is "mailserver": an inventory that says "mailuser" is wrong."""
    names = [name for name, host in hosts.items() if dovecot_layout(host) == '2.4']
    assert names, 'no host with Dovecot 2.4'
    host = hosts[names[0]]
    path = DOVECOT_FILES['2.4']
    before = host.file(path).content_string
    host.check_output('sed -i "s/^  user = mailuser$/  user = mailserver/" %s', path)
    try:
        rc, output, _recap = rotate(names[0], NEW_PASSWORDS['2.4'], tmp_path)
        assert rc != 0
        assert ('%s line 4: Dovecot logs in as mailserver, which is neither a reader account (mailuser, mailuser_b) '
                'nor mailfleet_database_dovecot_user' % path) in output, output[-3000:]
        assert 'mailuser_b' not in host.file('/etc/postfix/mysql-virtual-mailbox-maps.cf').content_string
        assert not locked(host, 'mailuser')
    finally:
        host.run('sed -i "s/^  user = mailserver$/  user = mailuser/" %s', path)
    assert host.file(path).content_string == before


def test_a_rotation_leaves_dovecot_alone_when_told_then_moves_it_without_a_failed_login(hosts, tmp_path):
    original = scenario_vars()['mailfleet_postfix_db_password']
    new = dict((name, NEW_PASSWORDS[dovecot_layout(host)]) for name, host in hosts.items())

    # Told to leave Dovecot alone, the rotation moves Postfix but does not lock the account
    # Dovecot still names, and says which file names it; Dovecot keeps logging users in.
    for name, (rc, output, _recap, (good, failed)) in rotate_all(
            hosts, new, tmp_path, '-e', 'mailfleet_rotation_move_dovecot=false').items():
        host = hosts[name]
        assert rc != 0, output[-3000:]
        assert 'mailuser was not locked: on %s, Dovecot (%s) still name(s) it' % (
            name, DOVECOT_FILES[dovecot_layout(host)]) in output, output[-3000:]
        assert not failed and good, (name, failed)
        assert 'mailuser_b' not in dovecot_config(host).content_string
        assert not locked(host, 'mailuser'), name
        assert login_works(host), name

    # The next run moves Dovecot too: no login fails, Dovecot ends on the other account with
    # its file's owner and mode kept, and the old account is locked.
    for name, (rc, output, _recap, (good, failed)) in rotate_all(hosts, new, tmp_path).items():
        host = hosts[name]
        assert rc == 0, output[-3000:]
        assert not failed and good, (name, failed)
        config = dovecot_config(host)
        assert 'mailuser_b' in config.content_string, name
        assert (config.user, config.group, config.mode) == ('root', 'root', 0o640)
        assert new[name] not in output and original not in output
        assert locked(host, 'mailuser'), name
        # From scratch, the rewritten file logs users in too.
        assert host.run('systemctl restart dovecot').rc == 0
        assert login_works(host), name


def locked(host, account):
    rows = sql(host, "SELECT JSON_VALUE(Priv, '$.account_locked') FROM mysql.global_priv WHERE User = '%s'" % account)
    assert rows, 'no account %s' % account
    return all(row[0] in ('1', 'true') for row in rows)
