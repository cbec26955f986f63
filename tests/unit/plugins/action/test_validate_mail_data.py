# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""validate_mail_data: runs on the controller, with the role's labels, and never shows a secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.mailfleet.postfix_mysql.plugins.action.validate_mail_data import ActionModule
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.action_harness import run_controller_action

PASSWORD = 'Te5t#only pass-word'
HASH = '{BLF-CRYPT}$2y$05$.WedBCNZiwxY1CG3aleIleu6lYjup2CIg0BP4M4YCZsO204Czz07W'
# The labels the database role passes.
LABELS = dict((key, 'mailfleet_database_' + key)
              for key in ('domains', 'users', 'aliases', 'reader_user', 'reader_password', 'reader_hosts',
                          'bind_address', 'tls_certificate'))


def run(args, check_mode=False):
    """ActionModule.run as the task executor calls it; returns (result, connection)."""
    return run_controller_action(ActionModule, args, check_mode, name='mailfleet.postfix_mysql.validate_mail_data')


def role_args(**changes):
    args = dict(
        domains=[dict(name='example.org')],
        users=[dict(email='john@example.org', password_hash=HASH)],
        aliases=[dict(source='jack@example.org', destination='john@example.org')],
        reader=dict(user='mailuser', password=PASSWORD, hosts=['127.0.0.1']),
        labels=LABELS,
    )
    args.update(changes)
    return args


def test_good_data_passes_and_changes_nothing():
    result, connection = run(role_args())
    assert not result.get('failed') and result['changed'] is False and result['problems'] == []
    assert result['msg'] == 'The mail data passed every check: 1 domain, 1 user, 1 alias and the read-only account'
    # No round trip: the connection is never used.
    assert connection.method_calls == []


@pytest.mark.parametrize('check_mode', [False, True])
def test_bad_data_fails_with_every_problem_named_by_the_role_variable(check_mode):
    result, connection = run(role_args(
        domains=[dict(name='exa mple..org'), dict(name='')],
        users=[dict(email='john@example.org', password_hash='Secret-Plain-1')],
        aliases=[dict(source='jack@example.org', destination='')],
        reader=dict(user='mailuser', password='x', hosts=['127.0.0.1']),
    ), check_mode=check_mode)
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'].startswith('The mail data has 5 problems: ')
    assert result['problems'] == [
        "mailfleet_database_domains[0].name: 'exa mple..org' contains a blank; has two dots in a row (an empty label)",
        "mailfleet_database_domains[1].name: '' is empty; give a domain name such as example.org",
        "mailfleet_database_users[0].password_hash of 'john@example.org' is not in a form Dovecot reads: give "
        "'{SCHEME}...' as doveadm pw prints it (for example '{BLF-CRYPT}$2y$05$...' or '{SHA512-CRYPT}$6$...') or a "
        "crypt string ('$6$...', '$2y$...', '$y$...', '$argon2id$...'); a password stored as plain text on purpose is "
        "written '{PLAIN}...'",
        "mailfleet_database_aliases[0].destination: '' is empty",
        'mailfleet_database_reader_password is shorter than 2 characters',
    ]
    assert connection.method_calls == []


def test_no_secret_in_the_result():
    result, _connection = run(role_args(
        users=[dict(email='john', password_hash='Secret-Plain-1')],
        reader=dict(user='mailuser', password=PASSWORD + '\n', hosts=[]),
    ))
    text = json.dumps(result)
    assert result['failed'] is True
    assert 'Secret-Plain-1' not in text and PASSWORD not in text


def test_without_labels_the_options_are_named():
    result, _connection = run(dict(users=[dict(email='john', password_hash=HASH)]))
    assert result['problems'] == ["users[0].email: 'john' has no '@'"]


@pytest.mark.parametrize('args, message', [
    (dict(domains=[dict(name='example.org', state='gone')]), 'must be one of: present, absent'),
    (dict(users=[dict(email='john@example.org', password_hash=HASH, quota='lots')]), 'quota'),
    (dict(reader=dict(user='mailuser', password=PASSWORD, hosts=['h'], revoke_other_hosts=True)), 'revoke_other_hosts'),
    (dict(labels=dict(domain='mailfleet_database_domains')), 'labels.domain'),
    (dict(aliases=[dict(source='jack@example.org')]), 'destination'),
])
def test_the_argument_spec_refuses_what_it_can_express(args, message):
    with pytest.raises(AnsibleActionFail) as info:
        run(args)
    assert message in str(info.value)
    assert PASSWORD not in str(info.value)


def test_the_action_needs_no_connection_and_transfers_nothing():
    assert ActionModule.TRANSFERS_FILES is False
    assert ActionModule._requires_connection is False


@pytest.mark.parametrize('changes, warning', [
    (dict(reader=dict(user='mailuser', password=PASSWORD, hosts=['10.0.0.21', '%'])),
     "mailfleet_database_reader_hosts[1]: '%' lets the read-only account log in from any matching host"),
    (dict(reader=dict(user='mailuser', password=PASSWORD, hosts=['10.0.0.%'])),
     "mailfleet_database_reader_hosts[0]: '10.0.0.%' lets the read-only account log in from any matching host"),
    (dict(server=dict(bind_address='0.0.0.0')),
     "mailfleet_database_bind_address: '0.0.0.0' makes the database reachable from the network without TLS"),
    (dict(server=dict(bind_address='127.0.0.1,10.0.0.11')),
     "mailfleet_database_bind_address: '127.0.0.1,10.0.0.11' makes the database reachable from the network"),
])
def test_an_unsafe_set_up_is_warned_about_not_refused(changes, warning):
    result, _connection = run(role_args(**changes))
    assert not result.get('failed') and result['problems'] == []
    assert [w for w in result.get('warnings', []) if w.startswith(warning)], result


@pytest.mark.parametrize('server', [dict(bind_address='127.0.0.1'), dict(bind_address='::1')])
def test_a_safe_set_up_has_no_warning(server):
    result, _connection = run(role_args(server=server))
    assert not result.get('failed') and not result.get('warnings'), result


def test_a_database_off_loopback_with_tls_has_no_warning():
    from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_data import unsafe_setup_warnings
    assert unsafe_setup_warnings(dict(hosts=['10.0.0.21']), dict(bind_address='10.0.0.11', tls_certificate='PEM')) == []
