# -*- coding: utf-8 -*-
"""mail_database: what changes for a given state and declaration, and the data it refuses
before it connects."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import mysql_login
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import mail_database
from ansible_collections.mailfleet.postfix_mysql.plugins.modules.mail_database import ContentPlan
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import run_main

HASH = '{BLF-CRYPT}$2y$05$secret-hash'
PASSWORD = 'Te5t#only pass-word'


def plan(state, domains=(), users=(), aliases=(), update_password='on_create'):
    def full(items, **defaults):
        return [dict(defaults, **item) for item in items]
    content = ContentPlan(*state)
    problems = content.plan(full(domains, state='present'),
                            full(users, state='present', quota=None, password_hash=None, update_password=None),
                            full(aliases, state='present'), update_password)
    return content, problems


EXISTING = ({'example.org': 1}, {'john@example.org': (HASH, 0)}, {('jack@example.org', 'john@example.org')})


def test_nothing_to_do_when_everything_is_there():
    content, problems = plan(EXISTING, domains=[{'name': 'example.org'}],
                             users=[{'email': 'john@example.org', 'password_hash': HASH}],
                             aliases=[{'source': 'jack@example.org', 'destination': 'john@example.org'}])
    assert (content.statements, content.changes, problems) == ([], [], [])


def test_names_compare_case_insensitively():
    content, problems = plan(EXISTING, domains=[{'name': 'Example.ORG'}],
                             aliases=[{'source': 'Jack@example.org', 'destination': 'JOHN@example.org'}])
    assert (content.statements, problems) == ([], [])


def test_additions_in_dependency_order():
    content, problems = plan(({}, {}, set()), domains=[{'name': 'example.net'}],
                             users=[{'email': 'ann@example.net', 'password_hash': HASH, 'quota': 5}],
                             aliases=[{'source': '@example.net', 'destination': 'ann@example.net'}])
    assert problems == []
    assert content.changes == ['add domain example.net', 'add user ann@example.net (quota 5)',
                               'add alias @example.net -> ann@example.net']
    assert content.statements[1][1] == ('ann@example.net', HASH, 5, 'example.net')


def test_a_password_changed_by_its_user_is_kept_and_a_quota_not_declared_too():
    changed_in_the_webmail = ({'example.org': 1}, {'john@example.org': ('{BLF-CRYPT}his own', 7)}, set())
    content, problems = plan(changed_in_the_webmail, users=[{'email': 'john@example.org', 'password_hash': HASH}])
    assert (content.statements, content.changes, problems) == ([], [], [])


def test_a_declared_quota_is_written_and_the_password_still_kept():
    content, _problems = plan(EXISTING, users=[{'email': 'john@example.org', 'password_hash': 'new', 'quota': 9}])
    assert content.changes == ['update user john@example.org (quota 0 -> 9)']
    assert content.statements[0][1] == (HASH, 9, 'john@example.org')


def test_a_new_mailbox_gets_the_declared_password_and_no_quota_when_none_is_declared():
    content, _problems = plan(({'example.org': 1}, {}, set()), users=[{'email': 'ann@example.org', 'password_hash': HASH}])
    assert content.changes == ['add user ann@example.org (quota 0)']
    assert content.statements[0][1] == ('ann@example.org', HASH, 0, 'example.org')


@pytest.mark.parametrize('module_wide, per_user, written', [
    ('on_create', None, False),
    ('always', None, True),
    ('on_create', 'always', True),
    ('always', 'on_create', False),
])
def test_update_password_for_all_or_for_one_user(module_wide, per_user, written):
    content, _problems = plan(EXISTING, users=[{'email': 'john@example.org', 'password_hash': 'new',
                                                'update_password': per_user}], update_password=module_wide)
    assert content.changes == (['update user john@example.org (password)'] if written else [])


def test_changed_password_and_quota_update_the_user_without_showing_the_hash():
    content, _problems = plan(EXISTING, users=[{'email': 'john@example.org', 'password_hash': 'new', 'quota': 9}],
                              update_password='always')
    assert content.changes == ['update user john@example.org (password, quota 0 -> 9)']
    assert HASH not in ''.join(content.changes + content.before + content.after)
    assert 'new' not in ''.join(content.changes + content.before + content.after).replace('new password', '')


def test_removals_and_cascade():
    content, problems = plan(EXISTING, domains=[{'name': 'example.org', 'state': 'absent'}],
                             users=[{'email': 'john@example.org', 'state': 'absent'}])
    assert problems == []
    # The user goes with its domain: no separate DELETE for it.
    assert content.changes == ['remove domain example.org (and its 2 users and aliases)']


@pytest.mark.parametrize('users, aliases, problem', [
    ([{'email': 'x@nowhere.example', 'password_hash': HASH}], [],
     "users[0].email: 'x@nowhere.example': domain nowhere.example is neither in the database nor in domains"),
    ([], [{'source': 'a@nowhere.example', 'destination': 'b@example.org'}],
     "aliases[0].source: 'a@nowhere.example': domain nowhere.example is neither in the database nor in domains"),
])
def test_unknown_domains_are_reported_before_anything_runs(users, aliases, problem):
    _content, problems = plan(EXISTING, users=users, aliases=aliases)
    assert problems == [problem]


# main(): the data is checked before the module connects to the database.

class Connection(object):
    """Stands for mysql_connect: records the calls and refuses, as a server that is not there."""

    def __init__(self):
        self.calls = []

    def __call__(self, module, *args, **kwargs):
        self.calls.append(args)
        raise RuntimeError('connection refused')


@pytest.fixture
def connect(monkeypatch):
    fake = Connection()
    monkeypatch.setattr(mysql_login, 'mysql_connect', fake)
    monkeypatch.setattr(mysql_login, 'mysql_driver', object())
    return fake


READER = {'user': 'mailuser', 'password': PASSWORD, 'hosts': ['127.0.0.1']}


@pytest.mark.parametrize('args, problem', [
    ({'domains': [{'name': 'exa mple..org'}]}, "domains[0].name: 'exa mple..org' contains a blank; has two dots in a row"),
    ({'domains': [{'name': ''}]}, "domains[0].name: '' is empty"),
    ({'aliases': [{'source': 'jack@example.org', 'destination': ''}]}, "aliases[0].destination: '' is empty"),
    ({'reader': dict(READER, password='')}, 'reader.password is empty'),
    ({'reader': dict(READER, password='x')}, 'reader.password is shorter than 2 characters'),
    ({'reader': dict(READER, hosts=[])}, 'reader.hosts is empty'),
    ({'users': [{'email': 'john@example.org', 'password_hash': 'Secret-Plain-1'}]},
     "users[0].password_hash of 'john@example.org' is not in a form Dovecot reads"),
    ({'users': [{'email': 'john@example.org'}]}, "users[0].password_hash of 'john@example.org' is required"),
    # The module's own login account, the server's own accounts, the database's name.
    ({'reader': dict(READER, user='root')}, "reader.user: 'root' is an account of the database server itself"),
    ({'reader': dict(READER, user='admin'), 'login_user': 'admin'}, "reader.user: 'admin' is also login_user"),
    ({'reader': READER, 'login_db': 'mail%server'}, "login_db: 'mail%server' must be 1 to 64 letters, digits or _"),
    ({'reader': dict(READER, password=u'Te5t#line\u2028sep')}, 'reader.password contains a control character'),
    # Dovecot's account: a name of its own.
    ({'reader': READER, 'dovecot': {'user': 'mailuser', 'password': PASSWORD, 'hosts': ['127.0.0.1']}},
     "dovecot.user: 'mailuser' is also reader.user"),
    ({'reader': READER, 'dovecot': {'user': 'dovecot', 'password': '', 'hosts': ['127.0.0.1']}},
     'dovecot.password is empty'),
])
def test_bad_data_fails_before_connecting(monkeypatch, connect, args, problem):
    kind, result, _module = run_main(monkeypatch, mail_database.main, args)
    assert kind == 'fail'
    assert connect.calls == []
    assert result['msg'].startswith('Nothing was changed; 1 problem in the mail data: ' + problem)
    assert len(result['problems']) == 1 and result['problems'][0].startswith(problem)
    assert 'Secret-Plain-1' not in str(result)


def test_every_problem_is_listed_and_no_secret_shown(monkeypatch, connect):
    kind, result, _module = run_main(monkeypatch, mail_database.main, {
        'domains': [{'name': 'exa mple..org'}, {'name': 'example.org'}, {'name': 'EXAMPLE.org', 'state': 'absent'}],
        'users': [{'email': 'john', 'password_hash': 'Secret-Plain-1'}],
        'aliases': [{'source': 'jack@example.org', 'destination': ''}],
        'reader': dict(READER, password=PASSWORD + '\n'),
    })
    assert kind == 'fail' and connect.calls == []
    assert [line.split(' ')[0].rstrip(':') for line in result['problems']] == [
        'domains[0].name', 'domains[2].name', 'users[0].email', 'users[0].password_hash', 'aliases[0].destination',
        'reader.password']
    assert result['msg'].startswith('Nothing was changed; 6 problems in the mail data: ')
    assert 'Secret-Plain-1' not in str(result) and PASSWORD not in str(result)


def test_good_data_goes_on_to_the_database(monkeypatch, connect):
    kind, result, _module = run_main(monkeypatch, mail_database.main, {
        'domains': [{'name': 'münchen.de'}, {'name': 'xn--mnchen-3ya.de'}],
        'users': [{'email': 'john@münchen.de', 'password_hash': '{PLAIN}x'}],
        'aliases': [{'source': '@münchen.de', 'destination': 'john@münchen.de'}],
        'reader': READER,
    })
    assert kind == 'fail' and len(connect.calls) == 1
    assert result['msg'].startswith('Cannot connect to the database server')


def test_bad_data_is_reported_even_without_the_driver(monkeypatch):
    monkeypatch.setattr(mysql_login, 'mysql_driver', None)
    kind, result, _module = run_main(monkeypatch, mail_database.main, {'domains': [{'name': ''}]})
    assert kind == 'fail' and result['problems'] == ["domains[0].name: '' is empty; give a domain name such as example.org"]


def test_the_tables_are_as_wide_as_the_checks_allow():
    ddl = dict(mail_database.TABLES)
    assert '`name` varchar(50) NOT NULL' in ddl['virtual_domains']
    assert '`email` varchar(100) NOT NULL' in ddl['virtual_users'] and '`password` varchar(150) NOT NULL' in ddl['virtual_users']
    assert '`source` varchar(100) NOT NULL' in ddl['virtual_aliases']
    assert '`destination` varchar(100) NOT NULL' in ddl['virtual_aliases']
