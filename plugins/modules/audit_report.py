#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: audit_report
short_description: (Internal) Put the audits of several mail hosts together, compare the hosts, and gate on the findings
version_added: "0.1.0"
description:
  - Takes the results of M(mailfleet.postfix_mysql.mail_audit) on several mail hosts and returns every
    finding with the host it was found on, as data and as a table.
  - Compares the hosts - the RV(mailfleet.postfix_mysql.mail_audit#module:digests) of each domain - and
    reports every address that two hosts answer differently (kind C(differs_between_hosts)), from the
    RV(mailfleet.postfix_mysql.mail_audit#module:resolutions) of those domains given in O(details).
  - Fails when a finding of severity O(fail_on) or higher exists, or when the audit could not run on a
    host, with the findings as a table in the message.
  - Runs on the controller only. The C(mailfleet.postfix_mysql.audit) playbook uses it.
author:
  - mailfleet maintainers (@mailfleet)
options:
  results:
    description:
      - The registered result of M(mailfleet.postfix_mysql.mail_audit) of each host, by host name.
      - A host whose result failed or is missing counts as a host the audit could not run on.
    type: dict
    required: true
  details:
    description:
      - For the domains whose digests differ between hosts, the result of
        M(mailfleet.postfix_mysql.mail_audit) run with O(mailfleet.postfix_mysql.mail_audit#module:resolve_domains)
        on each host, by host name. Without them, a differing domain is reported as a whole.
    type: dict
    default: {}
  fail_on:
    description:
      - Fail when a finding of this severity or a higher one exists. V(never) only reports.
    type: str
    choices: [error, warning, never]
    default: error
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Audit every mail host
  mailfleet.postfix_mysql.mail_audit:
    fail_on: never
  become: true
  register: audit

- name: Report the findings of all hosts, and fail on errors
  mailfleet.postfix_mysql.audit_report:
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'audit'))) }}"
  run_once: true
'''

RETURN = r'''
findings:
  description: Every finding of every host, with C(host) (C((all)) for a difference between hosts), most severe first.
  returned: always
  type: list
  elements: dict
finding_counts:
  description: How many findings of each kind.
  returned: always
  type: dict
severity_counts:
  description: How many findings of each severity.
  returned: always
  type: dict
differing_domains:
  description: The domains whose addresses two hosts answer differently.
  returned: always
  type: list
  elements: str
failed_hosts:
  description: The hosts the audit could not run on, with their message.
  returned: always
  type: dict
report:
  description: What each host audited, then the findings as a table (or C(no findings)), one line a row.
  returned: when the task does not fail (a failed task has the table in its message)
  type: list
  elements: str
'''
