# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report: the hosts' audits put together, compared, and gated on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.action.audit_report import ActionModule
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.action_harness import run_controller_action

LOOP = dict(kind='alias_loop', severity='error', address='a@example.org', outcome='deferred', why='a -> b')
ORDER = dict(kind='order_dependent', severity='warning', address='x@example.org', outcome='o', why='w')
SUMMARY = dict(mailboxes=2, aliases=2, addresses=4, lookups=20)


def audit(findings=(), digests=None, resolutions=None):
    return dict(changed=False, findings=list(findings), summary=SUMMARY,
                digests=digests if digests is not None else {'example.org': 'same'},
                resolutions=resolutions or {})


def run_action(**args):
    result, connection = run_controller_action(ActionModule, args)
    assert connection.method_calls == []
    return result


def test_clean_hosts_pass_and_say_so():
    result = run_action(results={'mail1': audit(), 'mail2': audit()})
    assert not result.get('failed')
    assert result['findings'] == [] and result['differing_domains'] == []
    assert result['report'] == ['mail1: 2 mailboxes, 2 aliases, 4 addresses, 20 lookups',
                                'mail2: 2 mailboxes, 2 aliases, 4 addresses, 20 lookups', 'no findings']


@pytest.mark.parametrize('fail_on, failed', [('error', True), ('warning', True), ('never', False)])
def test_gate_on_the_chosen_severity(fail_on, failed):
    result = run_action(results={'mail1': audit([LOOP, ORDER])}, fail_on=fail_on)
    assert bool(result.get('failed')) is failed
    assert [(f['host'], f['kind']) for f in result['findings']] == [('mail1', 'alias_loop'), ('mail1', 'order_dependent')]
    if failed:
        assert 'alias_loop' in result['msg'] and 'report' not in result
        assert ('order_dependent' in result['msg']) is (fail_on == 'warning')


def test_warnings_alone_pass_the_default_gate():
    result = run_action(results={'mail1': audit([ORDER])})
    assert not result.get('failed') and result['severity_counts'] == {'error': 0, 'warning': 1}


def test_hosts_that_differ_are_named_address_by_address():
    results = {'mail1': audit(digests={'example.org': 'one'}), 'mail2': audit(digests={'example.org': 'two'})}
    first = run_action(results=results, fail_on='never')
    assert first['differing_domains'] == ['example.org']
    details = {'mail1': audit(resolutions={'a@example.org': 'a@example.org (mailbox)'}),
               'mail2': audit(resolutions={'a@example.org': 'b@example.org (mailbox)'})}
    result = run_action(results=results, details=details)
    assert result['failed'] is True
    assert [(f['host'], f['kind'], f['address']) for f in result['findings']] == [
        ('(all)', 'differs_between_hosts', 'a@example.org')]
    assert result['findings'][0]['outcome'] == 'mail1: a@example.org (mailbox); mail2: b@example.org (mailbox)'


def test_without_details_a_differing_domain_is_reported_whole():
    results = {'mail1': audit(digests={'example.org': 'one'}), 'mail2': audit(digests={})}
    result = run_action(results=results)
    assert [(f['kind'], f['address']) for f in result['findings']] == [('differs_between_hosts', '@example.org')]


def test_a_host_the_audit_could_not_run_on_fails_the_report():
    result = run_action(results={'mail1': audit(), 'mail2': dict(failed=True, msg='cannot read the mail database'),
                                 'mail3': None}, fail_on='never')
    assert result['failed'] is True
    assert result['failed_hosts'] == {'mail2': 'cannot read the mail database', 'mail3': 'no result'}
    assert 'mail2 (cannot read the mail database)' in result['msg']
