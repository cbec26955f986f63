# -*- coding: utf-8 -*-
"""The planning half of mail_database: what changes for a given state and declaration."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.modules.mail_database import ContentPlan

HASH = '{BLF-CRYPT}$2y$05$secret-hash'


def plan(state, domains=(), users=(), aliases=()):
    def full(items, **defaults):
        return [dict(defaults, **item) for item in items]
    content = ContentPlan(*state)
    problems = content.plan(full(domains, state='present'),
                            full(users, state='present', quota=0, password_hash=None),
                            full(aliases, state='present'))
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


def test_changed_password_and_quota_update_the_user_without_showing_the_hash():
    content, _problems = plan(EXISTING, users=[{'email': 'john@example.org', 'password_hash': 'new', 'quota': 9}])
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
    ([{'email': 'x@nowhere.example', 'password_hash': HASH}], [], 'user x@nowhere.example: domain nowhere.example'),
    ([], [{'source': 'a@nowhere.example', 'destination': 'b@example.org'}], 'alias a@nowhere.example: domain nowhere.example'),
    ([{'email': 'ann@example.org'}], [], 'user ann@example.org: password_hash is required'),
])
def test_problems_are_reported_before_anything_runs(users, aliases, problem):
    _content, problems = plan(EXISTING, users=users, aliases=aliases)
    assert len(problems) == 1 and problems[0].startswith(problem)
