# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule set for the account both roles write: the same verdict from either role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import credentials
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_data import problems as database_role_problems
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import check_connection

PASSWORD = 'Te5t#only pass-word'
# (user, password, database name): each differs from a good account in one way.
ACCOUNTS = [
    ('mailuser', PASSWORD, 'mailserver'),
    ('mail.user-1', PASSWORD, 'mail_server'),
    ('mailuser', 'x', 'mailserver'),
    ('mailuser', 'a\tb', 'mailserver'),
    ('mailuser', u'pass\u2028word', 'mailserver'),
    ('mailuser', u'pass\u2029word', 'mailserver'),
    ('mailuser', u'pass\x85word', 'mailserver'),
    ('mailuser', 'pass\x0bword', 'mailserver'),
    ('mailuser', 'pass\x0cword', 'mailserver'),
    ('mailuser', 'pass\x1eword', 'mailserver'),
    ('mailuser', ' ' + PASSWORD, 'mailserver'),
    ('mailuser', '', 'mailserver'),
    ('u' * 80, PASSWORD, 'mailserver'),
    ('u' * 81, PASSWORD, 'mailserver'),
    ('root', PASSWORD, 'mailserver'),
    ('mysql', PASSWORD, 'mailserver'),
    ('mariadb.sys', PASSWORD, 'mailserver'),
    ('debian-sys-maint', PASSWORD, 'mailserver'),
    (u'mail\u2028user', PASSWORD, 'mailserver'),
    ('mailuser', PASSWORD, 'mail%server'),
    ('mailuser', PASSWORD, 'mail-server'),
    ('mailuser', PASSWORD, 'mail server'),
    ('mailuser', PASSWORD, 'd' * 65),
]


@pytest.mark.parametrize('user, password, database', ACCOUNTS)
def test_both_roles_give_the_same_verdict(user, password, database):
    postfix_role = check_connection(['127.0.0.1'], user, password, database, {})
    database_role = database_role_problems(
        domains=[], reader=dict(user=user, password=password, hosts=['127.0.0.1'], database=database))
    assert bool(postfix_role) == bool(database_role), (postfix_role, database_role)
    if len(password) > 2:
        assert all(password not in line for line in postfix_role + database_role)


@pytest.mark.parametrize('name, refused', [
    ('mailserver', False), ('mail_server', False), ('Mail2', False), ('mail%server', True), ('mail`x', True),
    ('', True), ('d' * 64, False), ('d' * 65, True), (['mailserver'], True),
])
def test_database_names(name, refused):
    assert bool(credentials.database_name_reasons(name)) is refused


def test_the_grant_target_escapes_the_wildcards():
    assert credentials.grant_target('mailserver') == '`mailserver`.*'
    assert credentials.grant_target('mail_db') == '`mail\\_db`.*'


@pytest.mark.parametrize('name, refused', [
    ('mail.example.org', False), ('mail.example.org\npostfix postfix/x select y', True), ('mail example', True),
    (u'mail\u2028example.org', True), ('', True),
])
def test_mail_names(name, refused):
    assert bool(credentials.mail_name_reasons(name)) is refused
