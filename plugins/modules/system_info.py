#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: system_info
short_description: (Internal) Which Debian packages are missing and whether systemd units run, in one call
version_added: "0.1.0"
description:
  - Reports which of a list of Debian packages are not installed (C(dpkg-query)), and for each
    of a list of systemd units whether it runs and whether it starts at boot.
  - Lets a role skip its package and service tasks on a host where nothing is missing, which
    costs one module run instead of one per task. Never changes anything.
  - For Postfix hosts, M(mailfleet.postfix_mysql.postfix_info) reports the same and more.
author:
  - mailfleet maintainers (@mailfleet)
options:
  packages:
    description: Debian packages whose installation state to report.
    type: list
    elements: str
    default: []
  services:
    description: systemd units whose state to report.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only, the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: debian
'''

EXAMPLES = r'''
- name: Read what the database host has
  mailfleet.postfix_mysql.system_info:
    packages: [mariadb-server, python3-pymysql]
    services: [mariadb]
  register: database_found

- name: Install only what is missing
  ansible.builtin.apt:
    name: "{{ database_found.missing_packages }}"
  when: database_found.missing_packages | length > 0
'''

RETURN = r'''
missing_packages:
  description: The packages of O(packages) that are not installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [python3-pymysql]
services:
  description: For each unit of O(services), whether it is C(active) and C(enabled).
  returned: always
  type: dict
  sample: {mariadb: {active: true, enabled: true}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import missing_packages, unit_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', default=[]),
            services=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    module.exit_json(
        changed=False,
        missing_packages=missing_packages(module, module.params['packages']),
        services=dict((unit, unit_state(module, unit)) for unit in module.params['services']),
    )


if __name__ == '__main__':
    main()
