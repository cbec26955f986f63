# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put the mail_audit results of several hosts together; the docs are in modules/audit_report.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.audit import (
    FAIL_ON,
    SEVERITIES,
    count_by,
    differing_domains,
    filter_findings,
    host_differences,
    report_lines,
    sort_findings,
)

ARGUMENT_SPEC = dict(
    results=dict(type='dict', required=True),
    details=dict(type='dict', default={}),
    fail_on=dict(type='str', default='error', choices=list(FAIL_ON)),
)


def _usable(result):
    # A result that failed only on fail_on still holds the audit: its digests say so.
    return isinstance(result, dict) and isinstance(result.get('digests'), dict)


class ActionModule(ActionBase):
    """Runs on the controller only: no connection, no module, no round trip."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        results = args['results']
        failed_hosts = dict((host, (r or {}).get('msg', 'no result') if isinstance(r, dict) else 'no result')
                            for host, r in results.items() if not _usable(r))
        audited = dict((host, r) for host, r in results.items() if _usable(r))
        findings = []
        for host in sorted(audited):
            for item in audited[host].get('findings', []):
                findings.append(dict(item, host=host))
        differing = differing_domains(dict((host, r['digests']) for host, r in audited.items()))
        if differing:
            resolutions = {}
            for host in audited:
                detail = args['details'].get(host)
                if _usable(detail):
                    resolutions[host] = detail.get('resolutions', {})
            if len(resolutions) == len(audited):
                findings.extend(dict(item, host='(all)') for item in host_differences(resolutions))
            else:
                for domain in differing:
                    findings.append(dict(
                        kind='differs_between_hosts', severity='error', host='(all)', address='@' + domain,
                        outcome='the hosts answer some address of %s differently' % domain,
                        why='resolve_domains was not run on every host, so the addresses are not named'))
        findings = sort_findings(findings)
        severity_counts = dict((severity, 0) for severity in SEVERITIES)
        severity_counts.update(count_by(findings, 'severity'))
        lines = report_lines(findings, hosts=True)
        counted = ('mailboxes', 'aliases', 'addresses', 'lookups')
        summary = ['%s: %s' % (host, ', '.join('%s %s' % (audited[host]['summary'].get(key, 0), key) for key in counted))
                   for host in sorted(audited)]
        result.update(
            changed=False,
            findings=findings,
            finding_counts=count_by(findings, 'kind'),
            severity_counts=severity_counts,
            differing_domains=differing,
            failed_hosts=failed_hosts,
            report=summary + (lines or ['no findings']),
        )
        problems = []
        if failed_hosts:
            problems.append('the audit could not run on %s' % '; '.join(
                '%s (%s)' % (host, msg) for host, msg in sorted(failed_hosts.items())))
        failing = filter_findings(findings, args['fail_on'])
        if failing:
            problems.append('%d finding(s) of severity %s or higher:\n%s' % (
                len(failing), args['fail_on'], '\n'.join(report_lines(failing, hosts=True))))
        if problems:
            # The table is the message: not twice in what a failed task prints.
            del result['report']
            result.update(failed=True, msg='\n'.join(problems))
        return result
