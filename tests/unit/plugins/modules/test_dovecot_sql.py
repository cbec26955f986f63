# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dovecot moved to another reader account: rewritten in place, proven by a lookup, or put back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postfix_control
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import dovecot_sql
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main

OLD_PASSWORD, NEW_PASSWORD = 'Old#S3cret', 'New#S3cret"x'
BOOKWORM = ('driver = mysql\n'
            'connect = "host=127.0.0.1 dbname=mailserver user=mailuser password=%s"\n'
            "password_query = SELECT password FROM virtual_users WHERE email='%%u'\n" % OLD_PASSWORD)
TRIXIE = ('sql_driver = mysql\n'
          'mysql localhost {\n'
          '  user = mailuser\n'
          '  password = "%s"\n'
          '}\n' % OLD_PASSWORD)
RUNNING = {'/usr/bin/systemctl is-active --quiet dovecot': (0, '', ''),
           '/usr/bin/systemctl is-enabled dovecot': (0, 'enabled\n', ''),
           '/usr/bin/doveadm reload': (0, '', '')}
FOUND_NOTHING = {'/usr/bin/doveadm user': (67, '', 'userdb lookup: user mailfleet-probe@probe.invalid does not exist\n')}
LOGIN_REFUSED = {'/usr/bin/doveadm user': (75, '', "userdb lookup failed: Access denied for user 'mailuser_b'@'localhost'"
                                                   ' (using password: YES) %s\n' % NEW_PASSWORD)}


@pytest.fixture
def dovecot_file(tmp_path):
    def make(text, name='dovecot-sql.conf.ext', mode=0o640):
        path = tmp_path / name
        path.write_text(text)
        os.chmod(str(path), mode)
        return path
    return make


@pytest.fixture
def run_dir(monkeypatch, tmp_path):
    """Where the owed reload is written down: a directory of the test's own."""
    path = tmp_path / 'run'
    monkeypatch.setattr(postfix_control, 'RUN_DIR', str(path))
    return path


@pytest.fixture
def run_module(monkeypatch, run_dir):
    def run(args, answers, check_mode=False, diff=False):
        commands = CannedCommands(answers)
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        kind, result, _module = run_main(monkeypatch, dovecot_sql.main, args, commands=commands)
        return kind, result, commands.calls
    return run


def args(path, **more):
    return dict(dict(files=[str(path)], user='mailuser_b', password=NEW_PASSWORD, replaces=['mailuser', 'mailuser_b'],
                     probe_timeout=0), **more)


@pytest.mark.parametrize('text, name', [(BOOKWORM, 'dovecot-sql.conf.ext'), (TRIXIE, 'auth-sql.conf.ext')])
def test_dovecot_moves_and_the_file_keeps_its_mode_after_a_lookup_answers(dovecot_file, run_module, text, name):
    path = dovecot_file(text, name)
    kind, result, calls = run_module(args(path), dict(RUNNING, **FOUND_NOTHING))
    assert kind == 'exit' and result['changed'] and result['reloaded']
    assert result['files'] == [dict(path=str(path), layout='2.3' if text == BOOKWORM else '2.4',
                                    users_before=['mailuser'], user='mailuser_b')]
    config = dovecot_sql.read(str(path), path.read_text())
    assert [(c.user, c.password) for c in config.connections] == [('mailuser_b', NEW_PASSWORD)]
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert [call[1] for call in calls if call[0] == '/usr/bin/doveadm'] == ['reload', 'user']
    assert NEW_PASSWORD not in repr(result) and OLD_PASSWORD not in repr(result)


def test_a_login_that_fails_after_the_reload_puts_the_old_file_back(dovecot_file, run_module):
    path = dovecot_file(BOOKWORM)
    kind, result, calls = run_module(args(path), dict(RUNNING, **LOGIN_REFUSED))
    assert kind == 'fail' and result['changed'] is False
    assert path.read_text() == BOOKWORM
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert [call[1] for call in calls if call[0] == '/usr/bin/doveadm'] == ['reload', 'user', 'reload']
    assert result['msg'].startswith('Dovecot could not look a user up through SQL as mailuser_b after %s was '
                                    "rewritten (userdb lookup failed: Access denied for user 'mailuser_b'" % path)
    assert pending() is None
    assert 'The old file was put back and Dovecot reloaded' in result['msg']
    assert NEW_PASSWORD not in repr(result)


def test_check_mode_changes_nothing_and_the_diff_masks_both_passwords(dovecot_file, run_module):
    path = dovecot_file(TRIXIE, 'auth-sql.conf.ext')
    kind, result, calls = run_module(args(path), RUNNING, check_mode=True, diff=True)
    assert kind == 'exit' and result['changed']
    assert path.read_text() == TRIXIE and calls == []
    diff = result['diff'][0]
    assert '  user = "mailuser"' in diff['before'] and '  user = "mailuser_b"' in diff['after']
    assert '  password = "********"' in diff['before'] and '  password = "********"' in diff['after']
    assert NEW_PASSWORD not in repr(result) and OLD_PASSWORD not in repr(result)


def test_a_file_of_another_account_is_left_alone(dovecot_file, run_module):
    path = dovecot_file(BOOKWORM.replace('user=mailuser', 'user=dovecot'))
    kind, result, calls = run_module(args(path), RUNNING)
    assert kind == 'exit' and not result['changed'] and calls == []
    assert result['left'] == [dict(path=str(path), layout='2.3', users=['dovecot'])]


def test_a_moved_dovecot_is_not_touched_again(dovecot_file, run_module):
    text = BOOKWORM.replace('user=mailuser password=%s' % OLD_PASSWORD, 'user=mailuser_b password=New#S3cret\\"x')
    path = dovecot_file(text)
    kind, result, calls = run_module(args(path), RUNNING)
    assert kind == 'exit' and not result['changed'] and calls == [] and path.read_text() == text


def test_a_stopped_dovecot_gets_the_file_and_no_reload(dovecot_file, run_module):
    path = dovecot_file(BOOKWORM)
    answers = {'/usr/bin/systemctl is-active --quiet dovecot': (3, '', ''),
               '/usr/bin/systemctl is-enabled dovecot': (0, 'enabled\n', '')}
    kind, result, calls = run_module(args(path), answers)
    assert kind == 'exit' and result['changed'] and not result['reloaded']
    assert 'user=mailuser_b' in path.read_text()
    assert not [call for call in calls if call[0] == '/usr/bin/doveadm']


def test_a_blank_in_the_password_is_refused_for_dovecot_2_3_with_nothing_changed(dovecot_file, run_module):
    path = dovecot_file(BOOKWORM)
    kind, result, calls = run_module(args(path, password='two words'), RUNNING)
    assert kind == 'fail' and calls == [] and path.read_text() == BOOKWORM
    assert result['msg'] == ('Nothing was changed: %s: Dovecot 2.3 splits its connect string at blanks: a password '
                             'for it cannot hold one' % path)
    assert 'two words' not in repr(result)


def test_a_file_dovecot_could_not_read_is_refused_with_its_line(dovecot_file, run_module):
    path = dovecot_file('sql_driver = mysql\nmysql localhost {\n  user = mailuser\n')
    kind, result, calls = run_module(args(path), RUNNING)
    assert kind == 'fail' and calls == []
    assert result['msg'] == ('Nothing was changed: %s line 2: the block "mysql localhost {" is never closed: '
                             'add its "}"' % path)


def pending():
    return postfix_control.PendingReload(dovecot_sql.DOVECOT_DIR).owed()


def test_the_reload_is_owed_from_the_first_write_and_settled_by_the_lookup(dovecot_file, run_module, monkeypatch):
    path = dovecot_file(BOOKWORM)
    seen = []
    real_install = dovecot_sql.install
    monkeypatch.setattr(dovecot_sql, 'install', lambda module, moves: (seen.append(pending()), real_install(module, moves)))
    kind, result, _calls = run_module(args(path), dict(RUNNING, **FOUND_NOTHING))
    assert kind == 'exit' and result['reloaded']
    assert seen[0]['what'] == 'dovecot_sql: %s' % path
    assert pending() is None


def test_a_run_killed_before_its_reload_is_finished_by_the_next_run(dovecot_file, run_module):
    """The file already names the new account, but Dovecot never reloaded it."""
    text = BOOKWORM.replace('user=mailuser password=%s' % OLD_PASSWORD, 'user=mailuser_b password=New#S3cret\\"x')
    path = dovecot_file(text)
    postfix_control.PendingReload(dovecot_sql.DOVECOT_DIR).record('dovecot_sql: %s' % path)
    kind, result, calls = run_module(args(path), dict(RUNNING, **FOUND_NOTHING))
    assert kind == 'exit' and result['changed'] and result['reloaded'] and result['files'] == []
    assert [call[1] for call in calls if call[0] == '/usr/bin/doveadm'] == ['reload', 'user']
    assert path.read_text() == text and pending() is None


def test_check_mode_reports_an_owed_reload_and_pays_nothing(dovecot_file, run_module):
    text = BOOKWORM.replace('user=mailuser password=%s' % OLD_PASSWORD, 'user=mailuser_b password=New#S3cret\\"x')
    path = dovecot_file(text)
    postfix_control.PendingReload(dovecot_sql.DOVECOT_DIR).record('dovecot_sql: %s' % path)
    kind, result, calls = run_module(args(path), RUNNING, check_mode=True)
    assert kind == 'exit' and result['changed'] and calls == [] and pending() is not None
