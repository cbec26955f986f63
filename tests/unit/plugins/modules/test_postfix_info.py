# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.modules import postfix_info
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main

FIELDS = 'smtp/inet/chroot = y\nsmtp/inet/command = smtpd\npickup/unix/chroot = y\npickup/unix/command = pickup\n'


@pytest.fixture
def run_module(monkeypatch):
    """Run main() with binaries present or not and canned command output; record the calls."""

    def run(args, binaries=('postconf', 'dpkg-query', 'systemctl'), answers=None):
        commands = CannedCommands(answers)
        kind, result, _module = run_main(monkeypatch, postfix_info.main, args, binaries=binaries, commands=commands)
        return kind, result, commands.calls

    return run


INSTALLED = {
    '/usr/bin/dpkg-query -W': (0, 'postfix\tii \npostfix-mysql\tii \n', ''),
    '/usr/bin/postconf -c /etc/postfix -h mail_version': (0, '3.7.11\n', ''),
    '/usr/bin/postconf -c /etc/postfix -m': (0, 'hash\nmysql\nbtree\n', ''),
    '/usr/bin/postconf -c /etc/postfix -F': (0, FIELDS, ''),
    '/usr/bin/postconf -c /etc/postfix -n': (0, 'virtual_mailbox_maps = proxy:mysql:/etc/postfix/none.cf\n', ''),
    '/usr/bin/systemctl is-active --quiet postfix': (0, '', ''),
    '/usr/bin/systemctl is-enabled postfix': (0, 'enabled\n', ''),
}


def test_an_installed_postfix(run_module):
    kind, result, calls = run_module({'packages': ['postfix', 'postfix-mysql'], 'dovecot_sql_files': []},
                                     answers=INSTALLED)
    assert kind == 'exit'
    assert result == dict(changed=False, installed=True, mail_version='3.7.11', map_types=['btree', 'hash', 'mysql'],
                          chrooted_map_readers=['smtp/inet'], missing_packages=[], service_active=True,
                          service_enabled=True, client_file_users=[], client_files=[], dovecot_sql=[])
    assert calls[0] == ['/usr/bin/dpkg-query', '-W', '-f', '${Package}\t${db:Status-Abbrev}\n',
                        'postfix', 'postfix-mysql']
    assert ['/usr/bin/postconf', '-c', '/etc/postfix', '-F', '*/*/chroot', '*/*/command'] in calls


def test_a_stopped_disabled_service(run_module):
    answers = dict(INSTALLED, **{'/usr/bin/systemctl is-active --quiet postfix': (3, '', ''),
                                 '/usr/bin/systemctl is-enabled postfix': (1, 'disabled\n', '')})
    kind, result, _calls = run_module({}, answers=answers)
    assert kind == 'exit' and (result['service_active'], result['service_enabled']) == (False, False)


def test_missing_and_half_removed_packages(run_module):
    # dpkg-query exits 1 when a package is unknown; "rc" is removed with its config kept.
    answers = dict(INSTALLED, **{'/usr/bin/dpkg-query -W': (
        1, 'postfix\tii \npostfix-mysql\trc \n', 'dpkg-query: no packages found matching postfix-pcre\n')})
    kind, result, _calls = run_module({'packages': ['postfix', 'postfix-mysql', 'postfix-pcre']}, answers=answers)
    assert kind == 'exit' and result['missing_packages'] == ['postfix-mysql', 'postfix-pcre']


def test_no_postfix_at_all(run_module):
    kind, result, calls = run_module({'packages': ['postfix']}, binaries=('dpkg-query', 'systemctl'),
                                     answers={'/usr/bin/dpkg-query -W': (1, '', 'no packages found\n'),
                                              '/usr/bin/systemctl is-active': (4, '', ''),
                                              '/usr/bin/systemctl is-enabled': (1, '', 'No such file or directory')})
    assert kind == 'exit'
    assert result == dict(changed=False, installed=False, mail_version=None, map_types=[], chrooted_map_readers=[],
                          missing_packages=['postfix'], service_active=False, service_enabled=False,
                          client_file_users=[], client_files=[], dovecot_sql=[])
    assert [call[0] for call in calls] == ['/usr/bin/dpkg-query', '/usr/bin/systemctl', '/usr/bin/systemctl']


def test_postconf_without_a_configuration(run_module):
    answers = {'/usr/bin/postconf -c /etc/postfix-out': (1, '', 'postconf: fatal: open /etc/postfix-out/main.cf\n')}
    kind, result, _calls = run_module({'config_dir': '/etc/postfix-out'}, answers=answers)
    assert kind == 'exit' and result['installed'] is False and result['missing_packages'] == []


def test_packages_need_dpkg(run_module):
    kind, result, _calls = run_module({'packages': ['postfix']}, binaries=('postconf',))
    assert kind == 'fail' and 'dpkg-query not found' in result['msg']


def test_it_reports_and_never_judges_main_cf(run_module):
    """A fact module: wanted settings are the business of the module that writes them."""
    kind, result, calls = run_module({'main_cf': {'relayhost': ''}}, answers=INSTALLED)
    assert kind == 'fail' and 'main_cf' in result['msg']
    assert calls == []


def test_the_accounts_the_client_files_name(run_module, tmp_path):
    (tmp_path / 'mysql-a.cf').write_text('user = mailuser_b\npassword = x#1\n')
    (tmp_path / 'mysql-b.cf').write_text('# a comment\nuser = mailuser\n')
    (tmp_path / 'mysql-c.cf').write_text('user = mailuser_b\n')
    (tmp_path / 'other.cf').write_text('user = someone\n')
    kind, result, _calls = run_module({'config_dir': str(tmp_path)}, answers=INSTALLED)
    assert kind == 'exit' and result['client_file_users'] == ['mailuser', 'mailuser_b']


def test_a_client_file_named_in_main_cf_counts_whatever_its_name(run_module, tmp_path):
    """The trixie edition's mariadb-*.cf: an account only they name is in use all the same."""
    (tmp_path / 'mysql-a.cf').write_text('user = mailuser\n')
    (tmp_path / 'mariadb-virtual-mailbox-maps.cf').write_text('user = mailserver\npassword = x\n')
    (tmp_path / 'unused.cf').write_text('user = nobody\n')
    main_cf = ('virtual_mailbox_maps = proxy:mysql:%s/mariadb-virtual-mailbox-maps.cf\n'
               'relayhost =\n' % tmp_path)
    answers = dict(INSTALLED, **{'/usr/bin/postconf -c %s -n' % tmp_path: (0, main_cf, ''),
                                 '/usr/bin/postconf -c %s -h mail_version' % tmp_path: (0, '3.10.5\n', '')})
    kind, result, _calls = run_module({'config_dir': str(tmp_path), 'dovecot_sql_files': []}, answers=answers)
    assert kind == 'exit' and result['client_file_users'] == ['mailserver', 'mailuser']


def test_client_files_are_reported_with_their_parameters_and_without_a_password(run_module, tmp_path):
    hand_made = tmp_path / 'mariadb-virtual-alias-maps.cf'
    hand_made.write_text("user = mailserver\npassword = Hand#pw1\nhosts = localhost\ndbname = mailserver\n"
                         "query = SELECT destination FROM virtual_aliases WHERE source='%s'\n")
    # A mis-indented password continues the user line: the value is shown masked.
    broken = tmp_path / 'mysql-broken.cf'
    broken.write_text('# Managed by mailfleet.postfix_mysql: changes made here are overwritten.\n'
                      'user = mailuser\n  password = Indented#pw2\nhosts = 127.0.0.1\n')
    main_cf = ('virtual_alias_maps = mysql:%s, hash:/etc/postfix/virtual\n'
               'smtpd_sender_login_maps = proxy:mysql:%s\n' % (hand_made, hand_made))
    answers = dict(INSTALLED, **{'/usr/bin/postconf -c %s -n' % tmp_path: (0, main_cf, ''),
                                 '/usr/bin/postconf -c %s -h mail_version' % tmp_path: (0, '3.10.5\n', '')})
    kind, result, _calls = run_module({'config_dir': str(tmp_path), 'dovecot_sql_files': []}, answers=answers)
    assert kind == 'exit'
    assert result['client_files'] == [
        dict(path=str(hand_made), parameters=['smtpd_sender_login_maps', 'virtual_alias_maps'], proxied=True,
             managed=False,
             settings=dict(user='mailserver', hosts='localhost', dbname='mailserver',
                           query="SELECT destination FROM virtual_aliases WHERE source='%s'")),
        dict(path=str(broken), parameters=[], proxied=False, managed=True,
             settings=dict(user='mailuser  password = ********', hosts='127.0.0.1')),
    ]
    assert 'Hand#pw1' not in json.dumps(result) and 'Indented#pw2' not in json.dumps(result)


def test_dovecot_accounts_are_read_in_both_layouts_and_no_password_is_returned(run_module, tmp_path):
    old = tmp_path / 'dovecot-sql.conf.ext'
    old.write_text('driver = mysql\nconnect = "host=127.0.0.1 dbname=mailserver user=mailuser password=Pw#1"\n'
                   "password_query = SELECT password FROM virtual_users WHERE email='%u'\n")
    new = tmp_path / 'auth-sql.conf.ext'
    new.write_text('sql_driver = mysql\nmysql localhost {\n  user = mailserver\n  password = "Pw 2"\n}\n')
    kind, result, _calls = run_module({'dovecot_sql_files': [str(old), str(new), str(tmp_path / 'absent')]},
                                      answers=INSTALLED)
    assert kind == 'exit'
    assert [(entry['path'], entry['layout'], entry['users']) for entry in result['dovecot_sql']] == [
        (str(old), '2.3', ['mailuser']), (str(new), '2.4', ['mailserver'])]
    assert 'Pw#1' not in repr(result) and 'Pw 2' not in repr(result)


def test_a_dovecot_file_dovecot_could_not_read_fails_with_its_line(run_module, tmp_path):
    broken = tmp_path / 'dovecot-sql.conf.ext'
    broken.write_text('driver = mysql\nconnect = "host=127.0.0.1 user=mailuser password=Pw#1\n')
    kind, result, _calls = run_module({'dovecot_sql_files': [str(broken)]}, answers=INSTALLED)
    assert kind == 'fail'
    assert result['msg'] == ("Dovecot's SQL settings cannot be read: %s line 2: a quote is not closed: end the "
                             'value with " (dovecot_sql_files lists the files read for them)' % broken)
    assert 'Pw#1' not in repr(result)
