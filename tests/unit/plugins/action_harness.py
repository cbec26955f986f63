# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a controller-only action plugin in a unit test, as the task executor calls it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest.mock import MagicMock


def run_controller_action(action_class, args, check_mode=False, name=None):
    """ActionModule.run with ARGS; returns (result, connection). The action decides on the
    controller alone: running a module fails the test, and the connection is returned so that
    the test can see it was never used."""
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.action = name or 'mailfleet.postfix_mysql.action'
    connection = MagicMock()
    action = action_class(task, connection, play_context=MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._load_name = task.action
    action._execute_module = MagicMock(side_effect=AssertionError('a controller-only action must not run a module'))
    result = action.run(task_vars={})
    assert not action._requires_connection
    return result, connection
