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
                          services={'mariadb': {'active': True, 'enabled': True}})


def test_nothing_asked_runs_nothing(monkeypatch):
    kind, result, calls = run(monkeypatch, {}, {})
    assert kind == 'exit' and result == dict(changed=False, missing_packages=[], services={}) and calls == []


def test_a_failing_dpkg_query_fails(monkeypatch):
    kind, result, _calls = run(monkeypatch, {'packages': ['x']}, {'/usr/bin/dpkg-query -W': (2, '', 'dpkg: broken')})
    assert kind == 'fail' and result['msg'] == 'dpkg-query failed: dpkg: broken'
