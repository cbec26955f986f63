# -*- coding: utf-8 -*-
"""The audit across the fleet, as an admin runs it: over SSH, each mail host reading the
database through its own client file's login, which the database accepts only over TLS
(REQUIRE SSL) verified against the fleet's CA."""

import os

from mailfleet_testlib import json_report, run_playbook, scenario_vars

PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''
MAIL = ['mf-fleet-mail1', 'mf-fleet-mail2', 'mf-fleet-mail3']


def test_the_fleet_audit_reads_over_tls_and_finds_the_hosts_alike():
    rc, output, _recap = run_playbook('mailfleet.postfix_mysql.audit', '-vv', ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    assert rc == 0, output[-4000:]
    tasks = dict((task['task']['name'], task['hosts']) for task in json_report(output)['plays'][0]['tasks'])
    audits = tasks["Resolve every address as the host's Postfix does"]
    assert sorted(audits) == MAIL
    for host, result in audits.items():
        assert result['changed'] is False and result['findings'] == [], (host, result.get('report'))
        assert result['summary']['mailboxes'] > 0 and result['summary']['aliases'] > 0, host
        # The login of the host's own client files: the read-only account, over TLS.
        assert result['summary']['login_file'] == '/etc/postfix/mysql-virtual-mailbox-maps.cf'
    report = list(tasks['Report the findings, and fail on those of mailfleet_audit_fail_on'].values())[0]
    assert report['findings'] == [] and report['differing_domains'] == [] and report['failed_hosts'] == {}
    assert len(set(tuple(sorted(r['digests'].items())) for r in audits.values())) == 1
    assert PASSWORD not in output and PASSWORD.split('#')[-1] not in output
