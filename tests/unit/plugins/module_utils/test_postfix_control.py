# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import time

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postfix_control
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_control import (
    ConfigLock,
    LockTimeout,
    PendingReload,
    instance_name,
)


def test_instance_names_are_readable_and_distinct():
    assert instance_name('/etc/postfix').startswith('etc-postfix.')
    assert instance_name('/etc/postfix/') == instance_name('/etc/postfix')
    assert instance_name('/etc/post-fix') != instance_name('/etc/post/fix')


def test_a_second_lock_waits_then_names_the_holder(private_run_dir):
    first = ConfigLock('/etc/postfix', 'mailfleet.postfix_mysql.postconf').acquire(0)
    started = time.time()
    with pytest.raises(LockTimeout) as info:
        ConfigLock('/etc/postfix', 'mailfleet.postfix_mysql.mysql_maps').acquire(1)
    assert time.time() - started >= 1
    assert info.value.holder['what'] == 'mailfleet.postfix_mysql.postconf'
    assert 'another run (mailfleet.postfix_mysql.postconf, pid %d' % os.getpid() in info.value.message
    # Another directory has a lock of its own.
    ConfigLock('/etc/postfix-out', 'x').acquire(0).release()
    first.release()
    ConfigLock('/etc/postfix', 'x').acquire(0).release()
    assert stat.S_IMODE(os.stat(private_run_dir).st_mode) & 0o077 == 0


def test_the_run_dir_is_made_private(monkeypatch, tmp_path):
    run_dir = str(tmp_path / 'run' / 'mailfleet.postfix_mysql')
    monkeypatch.setattr(postfix_control, 'RUN_DIR', run_dir)
    PendingReload('/etc/postfix').record('test')
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(PendingReload('/etc/postfix').path).st_mode) == 0o600


def test_a_debt_is_recorded_read_and_settled():
    debt = PendingReload('/etc/postfix')
    assert debt.owed() is None
    debt.record('mailfleet.postfix_mysql.mysql_maps')
    assert debt.owed()['what'] == 'mailfleet.postfix_mysql.mysql_maps'
    assert PendingReload('/etc/postfix-out').owed() is None
    debt.settle()
    debt.settle()
    assert debt.owed() is None


def test_a_marker_cut_short_is_a_debt_all_the_same():
    debt = PendingReload('/etc/postfix')
    debt.record('x')
    with open(debt.path, 'w') as handle:
        handle.write('{"since": "2026')
    assert debt.owed() == {'since': 'unknown', 'what': 'unknown'}


def test_a_released_lock_leaves_no_name_behind():
    ConfigLock('/etc/postfix', 'mailfleet.postfix_mysql.postconf').acquire(0).release()
    assert ConfigLock('/etc/postfix', 'x')._holder() == {}


def test_a_holder_that_is_gone_is_not_named(private_run_dir):
    lock = ConfigLock('/etc/postfix', 'x')
    with open(lock.path, 'w') as handle:
        handle.write('{"pid": 999999999, "what": "mailfleet.postfix_mysql.mysql_maps"}')
    assert lock._holder() == {}
