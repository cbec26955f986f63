# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mysql_maps action: bad input fails on the controller, in the caller's words, and good input
costs exactly one module run, with the task's own arguments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.mailfleet.postfix_mysql.plugins.action.mysql_maps import ActionModule

PASSWORD = 'S3cr3t-pw#1'
MAPS = [{'name': 'email2email', 'parameter': 'virtual_alias_maps', 'query': "SELECT email FROM u WHERE email='%s'"}]


def run_action(args):
    """ActionModule.run with ARGS; returns (result, the module calls made)."""
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.action = 'mailfleet.postfix_mysql.mysql_maps'
    action = ActionModule(task, MagicMock(), play_context=MagicMock(), loader=None, templar=None,
                          shared_loader_obj=None)
    action._load_name = task.action
    action._execute_module = MagicMock(return_value=dict(changed=False, files=[]))
    result = action.run(task_vars={})
    return result, action._execute_module.call_args_list


def test_good_input_is_one_module_run_with_the_task_s_arguments():
    args = dict(maps=MAPS, hosts=['127.0.0.1'], password=PASSWORD, packages=['postfix'])
    result, calls = run_action(args)
    assert not result.get('failed'), result
    assert len(calls) == 1
    assert calls[0][1]['module_name'] == 'mailfleet.postfix_mysql.mysql_maps'
    assert calls[0][1]['module_args'] == args


@pytest.mark.parametrize('args, words', [
    (dict(maps=MAPS, hosts=[], password=PASSWORD, labels={'hosts': 'mailfleet_postfix_db_hosts'}),
     'mailfleet_postfix_db_hosts'),
    (dict(maps=MAPS + [dict(MAPS[0])], hosts=['127.0.0.1'], password=PASSWORD,
          labels={'maps': 'mailfleet_postfix_maps'}), 'mailfleet_postfix_maps'),
    (dict(maps=MAPS, hosts=['127.0.0.1'], password='x', labels={'password': 'mailfleet_postfix_db_password'}),
     'mailfleet_postfix_db_password'),
    (dict(maps=MAPS, hosts=['127.0.0.1'], password=PASSWORD, labels={'nonsense': 'x'}), 'labels: unknown input'),
])
def test_bad_input_fails_on_the_controller_in_the_caller_s_words(args, words):
    result, calls = run_action(args)
    assert result['failed'] is True and words in result['msg'], result
    assert calls == []
    assert PASSWORD not in json.dumps(result)


def test_arguments_of_the_wrong_type_fail_before_the_connection():
    with pytest.raises(AnsibleActionFail):
        run_action(dict(maps='not a list of maps', password=PASSWORD))
