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


def test_parse_grants_keeps_the_wildcard_escapes_and_sees_grant_option():
    assert parse_grants(GOOD + ["GRANT INSERT, select ON `mail\\_server`.`t` TO `u`@`h` WITH GRANT OPTION",
                                "GRANT SELECT ON `mail_db`.* TO `u`@`h`"]) == {
        ('*.*', ('USAGE',), False), ('mailserver.*', ('SELECT',), False),
        ('mail\\_server.t', ('INSERT', 'SELECT'), True), ('mail_db.*', ('SELECT',), False)}


def test_a_database_name_with_an_underscore_is_granted_with_the_wildcard_escaped():
    escaped = ["GRANT USAGE ON *.* TO `mailuser`@`10.0.0.21`", "GRANT SELECT ON `mail\\_db`.* TO `mailuser`@`10.0.0.21`"]
    wildcard = ["GRANT USAGE ON *.* TO `mailuser`@`10.0.0.21`", "GRANT SELECT ON `mail_db`.* TO `mailuser`@`10.0.0.21`"]
    p = ReaderPlan('mailuser', 'mail_db').plan(PASSWORD, ['10.0.0.21', '10.0.0.22'], {'10.0.0.21': NATIVE},
                                               lambda host: escaped)
    assert p.statements == [('CREATE USER %s@%s IDENTIFIED BY %s', ('mailuser', '10.0.0.22', PASSWORD)),
                            ('GRANT SELECT ON `mail\\_db`.* TO %s@%s', ('mailuser', '10.0.0.22'))]
    # A grant made with the wildcard (by hand, or by an earlier release) is made exact.
    p = ReaderPlan('mailuser', 'mail_db').plan(PASSWORD, ['10.0.0.21'], {'10.0.0.21': NATIVE}, lambda host: wildcard)
    assert p.statements[-1] == ('GRANT SELECT ON `mail\\_db`.* TO %s@%s', ('mailuser', '10.0.0.21'))


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


def test_on_create_an_existing_account_with_another_password_stops_the_plan_and_names_the_rotation():
    p = ReaderPlan('mailuser', 'mailserver').plan('new-vault-pw', ['10.0.0.21', '10.0.0.22'],
                                                  {'10.0.0.21': NATIVE}, lambda host: GOOD, update_password='on_create')
    assert p.statements == [] and p.changes == []
    assert len(p.refusals) == 1 and 'the reader mailuser@10.0.0.21 has another password' in p.refusals[0]
    assert 'mailfleet.postfix_mysql.rotate_db_password' in p.refusals[0]
    assert 'mailfleet_database_reader_update_password' in p.refusals[0]
    assert 'new-vault-pw' not in ' '.join(p.refusals + p.changes + p.before + p.after)


def test_on_create_a_new_host_and_an_account_with_the_same_password_are_fine():
    p = ReaderPlan('mailuser', 'mailserver').plan(PASSWORD, ['10.0.0.21', '10.0.0.22'], {'10.0.0.21': NATIVE},
                                                  lambda host: GOOD, update_password='on_create')
    assert p.refusals == [] and p.changes == ['add reader mailuser@10.0.0.22 with SELECT on mailserver']


@pytest.mark.parametrize('extra, named', [
    ("GRANT INSERT ON `mailserver`.* TO `mailuser`@`10.0.0.21`", 'INSERT ON mailserver.*'),
    # As MariaDB shows it: the privileges of one level on one line, SELECT among them.
    ("GRANT SELECT, INSERT, UPDATE ON `mailserver`.* TO `mailuser`@`10.0.0.21`", 'INSERT, UPDATE ON mailserver.*'),
    ("GRANT SELECT ON `mysql`.* TO `mailuser`@`10.0.0.21`", 'SELECT ON mysql.*'),
    ("GRANT ALL PRIVILEGES ON *.* TO `mailuser`@`10.0.0.21` WITH GRANT OPTION", 'ALL PRIVILEGES ON *.* WITH GRANT OPTION'),
])
def test_more_than_select_on_the_mail_database_stops_the_plan_and_is_named(extra, named):
    """The role does not take away what it did not give: the run stops and says what to do."""
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD + [extra]}, hosts=('10.0.0.21', '10.0.0.22'),
             password='changed-pw')
    assert p.statements == [] and p.changes == []
    assert len(p.refusals) == 1 and p.refusals[0].startswith(
        'the account mailuser@10.0.0.21 has more than SELECT on mailserver: %s. ' % named)
    assert "revoke them yourself (REVOKE ... FROM 'mailuser'@'10.0.0.21')" in p.refusals[0]


def test_grant_option_counts_as_extra():
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': [GOOD[0], GOOD[1] + ' WITH GRANT OPTION']})
    assert p.statements == [] and 'SELECT ON mailserver.* WITH GRANT OPTION' in p.refusals[0]


def test_a_select_on_some_columns_of_the_mail_database_is_left_alone():
    column = "GRANT SELECT (`password`) ON `mailserver`.`virtual_users` TO `mailuser`@`10.0.0.21`"
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD + [column]})
    assert (p.statements, p.changes, p.refusals) == ([], [], [])


def test_a_missing_select_is_granted_without_revoking_anything():
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': GOOD[:1]})
    assert p.statements == [('GRANT SELECT ON `mailserver`.* TO %s@%s', ('mailuser', '10.0.0.21'))]


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


COLUMN_GRANTS = [
    "GRANT USAGE ON *.* TO `mailuser`@`10.0.0.21` IDENTIFIED BY PASSWORD '%s'" % native_password_hash(PASSWORD),
    # MariaDB lists the columns in an order of its own.
    "GRANT SELECT (`destination`, `source`, `domain_id`) ON `mailserver`.`virtual_aliases` TO `mailuser`@`10.0.0.21`",
    "GRANT SELECT (`name`, `id`) ON `mailserver`.`virtual_domains` TO `mailuser`@`10.0.0.21`",
    "GRANT SELECT (`email`, `domain_id`) ON `mailserver`.`virtual_users` TO `mailuser`@`10.0.0.21`",
]


def columns_plan(grants, hosts=('10.0.0.21',), accounts=None):
    return ReaderPlan('mailuser', 'mailserver', columns_only=True).plan(
        PASSWORD, list(hosts), {'10.0.0.21': NATIVE} if accounts is None else accounts, lambda host: grants)


def test_column_privileges_are_read_in_any_order():
    assert ('mailserver.virtual_aliases', ('SELECT (destination, domain_id, source)',), False) in parse_grants(COLUMN_GRANTS)


def test_columns_only_a_new_account_gets_the_columns_postfix_reads_and_not_the_password():
    p = columns_plan([], hosts=('10.0.0.22',), accounts={})
    assert p.statements[1:] == [
        ('GRANT SELECT (`domain_id`, `source`, `destination`) ON `mailserver`.`virtual_aliases` TO %s@%s',
         ('mailuser', '10.0.0.22')),
        ('GRANT SELECT (`id`, `name`) ON `mailserver`.`virtual_domains` TO %s@%s', ('mailuser', '10.0.0.22')),
        ('GRANT SELECT (`domain_id`, `email`) ON `mailserver`.`virtual_users` TO %s@%s', ('mailuser', '10.0.0.22'))]
    assert not any('password' in sql or 'quota' in sql for sql, _args in p.statements)


def test_columns_only_a_converged_account_changes_nothing():
    p = columns_plan(COLUMN_GRANTS)
    assert (p.statements, p.changes, p.refusals) == ([], [], [])


def test_columns_only_takes_back_the_whole_database_that_the_role_gave_and_back_again():
    p = columns_plan(GOOD)
    assert p.statements[0] == ('REVOKE SELECT ON `mailserver`.* FROM %s@%s', ('mailuser', '10.0.0.21'))
    assert [sql.split(' ON ')[1].split(' TO ')[0] for sql, _args in p.statements[1:]] == [
        '`mailserver`.`virtual_aliases`', '`mailserver`.`virtual_domains`', '`mailserver`.`virtual_users`']
    assert p.refusals == []
    # And back to the guide's set-up: the whole database again, the column grants taken back.
    p = plan({'10.0.0.21': NATIVE}, {'10.0.0.21': COLUMN_GRANTS})
    assert p.statements[:3] == [
        ('REVOKE SELECT (`destination`, `domain_id`, `source`) ON `mailserver`.`virtual_aliases` FROM %s@%s',
         ('mailuser', '10.0.0.21')),
        ('REVOKE SELECT (`id`, `name`) ON `mailserver`.`virtual_domains` FROM %s@%s', ('mailuser', '10.0.0.21')),
        ('REVOKE SELECT (`domain_id`, `email`) ON `mailserver`.`virtual_users` FROM %s@%s', ('mailuser', '10.0.0.21'))]
    assert p.statements[3] == ('GRANT SELECT ON `mailserver`.* TO %s@%s', ('mailuser', '10.0.0.21'))


def test_columns_only_a_grant_on_the_password_column_given_by_hand_stops_the_plan():
    by_hand = "GRANT SELECT (`password`) ON `mailserver`.`virtual_users` TO `mailuser`@`10.0.0.21`"
    p = columns_plan(COLUMN_GRANTS + [by_hand])
    assert p.statements == [] and 'SELECT (password) ON mailserver.virtual_users' in p.refusals[0]
