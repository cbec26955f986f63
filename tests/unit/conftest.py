# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every unit test keeps the modules' locks and reload debts in a directory of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postfix_control


@pytest.fixture(autouse=True)
def private_run_dir(monkeypatch, tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp('run'))
    monkeypatch.setattr(postfix_control, 'RUN_DIR', run_dir)
    return run_dir
