# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mailfleet.postfix_mysql.plugins.modules import system_info


class Exit(Exception):
    pass


class Fail(Exception):
    pass


def run(monkeypatch, args, answers, binaries=('dpkg-query', 'systemctl')):
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        for prefix, answer in answers.items():
            if ' '.join(argv).startswith(prefix):
                return answer
        return (1, '', 'unexpected call')

    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        raise Fail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                        lambda self, name, *a, **kw: '/usr/bin/%s' % name if name in binaries else None)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    with patch_module_args(args):
        with pytest.raises((Exit, Fail)) as info:
            system_info.main()
    return ('exit' if info.type is Exit else 'fail'), info.value.args[0], calls


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
