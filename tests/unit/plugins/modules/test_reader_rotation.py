# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two reader accounts in turn: which one a rotation moves to, when the old one may be locked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_reader import PairState, native_password_hash
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import reader_rotation

OLD, NEW = 'Old#pass-1', 'New#pass-2'
HOSTS = ['10.0.0.21', '10.0.0.22']


def pair(a=None, b=None):
    """a, b: (password, locked) of mailuser and mailuser_b on every host, or None (missing)."""
    rows = []
    for name, state in (('mailuser', a), ('mailuser_b', b)):
        if state:
            rows += [(name, host, 'true' if state[1] else None, native_password_hash(state[0])) for host in HOSTS]
    return PairState('mailuser', 'mailuser_b', rows)


@pytest.mark.parametrize('a, b, in_use, expected', [
    # The usual start: the first account in use, the second never made.
    ((OLD, False), None, {}, ('mailuser_b', 'mailuser')),
    # The next rotation goes back to the first account.
    ((OLD, True), (OLD, False), {}, ('mailuser', 'mailuser_b')),
    # Interrupted after the idle account got the password: the same direction again.
    ((OLD, False), (NEW, False), {}, ('mailuser_b', 'mailuser')),
    # Done already.
    ((OLD, True), (NEW, False), {}, ('mailuser_b', 'mailuser')),
    # Both unlocked, neither with the new password: the mail hosts tell which one is in use.
    ((OLD, False), (OLD, False), {'mx1': ['mailuser_b']}, ('mailuser', 'mailuser_b')),
    ((OLD, False), (OLD, False), {}, ('mailuser_b', 'mailuser')),
])
def test_which_account_the_mail_hosts_move_to(a, b, in_use, expected):
    named = reader_rotation.named_accounts(dict(users_in_use=in_use, dovecot_in_use={}))
    assert reader_rotation.choose(pair(a, b), NEW, named) == expected


def test_an_account_dovecot_names_counts_as_in_use_when_choosing():
    named = reader_rotation.named_accounts(dict(users_in_use={}, dovecot_in_use={
        'mx1': [{'path': '/etc/dovecot/dovecot-sql.conf.ext', 'users': ['mailuser_b']}]}))
    assert reader_rotation.choose(pair((OLD, False), (OLD, False)), NEW, named) == ('mailuser', 'mailuser_b')


def test_both_accounts_locked_is_refused():
    with pytest.raises(reader_rotation.RotationError) as info:
        reader_rotation.choose(pair((OLD, True), (OLD, True)), NEW, set())
    assert 'both reader accounts, mailuser and mailuser_b, are locked or missing' in str(info.value)


class Cursor(object):
    def __init__(self, sessions):
        self.sessions = list(sessions)
        self.executed = []
        self.rows = []

    def execute(self, sql, args=None):
        self.executed.append((sql, args))
        self.rows = [(host,) for host in self.sessions.pop(0)] if sql == reader_rotation.SESSIONS_SQL else []

    def fetchall(self):
        return self.rows


class Module(object):
    check_mode = False


PARAMS = dict(password=NEW, users_in_use={'mx1': ['mailuser_b'], 'mx2': ['mailuser_b']}, sessions_timeout=5,
              unanswered=[], lock_despite_unanswered=False, dovecot_in_use={})


def test_the_old_account_is_locked_once_its_sessions_are_gone():
    cursor = Cursor([['10.0.0.21:4711'], []])
    result = reader_rotation.finish(Module(), cursor, PARAMS, pair((OLD, False), (NEW, False)))
    assert result == dict(changed=True, new_user='mailuser_b', old_user='mailuser',
                          changes=['lock reader mailuser@10.0.0.21', 'lock reader mailuser@10.0.0.22'])
    assert [args for sql, args in cursor.executed if 'ACCOUNT LOCK' in sql] == [('mailuser', h) for h in HOSTS]


def test_a_mail_host_that_still_names_the_old_account_stops_the_lock():
    cursor = Cursor([])
    params = dict(PARAMS, users_in_use={'mx1': ['mailuser_b'], 'mx2': ['mailuser']})
    with pytest.raises(reader_rotation.RotationError) as info:
        reader_rotation.finish(Module(), cursor, params, pair((OLD, False), (NEW, False)))
    assert str(info.value) == ('mailuser was not locked: on mx2, the client files still name(s) it. Move them to '
                               'mailuser_b (rotate_db_password.yml moves Dovecot unless '
                               'mailfleet_rotation_move_dovecot is false), then run the rotation again')
    assert cursor.executed == []


def test_a_dovecot_that_still_names_the_old_account_stops_the_lock_and_is_named():
    """Locked while Dovecot holds a connection, the account would fail at Dovecot's next reconnect."""
    cursor = Cursor([])
    params = dict(PARAMS, dovecot_in_use={
        'mx1': [{'path': '/etc/dovecot/conf.d/auth-sql.conf.ext', 'layout': '2.4', 'users': ['mailuser']}],
        'mx2': [{'path': '/etc/dovecot/dovecot-sql.conf.ext', 'layout': '2.3', 'users': ['mailuser_b']}]})
    with pytest.raises(reader_rotation.RotationError) as info:
        reader_rotation.finish(Module(), cursor, params, pair((OLD, False), (NEW, False)))
    assert str(info.value).startswith('mailuser was not locked: on mx1, Dovecot (/etc/dovecot/conf.d/auth-sql.conf.ext) '
                                      'still name(s) it.')
    assert cursor.executed == []


def test_sessions_that_do_not_end_stop_the_lock():
    cursor = Cursor([['10.0.0.21:4711']] * 10)
    params = dict(PARAMS, sessions_timeout=1)
    with pytest.raises(reader_rotation.RotationError) as info:
        reader_rotation.finish(Module(), cursor, params, pair((OLD, False), (NEW, False)))
    assert 'mailuser was not locked: after 1 s it still has 1 session(s), from 10.0.0.21:4711' == str(info.value)
    assert not [sql for sql, _args in cursor.executed if 'ACCOUNT LOCK' in sql]


def test_a_finished_rotation_changes_nothing():
    result = reader_rotation.finish(Module(), Cursor([]), PARAMS, pair((OLD, True), (NEW, False)))
    assert result == dict(changed=False, changes=[], new_user='mailuser_b', old_user='mailuser')


def test_a_mail_host_that_did_not_answer_stops_the_lock():
    cursor = Cursor([[]])
    params = dict(PARAMS, unanswered=['mx3', 'mx4'])
    with pytest.raises(reader_rotation.RotationError) as info:
        reader_rotation.finish(Module(), cursor, params, pair((OLD, False), (NEW, False)))
    assert str(info.value).startswith('mailuser was not locked: the mail host(s) mx3, mx4 did not answer')
    assert 'mailfleet_rotation_lock_unanswered=true' in str(info.value)
    assert cursor.executed == []


def test_the_admin_may_lock_despite_hosts_that_did_not_answer():
    cursor = Cursor([[]])
    params = dict(PARAMS, unanswered=['mx3'], lock_despite_unanswered=True)
    result = reader_rotation.finish(Module(), cursor, params, pair((OLD, False), (NEW, False)))
    assert result['changes'] == ['lock reader mailuser@10.0.0.21', 'lock reader mailuser@10.0.0.22']
