# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import db_recovery_watcher
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import db_recovery_watch
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main

SYSTEMCTL = '/usr/bin/systemctl'
NEW_HOST = {SYSTEMCTL + ' is-active': (3, 'inactive\n', ''), SYSTEMCTL + ' is-enabled': (1, 'not-found\n', ''),
            SYSTEMCTL: (0, '', '')}
RUNNING = {SYSTEMCTL + ' is-active': (0, 'active\n', ''), SYSTEMCTL + ' is-enabled': (0, 'enabled\n', ''),
           SYSTEMCTL: (0, '', '')}


@pytest.fixture
def run_module(monkeypatch, tmp_path):
    monkeypatch.setattr(db_recovery_watch, 'PROGRAM_DIR', str(tmp_path))
    monkeypatch.setattr(db_recovery_watch, 'UNIT_DIR', str(tmp_path))

    def run(args, answers):
        commands = CannedCommands(answers)
        kind, result, _module = run_main(monkeypatch, db_recovery_watch.main,
                                         dict(dict(client_file='/etc/postfix/mysql-domains.cf'), **args),
                                         commands=commands)
        return kind, result, [' '.join(argv[1:]) for argv in commands.calls if 'is-' not in argv[1]]
    return run


def test_a_new_host_gets_the_program_the_unit_and_a_running_service(run_module, tmp_path):
    kind, result, calls = run_module({}, NEW_HOST)
    assert kind == 'exit' and result['changed'] is True
    assert calls == ['daemon-reload', 'enable mailfleet-postfix-db-recovery', 'start mailfleet-postfix-db-recovery']
    assert (tmp_path / 'mailfleet-postfix-db-recovery.py').read_text() == inspect.getsource(db_recovery_watcher)
    unit = (tmp_path / 'mailfleet-postfix-db-recovery.service').read_text()
    assert ('ExecStart=/usr/bin/python3 %s/mailfleet-postfix-db-recovery.py /etc/postfix /etc/postfix/mysql-domains.cf\n'
            % tmp_path) in unit


def test_an_unchanged_host_is_asked_only(run_module):
    run_module({}, NEW_HOST)
    kind, result, calls = run_module({}, RUNNING)
    assert kind == 'exit' and result == dict(changed=False, changes=[]) and calls == []


def test_a_changed_unit_is_reloaded_and_the_service_restarted(run_module):
    run_module({}, NEW_HOST)
    kind, result, calls = run_module({'client_file': '/etc/postfix/mysql-other.cf'}, RUNNING)
    assert result['changed'] is True and calls == ['daemon-reload', 'restart mailfleet-postfix-db-recovery']


def test_check_mode_writes_and_runs_nothing(run_module, tmp_path):
    kind, result, calls = run_module({'_ansible_check_mode': True}, NEW_HOST)
    assert result['changed'] is True and calls == [] and list(tmp_path.iterdir()) == []


def test_absent_stops_and_removes_it(run_module, tmp_path):
    run_module({}, NEW_HOST)
    kind, result, calls = run_module({'state': 'absent'}, RUNNING)
    assert result['changed'] is True and calls == ['disable --now mailfleet-postfix-db-recovery', 'daemon-reload']
    assert list(tmp_path.iterdir()) == []


def test_a_blank_in_a_path_is_refused(run_module):
    kind, result, calls = run_module({'client_file': '/etc/post fix/mysql-a.cf'}, NEW_HOST)
    assert kind == 'fail' and 'must not contain blanks' in result['msg'] and calls == []
