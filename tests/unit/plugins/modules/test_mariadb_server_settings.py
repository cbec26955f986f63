# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.modules import mariadb_server_settings as module_under_test
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
SETTINGS = {'bind-address': '10.0.0.11', 'server_id': 1, 'log_slave_updates': True}
TEXT = ('# Managed by mailfleet.postfix_mysql: changes made here are overwritten.\n'
        '[mysqld]\nbind-address = 10.0.0.11\nserver_id = 1\nlog_slave_updates = ON\n')


@pytest.fixture
def run(monkeypatch, tmp_path):
    path = str(tmp_path / '60-mailfleet.cnf')

    def run(**args):
        full = dict(path=path, owner=OWNER, group=GROUP, settings=SETTINGS)
        full.update(args)
        return run_main(monkeypatch, module_under_test.main, full, commands=lambda argv: (1, '', 'no command'))

    run.path = path
    return run


def test_writes_the_settings_in_order_and_then_changes_nothing(run):
    kind, result, _module = run(_ansible_diff=True)
    assert (kind, result['changed'], result['reasons']) == ('exit', True, ['created'])
    assert open(run.path).read() == TEXT and result['diff'][-1]['after'] == TEXT
    assert result['restart_needed'] is True and result['tls_files_changed'] == []
    assert stat.S_IMODE(os.stat(run.path).st_mode) == 0o644
    mtime = os.stat(run.path).st_mtime_ns
    kind, result, _module = run()
    assert (kind, result['changed'], result['reasons']) == ('exit', False, [])
    assert os.stat(run.path).st_mtime_ns == mtime


def test_a_changed_value_is_rewritten_and_a_wrong_mode_corrected(run):
    run()
    os.chmod(run.path, 0o600)
    kind, result, _module = run(settings=dict(SETTINGS, server_id=2))
    assert (kind, result['reasons']) == ('exit', ['content'])
    assert 'server_id = 2\n' in open(run.path).read()
    assert stat.S_IMODE(os.stat(run.path).st_mode) == 0o644
    os.chmod(run.path, 0o600)
    kind, result, _module = run(settings=dict(SETTINGS, server_id=2))
    assert (kind, result['changed'], result['reasons']) == ('exit', True, ['attributes'])


def test_check_mode_reports_and_writes_nothing(run):
    kind, result, _module = run(_ansible_check_mode=True)
    assert (kind, result['changed']) == ('exit', True) and not os.path.exists(run.path)


def test_absent_removes_the_file_once(run):
    run()
    kind, result, _module = run(state='absent', _ansible_diff=True)
    assert (kind, result['changed'], result['reasons']) == ('exit', True, ['removed'])
    assert result['diff']['before'] == TEXT and not os.path.exists(run.path)
    kind, result, _module = run(state='absent')
    assert (kind, result['changed']) == ('exit', False)


@pytest.mark.parametrize('settings, message', [
    ({'bind address': '1'}, "settings: 'bind address' is not a MariaDB option name"),
    ({'bind-address': '127.0.0.1\n'}, 'settings: bind-address must be one non-empty line'),
    ({'bind-address': ''}, 'settings: bind-address must be one non-empty line'),
    ({'bind-address': ['a', 'b']}, 'settings: bind-address must be a single value'),
])
def test_bad_settings_are_refused_and_nothing_is_written(run, settings, message):
    kind, result, _module = run(settings=settings)
    assert kind == 'fail' and message in result['msg']
    assert not os.path.exists(run.path)


def test_a_directory_in_the_way_is_refused(run):
    os.mkdir(run.path)
    kind, result, _module = run()
    assert kind == 'fail' and 'is not a regular file' in result['msg']


CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydA==\n-----END CERTIFICATE-----\n'
CA = '-----BEGIN CERTIFICATE-----\nMIIBuTCCAV+gAwIBAgIUQ2E=\n-----END CERTIFICATE-----\n'
KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-secret-key\n-----END PRIVATE KEY-----\n'


@pytest.fixture
def tls(tmp_path):
    return dict(certificate=CERT, private_key=KEY, ca_certificate=CA, directory=str(tmp_path / 'tls'),
                key_group=GROUP)


def test_tls_files_are_written_with_the_key_readable_by_its_group_only(run, tls):
    kind, result, _module = run(tls=tls, _ansible_diff=True)
    assert kind == 'exit' and result['restart_needed'] is True
    assert sorted(os.path.basename(p) for p in result['tls_files_changed']) == [
        'ca.pem', 'server-cert.pem', 'server-key.pem']
    key = os.path.join(tls['directory'], 'server-key.pem')
    assert open(key).read() == KEY and stat.S_IMODE(os.stat(key).st_mode) == 0o640
    assert os.stat(key).st_gid == grp.getgrnam(GROUP).gr_gid
    text = open(run.path).read()
    for setting, name in (('ssl_cert', 'server-cert.pem'), ('ssl_key', 'server-key.pem'), ('ssl_ca', 'ca.pem')):
        assert '%s = %s\n' % (setting, os.path.join(tls['directory'], name)) in text
    assert 'secret-key' not in repr(result)
    kind, result, _module = run(tls=tls)
    assert (kind, result['changed'], result['tls_files_changed']) == ('exit', False, [])


def test_a_new_certificate_alone_needs_no_restart(run, tls):
    run(tls=tls)
    renewed = CERT.replace('Q2VydA==', 'UmVuZXdlZA==')
    kind, result, _module = run(tls=dict(tls, certificate=renewed))
    assert (kind, result['changed'], result['restart_needed'], result['reasons']) == ('exit', True, False, ['tls'])
    assert [os.path.basename(p) for p in result['tls_files_changed']] == ['server-cert.pem']


def test_a_key_others_could_read_is_corrected(run, tls):
    run(tls=tls)
    key = os.path.join(tls['directory'], 'server-key.pem')
    os.chmod(key, 0o644)
    kind, result, _module = run(tls=tls)
    assert result['tls_files_changed'] == [key] and stat.S_IMODE(os.stat(key).st_mode) == 0o640


@pytest.mark.parametrize('change, message', [
    (dict(private_key=CERT), 'tls.private_key is not one unencrypted private key'),
    (dict(private_key=KEY.replace('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY')), 'tls.private_key is not one unencrypted'),
    (dict(certificate='not a certificate'), 'tls.certificate is not certificate(s) in PEM form'),
    (dict(ca_certificate=CA + KEY), 'tls.ca_certificate is not certificate(s) in PEM form'),
])
def test_tls_input_that_is_not_pem_is_refused_without_quoting_the_key(run, tls, change, message):
    kind, result, _module = run(tls=dict(tls, **change))
    assert kind == 'fail' and message in result['msg'] and 'secret-key' not in result['msg']
    assert not os.path.exists(tls['directory']) and not os.path.exists(run.path)


def test_check_mode_writes_no_tls_file(run, tls):
    kind, result, _module = run(tls=tls, _ansible_check_mode=True)
    assert (kind, result['changed'], len(result['tls_files_changed'])) == ('exit', True, 3)
    assert not os.path.exists(tls['directory'])


def test_missing_packages_are_named_and_nothing_is_written(monkeypatch, run):
    commands = CannedCommands({
        '/usr/bin/dpkg-query -W': (1, 'mariadb-server\tii \n', 'dpkg-query: no packages found matching python3-pymysql'),
        '/usr/bin/systemctl is-active --quiet mariadb': (3, '', ''),
        '/usr/bin/systemctl is-enabled mariadb': (1, 'not-found\n', ''),
    })
    kind, result, _module = run_main(monkeypatch, module_under_test.main,
                                     dict(path=run.path, owner=OWNER, group=GROUP, settings=SETTINGS,
                                          packages=['mariadb-server', 'python3-pymysql'], services=['mariadb']),
                                     commands=commands)
    assert (kind, result['changed'], result['missing_packages']) == ('exit', False, ['python3-pymysql'])
    assert result['services'] == {'mariadb': {'active': False, 'enabled': False}}
    assert not os.path.exists(run.path)


def test_installed_packages_and_the_service_state_come_with_the_settings(monkeypatch, run):
    commands = CannedCommands({
        '/usr/bin/dpkg-query -W': (0, 'mariadb-server\tii \n', ''),
        '/usr/bin/systemctl is-active --quiet mariadb': (0, '', ''),
        '/usr/bin/systemctl is-enabled mariadb': (0, 'enabled\n', ''),
    })
    kind, result, _module = run_main(monkeypatch, module_under_test.main,
                                     dict(path=run.path, owner=OWNER, group=GROUP, settings=SETTINGS,
                                          packages=['mariadb-server'], services=['mariadb']),
                                     commands=commands)
    assert (kind, result['changed'], result['missing_packages']) == ('exit', True, [])
    assert result['services'] == {'mariadb': {'active': True, 'enabled': True}}
    assert open(run.path).read() == TEXT
