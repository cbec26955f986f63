# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_reader import (
    ReaderPlan,
    native_password_hash,
    parse_grants,
    quote_identifier,
)

PASSWORD = 'Te5t#only pass-word'
# SHOW GRANTS as MariaDB 10.11 prints it for an account the role made.
GOOD = [
    "GRANT USAGE ON *.* TO `mailuser`@`10.0.0.21` IDENTIFIED BY PASSWORD '%s'" % native_password_hash(PASSWORD),
    "GRANT SELECT ON `mailserver`.* TO `mailuser`@`10.0.0.21`",
]
NATIVE = ('mysql_native_password', native_password_hash(PASSWORD))


def plan(accounts, grants, hosts=('10.0.0.21',), revoke=True, password=PASSWORD):
    return ReaderPlan('mailuser', 'mailserver').plan(password, list(hosts), accounts, lambda host: grants[host],
                                                     revoke_other_hosts=revoke)


def test_native_password_hash_is_what_mariadb_stores():
    # SELECT PASSWORD('password') on MariaDB 10.11
    assert native_password_hash('password') == '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'


def test_quote_identifier_doubles_backticks():
    assert quote_identifier('mail`server') == '`mail``server`'


def test_parse_grants_undoes_the_escaping_and_sees_grant_option():
    assert parse_grants(GOOD + ["GRANT INSERT, select ON `mail\\_server`.`t` TO `u`@`h` WITH GRANT OPTION"]) == {
        ('*.*', ('USAGE',), False), ('mailserver.*', ('SELECT',), False),
        ('mail_server.t', ('INSERT', 'SELECT'), True)}


def test_nothing_to_do_for_a_correct_account():
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD})
    assert (p.statements, p.changes, p.warnings) == ([], [], [])
    assert p.before == p.after == ['reader mailuser@10.0.0.21: SELECT ON mailserver.*']


def test_a_new_host_gets_the_account_and_select_only():
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD}, hosts=('10.0.0.21', '10.0.0.22'))
    assert p.statements == [('CREATE USER %s@%s IDENTIFIED BY %s', ('mailuser', '10.0.0.22', PASSWORD)),
                            ('GRANT SELECT ON `mailserver`.* TO %s@%s', ('mailuser', '10.0.0.22'))]
    assert p.changes == ['add reader mailuser@10.0.0.22 with SELECT on mailserver']


def test_a_changed_password_is_set_without_being_shown():
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD}, password='rotated-pw')
    assert p.statements == [('ALTER USER %s@%s IDENTIFIED BY %s', ('mailuser', '10.0.0.21', 'rotated-pw'))]
    assert p.changes == ['update reader mailuser@10.0.0.21 password']
    assert 'rotated-pw' not in ' '.join(p.changes + p.before + p.after)


@pytest.mark.parametrize('extra', [
    "GRANT INSERT ON `mailserver`.* TO `mailuser`@`10.0.0.21`",
    "GRANT SELECT ON `mysql`.* TO `mailuser`@`10.0.0.21`",
    "GRANT SELECT (`password`) ON `mailserver`.`virtual_users` TO `mailuser`@`10.0.0.21`",
])
def test_extra_privileges_are_revoked(extra):
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD + [extra]})
    assert p.statements == [('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s', ('mailuser', '10.0.0.21')),
                            ('GRANT SELECT ON `mailserver`.* TO %s@%s', ('mailuser', '10.0.0.21'))]
    assert p.changes[0].startswith('update reader mailuser@10.0.0.21 privileges: ')


def test_grant_option_counts_as_extra():
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': [GOOD[0], GOOD[1] + ' WITH GRANT OPTION']})
    assert p.statements[0][0].startswith('REVOKE ALL PRIVILEGES, GRANT OPTION')


def test_other_hosts_are_dropped_unless_kept():
    accounts = {'10.0.0.21': NATIVE, '%': NATIVE, '192.0.2.10': NATIVE}
    grants = {'10.0.0.21': GOOD}
    p = plan(accounts, grants)
    assert p.statements == [('DROP USER %s@%s', ('mailuser', '%')), ('DROP USER %s@%s', ('mailuser', '192.0.2.10'))]
    assert p.changes == ['remove reader mailuser@%', 'remove reader mailuser@192.0.2.10']
    assert plan(accounts, grants, revoke=False).statements == []


def test_another_plugin_is_warned_about_not_guessed():
    p = plan({'10.0.0.21': ('ed25519', 'xyz')}, {'10.0.0.21': GOOD})
    assert p.statements == [] and 'ed25519' in p.warnings[0]


def test_require_tls_creates_and_alters_accounts_and_keeps_stricter_requirements():
    new = ReaderPlan('mailuser', 'mailserver').plan(PASSWORD, ['10.0.0.21'], {}, None, require_tls=True)
    assert new.statements[0][0] == 'CREATE USER %s@%s IDENTIFIED BY %s REQUIRE SSL'
    assert new.changes == ['add reader mailuser@10.0.0.21 with SELECT on mailserver, TLS required']
    plain = {'10.0.0.21': NATIVE + ('',)}
    grants = {'10.0.0.21': GOOD}
    altered = ReaderPlan('mailuser', 'mailserver').plan(PASSWORD, ['10.0.0.21'], plain, grants.get, require_tls=True)
    assert altered.statements == [('ALTER USER %s@%s REQUIRE SSL', ('mailuser', '10.0.0.21'))]
    assert altered.changes == ['require TLS for reader mailuser@10.0.0.21']
    # The diff shows what changed: the TLS requirement, beside the unchanged privileges.
    assert altered.before == ['reader mailuser@10.0.0.21: SELECT ON mailserver.*']
    assert altered.after == ['reader mailuser@10.0.0.21: SELECT ON mailserver.*, TLS required']
    for ssl_type in ('ANY', 'X509', 'SPECIFIED'):
        kept = ReaderPlan('mailuser', 'mailserver').plan(PASSWORD, ['10.0.0.21'], {'10.0.0.21': NATIVE + (ssl_type,)},
                                                         grants.get, require_tls=True)
        assert kept.statements == [], ssl_type
    dropped = ReaderPlan('mailuser', 'mailserver').plan(PASSWORD, ['10.0.0.21'], {'10.0.0.21': NATIVE + ('ANY',)},
                                                        grants.get, require_tls=False)
    assert dropped.statements == [('ALTER USER %s@%s REQUIRE NONE', ('mailuser', '10.0.0.21'))]
    untouched = ReaderPlan('mailuser', 'mailserver').plan(PASSWORD, ['10.0.0.21'], {'10.0.0.21': NATIVE + ('ANY',)},
                                                          grants.get)
    assert untouched.statements == []
    assert PASSWORD not in repr(altered.changes + dropped.changes + new.changes)
