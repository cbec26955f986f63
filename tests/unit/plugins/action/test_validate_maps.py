# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller-side check of the postfix role: combines by name, refuses with the role's names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.mailfleet.postfix_mysql.plugins.action.validate_maps import ActionModule
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.action_harness import run_controller_action

PASSWORD = 'S3cr3t pw#1'
DEFAULT_MAPS = [
    {'name': 'virtual-alias-maps', 'parameter': 'virtual_alias_maps',
     'query': "SELECT destination FROM virtual_aliases WHERE source='%s'"},
    {'name': 'email2email', 'parameter': 'virtual_alias_maps', 'query': "SELECT email FROM virtual_users WHERE email='%s'"},
]
LABELS = {'maps': 'mailfleet_postfix_maps', 'default_maps': 'mailfleet_postfix_default_maps',
          'password': 'mailfleet_postfix_db_password', 'hosts': 'mailfleet_postfix_db_hosts'}


def run_action(args):
    result, connection = run_controller_action(ActionModule, args)
    # It decides on the controller alone: the host is never contacted.
    assert connection.method_calls == []
    return result


def test_combines_by_name_and_returns_the_maps_with_their_state():
    result = run_action(dict(default_maps=DEFAULT_MAPS, maps=[{'name': 'email2email', 'state': 'absent'}],
                             hosts=['127.0.0.1'], password=PASSWORD, labels=LABELS))
    assert not result.get('failed') and result['changed'] is False
    assert [(m['name'], m['state'], m['parameter']) for m in result['maps']] == [
        ('virtual-alias-maps', 'present', 'virtual_alias_maps'), ('email2email', 'absent', 'virtual_alias_maps')]
    assert PASSWORD not in json.dumps(result)


@pytest.mark.parametrize('args, problems', [
    (dict(maps=[{'name': 'x', 'query': 'SELECT 1'}, {'name': 'x'}]),
     ["mailfleet_postfix_maps[1]: map 'x' is listed twice in mailfleet_postfix_maps; give it once"]),
    (dict(password='', hosts=[]),
     ['mailfleet_postfix_db_hosts: give at least one database host',
      'mailfleet_postfix_db_password is empty; the reader account needs a password']),
    (dict(maps=[{'name': 'virtual-alias-maps', 'query': 'SELECT 1\n'}]),
     ["mailfleet_postfix_maps: map 'virtual-alias-maps': the query must be one line"]),
    (dict(labels={'mapz': 'x'}), None),
    (dict(maps=[{'name': 'senders', 'query': 'SELECT 1'}, {'name': 'x/y', 'query': 'SELECT 1'}]),
     ["mailfleet_postfix_maps[1] ('x/y'): the name must be letters, digits, \".\", \"_\" or \"-\", starting "
      "with a letter or digit (it names the file mysql-NAME.cf)"]),
], ids=['twice-in-one-list', 'connection', 'overridden-query', 'unknown-label', 'index-in-the-users-list'])
def test_refuses_naming_the_role_variables(args, problems):
    full = dict(default_maps=DEFAULT_MAPS, hosts=['127.0.0.1'], password=PASSWORD, labels=LABELS)
    full.update(args)
    result = run_action(full)
    assert result['failed'] is True
    if problems is None:
        assert 'labels: unknown input(s) mapz' in result['msg']
    else:
        assert result['problems'] == problems and result['msg'] == '; '.join(problems)
    assert PASSWORD not in json.dumps(result)


def test_a_wrong_type_is_refused_by_the_argument_spec():
    # Ansible turns AnsibleActionFail into the task's failure message.
    with pytest.raises(AnsibleActionFail, match="argument 'proxy' is of type str"):
        run_action(dict(default_maps=DEFAULT_MAPS, hosts='127.0.0.1', password=PASSWORD, proxy='maybe'))


def test_a_configuration_directory_postconf_does_not_answer_for_is_named():
    result = run_action(dict(default_maps=DEFAULT_MAPS, hosts=['127.0.0.1'], password=PASSWORD,
                             installed=False, config_dir='/etc/postfx',
                             labels=dict(LABELS, config_dir='mailfleet_postfix_config_dir')))
    assert result['failed'] is True
    assert result['msg'] == ('mailfleet_postfix_config_dir: postconf -c /etc/postfx does not answer on this host: '
                             'is /etc/postfx a Postfix configuration directory with a main.cf?')
    assert not run_action(dict(default_maps=DEFAULT_MAPS, hosts=['127.0.0.1'], password=PASSWORD,
                               installed=True)).get('failed')
