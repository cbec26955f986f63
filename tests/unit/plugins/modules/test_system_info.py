# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailfleet.postfix_mysql.plugins.modules import system_info
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main


def run(monkeypatch, args, answers, binaries=('dpkg-query', 'systemctl')):
    commands = CannedCommands(answers)
    kind, result, _module = run_main(monkeypatch, system_info.main, args, binaries=binaries, commands=commands)
    return kind, result, commands.calls


def test_missing_packages_and_service_state(monkeypatch):
    kind, result, calls = run(monkeypatch, {'packages': ['mariadb-server', 'python3-pymysql'], 'services': ['mariadb']}, {
        '/usr/bin/dpkg-query -W': (1, 'mariadb-server\tii \n', 'dpkg-query: no packages found matching python3-pymysql'),
        '/usr/bin/systemctl is-active --quiet mariadb': (0, '', ''),
        '/usr/bin/systemctl is-enabled mariadb': (0, 'enabled\n', ''),
    })
    assert kind == 'exit'
    assert result == dict(changed=False, missing_packages=['python3-pymysql'],
                          services={'mariadb': {'active': True, 'enabled': True}}, files={})


def test_nothing_asked_runs_nothing(monkeypatch):
    kind, result, calls = run(monkeypatch, {}, {})
    assert kind == 'exit' and result == dict(changed=False, missing_packages=[], services={}, files={}) and calls == []


def test_a_failing_dpkg_query_fails(monkeypatch):
    kind, result, _calls = run(monkeypatch, {'packages': ['x']}, {'/usr/bin/dpkg-query -W': (2, '', 'dpkg: broken')})
    assert kind == 'fail' and result['msg'] == 'dpkg-query failed: dpkg: broken'


def test_files_report_checksum_owner_group_and_mode(monkeypatch, tmp_path):
    present = tmp_path / '60-mailfleet.cnf'
    present.write_text('[mysqld]\n')
    present.chmod(0o644)
    kind, result, _calls = run(monkeypatch, {'files': [str(present), str(tmp_path / 'none.cnf'), str(tmp_path)]}, {})
    assert kind == 'exit'
    files = result['files']
    # sha1 of "[mysqld]\n", as the stat module reports it.
    assert files[str(present)]['checksum'] == 'e6b3ac7c0b2f8c4320a811d62a1737b32545b540'
    assert (files[str(present)]['exists'], files[str(present)]['regular'], files[str(present)]['mode']) == (True, True, '0644')
    missing = dict(exists=False, regular=False, checksum=None, owner=None, group=None, mode=None)
    assert files[str(tmp_path / 'none.cnf')] == missing
    assert files[str(tmp_path)]['regular'] is False and files[str(tmp_path)]['checksum'] is None
