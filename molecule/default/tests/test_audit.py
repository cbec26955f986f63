# -*- coding: utf-8 -*-
"""The audit (playbook mailfleet.postfix_mysql.audit) on the converged hosts: nothing on the
tutorial's data; each kind of problem, seeded into one host's database or main.cf, found."""

import os

import pytest

from mailfleet_testlib import all_hosts, json_report, run_playbook, scenario_vars, sql

testinfra_hosts = ['ansible://converged?ansible_inventory=' + os.environ.get('MOLECULE_INVENTORY_FILE', '')]

PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''
REPORT_TASK = 'Report the findings, and fail on those of mailfleet_audit_fail_on'
ALIAS_MAPS = 'postconf -h virtual_alias_maps'
# inline: is a table type every Postfix 3 has: a third alias table that answers x@audit.test differently.
EXTRA_TABLE = 'inline:{x@audit.test=a@audit.test}'
MAILBOX_TABLE = 'proxy:mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'

# Seeded into the Debian 13 host's database: one row or a few per kind of problem.
SEED = """
INSERT INTO virtual_domains (name) VALUES ('audit.test');
SET @d = (SELECT id FROM virtual_domains WHERE name = 'audit.test');
INSERT INTO virtual_users (domain_id, email, password) VALUES
  (@d, 'a@audit.test', 'x'), (@d, 'b@audit.test', 'x'), (@d, 'lost@stray.test', 'x');
INSERT INTO virtual_aliases (domain_id, source, destination) VALUES
  (@d, 'a@audit.test', 'b@audit.test'),
  (@d, 'ghost@audit.test', 'nobody@audit.test'),
  (@d, 'loop1@audit.test', 'loop2@audit.test'), (@d, 'loop2@audit.test', 'loop1@audit.test'),
  (@d, 'info@elsewhere.test', 'a@audit.test'),
  (@d, 'x@audit.test', 'b@audit.test');
INSERT INTO virtual_aliases (domain_id, source, destination)
  SELECT @d, 'big@audit.test', CONCAT('r', seq, '@example.net') FROM seq_1_to_1001;
"""
UNSEED = """
DELETE FROM virtual_aliases WHERE domain_id = (SELECT id FROM virtual_domains WHERE name = 'audit.test');
DELETE FROM virtual_users WHERE domain_id = (SELECT id FROM virtual_domains WHERE name = 'audit.test');
DELETE FROM virtual_domains WHERE name = 'audit.test';
"""
EXPECTED = {
    # Debian 12: main.cf without the identity map, and proxy_read_maps without the mailbox table.
    ('mf-postfix-deb12', 'catch_all_swallows_mailbox', 'john@example.org'),
    ('mf-postfix-deb12', 'table_not_proxied', 'proxy:mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'),
    # Debian 13: the seeded rows, and the third alias table.
    ('mf-postfix-deb13', 'alias_overrides_mailbox', 'a@audit.test'),
    ('mf-postfix-deb13', 'undeliverable_destination', 'ghost@audit.test'),
    ('mf-postfix-deb13', 'alias_loop', 'loop1@audit.test'),
    ('mf-postfix-deb13', 'alias_loop', 'loop2@audit.test'),
    ('mf-postfix-deb13', 'expansion_limit', 'big@audit.test'),
    ('mf-postfix-deb13', 'domain_not_mailbox_domain', '@stray.test'),
    ('mf-postfix-deb13', 'domain_not_served', '@elsewhere.test'),
    ('mf-postfix-deb13', 'order_dependent', 'x@audit.test'),
    # Both: the hosts answer these differently.
    ('(all)', 'differs_between_hosts', 'john@example.org'),
    ('(all)', 'differs_between_hosts', 'a@audit.test'),
    ('(all)', 'differs_between_hosts', 'big@audit.test'),
}


def host_named(name):
    return [h for h in all_hosts() if h.backend.get_hostname() == name][0]


def snapshot(host):
    result = host.run("cd /etc/postfix && stat -c '%%n %%a %%U:%%G %%Y' main.cf master.cf mysql-*.cf "
                      "&& sha256sum main.cf master.cf mysql-*.cf")
    assert result.rc == 0, result.stderr
    checksum = sql(host, 'CHECKSUM TABLE virtual_domains, virtual_users, virtual_aliases', database='mailserver')
    return result.stdout, checksum


def audit(*args):
    # The containers are reached as root and have no sudo for the playbook's become.
    rc, output, recap = run_playbook('mailfleet.postfix_mysql.audit', '-e', 'mailfleet_audit_hosts=converged',
                                     '-e', 'ansible_become=false', *args, ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    report = json_report(output)
    results = {}
    for task in report['plays'][0]['tasks']:
        results.setdefault(task['task']['name'], task['hosts'])
    return rc, output, results


def report_of(results):
    return list(results[REPORT_TASK].values())[0]


def found(report):
    return set((f['host'], f['kind'], f['address']) for f in report['findings'])


def test_the_tutorial_data_has_no_findings():
    rc, output, results = audit()
    assert rc == 0, output
    report = report_of(results)
    assert report['findings'] == [] and report['failed_hosts'] == {}
    assert report['report'][-1] == 'no findings'
    for host, result in results['Resolve every address as the host\'s Postfix does'].items():
        assert result['changed'] is False
        assert result['summary']['mailboxes'] == 2 and result['summary']['aliases'] == 2, host
        assert result['summary']['addresses'] == 4, host


@pytest.fixture(scope='module')
def seeded():
    deb12, deb13 = host_named('mf-postfix-deb12'), host_named('mf-postfix-deb13')
    alias_maps = {h: h.check_output(ALIAS_MAPS) for h in (deb12, deb13)}
    identity = [t for t in alias_maps[deb12].replace(',', ' ').split() if 'email2email' in t]
    assert identity, alias_maps[deb12]
    proxied = deb12.check_output('postconf -h proxy_read_maps')
    assert MAILBOX_TABLE in proxied.replace(',', ' ').split()
    try:
        deb12.check_output('postconf %s', 'virtual_alias_maps=' + alias_maps[deb12].replace(identity[0], '')
                           .replace(', ,', ',').strip(' ,'))
        # main.cf only: the running proxymap keeps the list it read when it started. Postfix's
        # default part of the value names the table too, as $virtual_mailbox_maps.
        deb12.check_output('postconf %s', 'proxy_read_maps=' + ' '.join(
            t for t in proxied.replace(',', ' ').split() if t not in (MAILBOX_TABLE, '$virtual_mailbox_maps')))
        deb13.check_output('postconf %s', 'virtual_alias_maps=%s, %s' % (alias_maps[deb13], EXTRA_TABLE))
        sql(deb13, SEED, database='mailserver')
        yield deb12, deb13
    finally:
        sql(deb13, UNSEED, database='mailserver')
        for host, value in alias_maps.items():
            host.check_output('postconf %s', 'virtual_alias_maps=' + value)
        deb12.check_output('postconf %s', 'proxy_read_maps=' + proxied)


def test_every_seeded_problem_is_found_on_its_host(seeded):
    before = [snapshot(h) for h in seeded]
    rc, output, results = audit('-vvv')
    assert rc != 0, output
    report = report_of(results)
    assert report['failed'] is True
    assert EXPECTED <= found(report), sorted(found(report) - EXPECTED)
    # Nothing else: the tutorial's own data stays clean on both hosts.
    extra = set(f for f in found(report) - EXPECTED if f[1] != 'differs_between_hosts')
    assert extra == set()
    john = [f for f in report['findings'] if f['kind'] == 'catch_all_swallows_mailbox'][0]
    assert john['outcome'] == 'catchall@example.org (mailbox)'
    assert 'answered @example.org (for john@example.org) with catchall@example.org' in john['why']
    assert 'identity map' in john['why']
    loop = [f for f in report['findings'] if f['address'] == 'loop1@audit.test'][0]
    assert '4.6.0 Alias expansion error' in loop['outcome']
    # The table is in the failure message; the password in no output, at -vvv.
    assert 'catch_all_swallows_mailbox' in report['msg'] and 'what Postfix does' in report['msg']
    assert PASSWORD not in output and PASSWORD.split('#')[1] not in output
    # The audit wrote nothing, on the hosts or in the databases.
    assert [snapshot(h) for h in seeded] == before


def test_check_mode_finds_the_same(seeded):
    _rc, _output, results = audit()
    rc, output, checked = audit('--check')
    assert rc != 0, output
    assert found(report_of(checked)) == found(report_of(results))


def test_fail_on_never_reports_and_passes_and_warning_gates_warnings(seeded):
    rc, output, results = audit('-e', 'mailfleet_audit_fail_on=never')
    assert rc == 0, output
    report = report_of(results)
    assert report['severity_counts']['error'] > 0
    shown = list(results['Show the findings'].values())[0]['msg']
    assert any('alias_loop' in line and 'loop1@audit.test' in line for line in shown)


def test_a_broken_query_fails_with_the_query_and_no_password(seeded):
    rc, output, results = audit('-e', 'mailfleet_audit_aliases_query="SELECT nope FROM virtual_aliases"')
    assert rc != 0
    first = results['Resolve every address as the host\'s Postfix does']
    for result in first.values():
        assert result['failed'] is True
        assert 'aliases_query (SELECT nope FROM virtual_aliases) failed' in result['msg']
        assert "Unknown column 'nope'" in result['msg']
    assert PASSWORD not in output
