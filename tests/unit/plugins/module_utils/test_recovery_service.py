# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import os

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import db_recovery_watcher
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import recovery_service
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main

SYSTEMCTL = '/usr/bin/systemctl'
POSTCONF = {'/usr/bin/postconf -c /etc/postfix -x -h queue_directory data_directory':
            (0, '/var/spool/postfix\n/var/lib/postfix\n', '')}
NEW_HOST = dict(POSTCONF, **{SYSTEMCTL + ' is-active': (3, 'inactive\n', ''), SYSTEMCTL + ' is-enabled': (1, 'not-found\n', ''),
                             SYSTEMCTL: (0, '', '')})
RUNNING = dict(POSTCONF, **{SYSTEMCTL + ' is-active': (0, 'active\n', ''), SYSTEMCTL + ' is-enabled': (0, 'enabled\n', ''),
                            SYSTEMCTL: (0, '', '')})


def main():
    """The service alone, as mysql_maps manages it (its recovery_service option)."""
    module = AnsibleModule(argument_spec=dict(
        client_file=dict(type='path', required=True),
        config_dir=dict(type='path', default='/etc/postfix'),
        name=dict(type='str', default=recovery_service.DEFAULT_NAME),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ), supports_check_mode=True)
    p = module.params
    try:
        changes = recovery_service.manage_recovery_service(module, p['client_file'], p['config_dir'], p['state'],
                                                           p['name'])
    except recovery_service.RecoveryServiceError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(changed=bool(changes), changes=changes)


@pytest.fixture
def run_module(monkeypatch, tmp_path):
    tmp_path.chmod(0o755)
    monkeypatch.setattr(recovery_service, 'PROGRAM_DIR', str(tmp_path))
    monkeypatch.setattr(recovery_service, 'UNIT_DIR', str(tmp_path))
    monkeypatch.setattr(recovery_service, 'OLD_PROGRAM_DIR', str(tmp_path / 'old'))

    def run(args, answers):
        commands = CannedCommands(answers)
        kind, result, _module = run_main(monkeypatch, main,
                                         dict(dict(client_file='/etc/postfix/mysql-domains.cf'), **args),
                                         commands=commands)
        return kind, result, [' '.join(argv[1:]) for argv in commands.calls
                              if argv[0] == SYSTEMCTL and 'is-' not in argv[1]]
    return run


def test_a_new_host_gets_the_program_the_unit_and_a_running_service(run_module, tmp_path):
    kind, result, calls = run_module({}, NEW_HOST)
    assert kind == 'exit' and result['changed'] is True
    assert calls == ['daemon-reload', 'enable mailfleet-postfix-db-recovery', 'start mailfleet-postfix-db-recovery']
    assert (tmp_path / 'mailfleet-postfix-db-recovery.py').read_text() == inspect.getsource(db_recovery_watcher)
    unit = (tmp_path / 'mailfleet-postfix-db-recovery.service').read_text()
    assert ('ExecStart=/usr/bin/python3 -I %s/mailfleet-postfix-db-recovery.py /etc/postfix /etc/postfix/mysql-domains.cf\n'
            % tmp_path) in unit
    # Confined, writing only where postfix reload writes, its probes' copies in a 0700 directory of its own.
    for line in ('NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=-/var/spool/postfix -/var/lib/postfix',
                 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', 'SystemCallFilter=@system-service',
                 'RuntimeDirectory=mailfleet-postfix-db-recovery', 'RuntimeDirectoryMode=0700', 'UMask=0077'):
        assert line + '\n' in unit, line


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


def test_the_copy_an_earlier_release_left_in_usr_local_is_removed(run_module, tmp_path):
    run_module({}, NEW_HOST)
    (tmp_path / 'old').mkdir()
    old = tmp_path / 'old' / 'mailfleet-postfix-db-recovery.py'
    old.write_text('old')
    kind, result, calls = run_module({'_ansible_check_mode': True}, RUNNING)
    assert result == dict(changed=True, changes=['remove %s' % old]) and old.exists()
    kind, result, calls = run_module({}, RUNNING)
    assert result == dict(changed=True, changes=['remove %s' % old]) and not old.exists() and calls == []
    kind, result, calls = run_module({}, RUNNING)
    assert result == dict(changed=False, changes=[])


@pytest.mark.parametrize('mode, owner, reason', [
    (0o775, 0, 'has mode 0775'),
    (0o757, 0, 'has mode 0757'),
    (0o755, 50, 'is owned by uid 50'),
])
def test_a_program_directory_that_others_may_write_is_refused(run_module, tmp_path, mode, owner, reason):
    program_dir = tmp_path / 'lib'
    program_dir.mkdir()
    program_dir.chmod(mode)
    os.chown(str(program_dir), owner, 0)
    recovery_service.PROGRAM_DIR = str(program_dir)
    kind, result, calls = run_module({}, NEW_HOST)
    assert kind == 'fail' and '%s %s' % (program_dir, reason) in result['msg'] and 'nothing was changed' in result['msg']
    assert calls == [] and list(program_dir.iterdir()) == []
