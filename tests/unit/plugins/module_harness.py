# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in a unit test: its arguments in, its exit_json or fail_json out.

Shared by the module tests, so that each of them only says what the host looks like:
which binaries exist and what each command answers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Exit(Exception):
    pass


class Fail(Exception):
    pass


class CannedCommands(object):
    """Stands for AnsibleModule.run_command: the first answer whose prefix matches the
    command line (joined with blanks) is returned; every call is recorded."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        line = ' '.join(argv)
        for prefix, answer in self.answers.items():
            if line.startswith(prefix):
                return answer
        return (1, '', 'unexpected call: %s' % line)


def run_main(monkeypatch, main, args, binaries=None, commands=None, bin_dir='/usr/bin'):
    """Run main() with args. binaries: names that get_bin_path finds (in bin_dir), all
    by default; commands: a CannedCommands (or any callable) for run_command.

    Returns ('exit' or 'fail', the result, the AnsibleModule).
    """
    seen = {}

    def exit_json(self, **kwargs):
        seen['module'] = self
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        seen['module'] = self
        raise Fail(kwargs)

    def get_bin_path(self, name, *args, **kwargs):
        return '%s/%s' % (bin_dir, name) if binaries is None or name in binaries else None

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    if commands is not None:
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, argv, **kwargs: commands(argv))
    with patch_module_args(args):
        with pytest.raises((Exit, Fail)) as info:
            main()
    return ('exit' if info.type is Exit else 'fail'), info.value.args[0], seen.get('module')
