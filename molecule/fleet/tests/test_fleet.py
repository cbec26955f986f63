# -*- coding: utf-8 -*-
"""The fleet: every mail host answers from the databases, fails over, only mail hosts
may read, the replica follows the primary, and a bad rolling change stops at batch one."""

import json
import os
import re
import time

import pytest

from fleetlib import ADDRESS, DB1, DB2, MAIL, node, replica_status, wait_for_replication
from mailfleet_testlib import run_playbook, scenario_vars, wait_until

PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''
CHECK_MAPS = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), 'playbooks', 'check_maps.yml')
# The tutorial's postmap -q steps: (key, map, expected answer or None for "not found").
CHECKS = [
    ('example.org', 'virtual-mailbox-domains', '1'),
    ('example.net', 'virtual-mailbox-domains', None),
    ('john@example.org', 'virtual-mailbox-maps', '1'),
    ('jack@example.org', 'virtual-alias-maps', 'john@example.org'),
    ('@example.org', 'virtual-alias-maps', 'catchall@example.org'),
    ('john@example.org', 'email2email', 'john@example.org'),
]


def lookup(host, key, name, down=None):
    result = host.run('postmap -q %s mysql:/etc/postfix/mysql-%s.cf', key, name)
    # Exit 1 is both "not found" and "broken": only stderr tells them apart. A host that
    # is down may be named when Postfix tried it first; nothing else may appear.
    allowed = 'postmap: warning: connect to mysql server %s:' % ADDRESS.get(down, '-')
    assert all(line.startswith(allowed) for line in result.stderr.splitlines()), result.stderr
    return result.stdout.strip() if result.rc == 0 else None


def answers(name, down=None):
    host = node(name)
    return dict(((key, table), lookup(host, key, table, down)) for key, table, _expected in CHECKS)


EXPECTED = dict(((key, table), expected) for key, table, expected in CHECKS)


def reader(host, server, password=PASSWORD):
    return host.run('mariadb --batch --skip-column-names --connect-timeout=5 --host=%s --user=mailuser --password=%s '
                    '--database=mailserver --execute=%s', server, password, 'SELECT COUNT(*) FROM virtual_users')


def root_sql(host, query):
    return host.check_output('mariadb --batch --skip-column-names --execute=%s', query)


def set_db(name, state):
    host = node(name)
    for unit in ('mariadb.socket', 'mariadb.service') if state == 'stop' else ('mariadb.service',):
        host.check_output('systemctl %s %s', state, unit)


@pytest.mark.parametrize('name', MAIL)
def test_mail_host_lists_both_database_hosts(name):
    content = node(name).file('/etc/postfix/mysql-virtual-mailbox-domains.cf').content_string
    assert 'hosts = 10.213.47.11 10.213.47.12' in content.splitlines()


@pytest.mark.parametrize('name', MAIL)
def test_every_mail_host_answers_the_tutorial_checks(name):
    assert answers(name) == EXPECTED


@pytest.mark.parametrize('name', MAIL)
@pytest.mark.parametrize('server', [DB1, DB2])
def test_mail_host_reads_each_database_alone(name, server):
    # The live client file with only one of the hosts, so each database must answer.
    host = node(name)
    host.check_output('umask 077 && sed %s /etc/postfix/mysql-virtual-mailbox-maps.cf > /root/one-host.cf',
                      's/^hosts = .*/hosts = %s/' % ADDRESS[server])
    try:
        result = host.run('postmap -q john@example.org mysql:/root/one-host.cf')
        assert (result.rc, result.stdout.strip(), result.stderr) == (0, '1', '')
    finally:
        host.run('rm -f /root/one-host.cf')


@pytest.mark.parametrize('client, server', [(DB2, DB1), (DB1, DB2)])
def test_reader_is_refused_from_a_non_mail_address(client, server):
    result = reader(node(client), ADDRESS[server])
    assert result.rc != 0
    assert "is not allowed to connect" in result.stderr or 'Access denied' in result.stderr, result.stderr


@pytest.mark.parametrize('name', [DB1, DB2])
def test_reader_hosts_are_exactly_the_mail_hosts(name):
    hosts = root_sql(node(name), "SELECT Host FROM mysql.user WHERE User = 'mailuser' ORDER BY Host").split()
    assert hosts == sorted(ADDRESS[m] for m in MAIL)


@pytest.mark.parametrize('name', [DB1, DB2])
def test_database_listens_on_the_fleet_network(name):
    assert node(name).socket('tcp://%s:3306' % ADDRESS[name]).is_listening


@pytest.mark.parametrize('name, role_lines', [
    (DB1, ['server_id = 1']),
    (DB2, ['server_id = 2', 'read_only = ON']),
])
def test_database_settings_drop_in(name, role_lines):
    text = node(name).check_output('cat /etc/mysql/mariadb.conf.d/60-mailfleet.cnf').splitlines()
    assert text[1] == '[mysqld]' and 'bind-address = %s' % ADDRESS[name] in text
    assert all(line in text for line in role_lines + ['log_bin = mariadb-bin', 'binlog_format = ROW'])
    assert ('read_only = ON' in text) == (name == DB2)
    drop_in = node(name).file('/etc/mysql/mariadb.conf.d/60-mailfleet.cnf')
    assert (drop_in.user, drop_in.group, drop_in.mode) == ('root', 'root', 0o644)


def test_replica_runs_with_gtid():
    status = node(DB2).check_output('mariadb --execute=%s', 'SHOW SLAVE STATUS\\G')
    assert 'Slave_IO_Running: Yes' in status and 'Slave_SQL_Running: Yes' in status, status
    assert 'Using_Gtid: Slave_Pos' in status and 'Master_Host: ' + ADDRESS[DB1] in status


@pytest.mark.timed
def test_data_written_on_the_primary_appears_on_the_replica():
    marker = 'repl-%d@example.org' % int(time.time())
    root_sql(node(DB1), "INSERT INTO mailserver.virtual_aliases (domain_id, source, destination) "
                        "SELECT id, '%s', 'john@example.org' FROM mailserver.virtual_domains WHERE name = 'example.org'" % marker)
    try:
        def replicated():
            row = root_sql(node(DB2), "SELECT destination FROM mailserver.virtual_aliases WHERE source = '%s'" % marker)
            return bool(row), 'no such row on %s; its replica status: %s' % (DB2, replica_status())

        wait_until('the row %s written on %s to reach %s' % (marker, DB1, DB2), replicated, timeout=10, interval=0.5)
        # A mail host sees it whichever database it asks.
        assert lookup(node(MAIL[0]), marker, 'virtual-alias-maps') == 'john@example.org'
    finally:
        root_sql(node(DB1), "DELETE FROM mailserver.virtual_aliases WHERE source = '%s'" % marker)


@pytest.mark.timed
@pytest.mark.parametrize('down', [DB1, DB2])
def test_every_mail_host_answers_with_one_database_down(down):
    set_db(down, 'stop')
    try:
        assert node(down).run('mariadb --execute=%s', 'SELECT 1').rc != 0
        for name in MAIL:
            # Several rounds: Postfix picks the hosts in random order.
            for _round in range(3):
                assert answers(name, down) == EXPECTED, name
    finally:
        set_db(down, 'start')
        if down == DB1:
            wait_for_replication()


def snapshot(name):
    return node(name).check_output("cd /etc/postfix && sha256sum main.cf mysql-*.cf")


def test_bad_rolling_change_stops_after_the_first_batch():
    before = dict((name, snapshot(name)) for name in MAIL)
    rc, output, recap = run_playbook('converge.yml', '-e', 'mailfleet_serial=1',
                                     '-e', 'mailfleet_postfix_db_password=wrong-password-for-this-run')
    assert rc != 0, output[-3000:]
    failed = [name for name in MAIL if recap.get(name, {}).get('failed')]
    assert len(failed) == 1, output[-3000:]
    # Every host's input passed the first play's check; the postfix play reached one host.
    postfix_play = output.split('PLAY [Point Postfix at the mail database]', 1)[1]
    assert [name for name in MAIL if '[%s]' % name in postfix_play] == failed, 'later batches ran:\n' + output[-3000:]
    assert 'wrong-password-for-this-run' not in output
    # Nothing changed anywhere: the failed host's validation kept its live files too.
    assert dict((name, snapshot(name)) for name in MAIL) == before
    for name in MAIL:
        assert answers(name) == EXPECTED, name


def test_bad_input_for_the_mail_hosts_stops_the_fleet_before_the_database_changes():
    domains = 'SELECT name FROM mailserver.virtual_domains ORDER BY name'
    before_domains = root_sql(node(DB1), domains)
    before = dict((name, snapshot(name)) for name in MAIL)
    extra = {'mailfleet_database_domains': scenario_vars()['mailfleet_database_domains'] + [{'name': 'new.example'}],
             'mailfleet_postfix_db_hosts': ['db1:0']}
    rc, output, _recap = run_playbook('converge.yml', '-e', json.dumps(extra))
    assert rc != 0
    assert "mailfleet_postfix_db_hosts: 'db1:0': the port must be a number" in output, output[-3000:]
    # Refused in the first play: no task of either role reached a host.
    assert 'Read which packages are missing' not in output and 'Read what Postfix this host has' not in output
    assert root_sql(node(DB1), domains) == before_domains
    assert dict((name, snapshot(name)) for name in MAIL) == before


def test_check_maps_prints_every_mail_hosts_answers_without_a_password():
    """playbooks/check_maps.yml runs the postfix role's checks (map and parameter entries)."""
    rc, output, recap = run_playbook(CHECK_MAPS, '-e', 'mailfleet_postfix_db_password=')
    assert rc == 0, output[-3000:]
    assert sorted(recap) == MAIL and all(counts['changed'] == 0 for counts in recap.values()), output[-3000:]
    assert output.count('virtual-mailbox-domains    example.net            (not found)') == len(MAIL), output
    assert output.count('virtual_alias_maps         jack@example.org       john@example.org') == len(MAIL), output
    assert PASSWORD not in output


def test_check_maps_reports_the_hosts_own_main_cf():
    """A parameter check asks the tables that the host's main.cf lists, not the inventory's:
    with the alias map dropped from virtual_alias_maps by hand on one host, that host's
    report shows the tables it really has, the alias no longer resolving, and the check
    fails naming it; the other hosts still pass."""
    name = MAIL[0]
    host = node(name)
    # Only postconf and postmap read main.cf here (no reload): the running Postfix never
    # sees the edit, and the saved copy puts back the very same bytes.
    aliases_before = host.check_output('postconf -h virtual_alias_maps')
    host.check_output('cp -p /etc/postfix/main.cf /root/main.cf.saved-by-test')
    try:
        host.check_output('postconf -e virtual_alias_maps=proxy:mysql:/etc/postfix/mysql-email2email.cf')
        rc, output, recap = run_playbook(CHECK_MAPS, '-e', 'mailfleet_postfix_db_password=')
    finally:
        host.check_output('cp -p /root/main.cf.saved-by-test /etc/postfix/main.cf '
                          '&& rm -f /root/main.cf.saved-by-test')
    assert rc != 0, output[-3000:]
    assert sorted(recap) == MAIL, output[-3000:]
    assert [other for other in MAIL if recap[other]['failed']] == [name], output[-3000:]
    # The report: the tables each host answered from, then its answers.
    tables = 'virtual_alias_maps         (tables on the host)   '
    assert output.count(tables + 'proxy:mysql:/etc/postfix/mysql-email2email.cf') == 1, output
    assert output.count(tables + 'proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, '
                                 'proxy:mysql:/etc/postfix/mysql-email2email.cf') == len(MAIL) - 1, output
    assert output.count('virtual_alias_maps         jack@example.org       (not found)            '
                        'DIFFERS, expected john@example.org') == 1, output
    assert output.count('virtual_alias_maps         jack@example.org       john@example.org') == len(MAIL) - 1, output
    # The failed check names the key, what was expected and what the host answered.
    assert re.search(r'1 of 2 expected answers differ:.*jack@example\.org +john@example\.org +\(not found\)',
                     output, re.S), output
    assert PASSWORD not in output
    assert host.check_output('postconf -h virtual_alias_maps') == aliases_before


def test_check_mode_on_the_converged_fleet_changes_nothing():
    before = dict((name, snapshot(name)) for name in MAIL)
    rc, output, recap = run_playbook('converge.yml', '--check', '--diff')
    assert rc == 0, output[-3000:]
    assert sorted(recap) == sorted(MAIL + [DB1, DB2]), output[-3000:]
    assert all(counts['changed'] == 0 for counts in recap.values()), output[-3000:]
    assert dict((name, snapshot(name)) for name in MAIL) == before
    assert PASSWORD not in output
