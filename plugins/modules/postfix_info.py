#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: postfix_info
short_description: What a host's Postfix is, in one call
version_added: "0.1.0"
description:
  - Reports whether Postfix is installed, its version, the lookup table types it supports,
    the master.cf services that read maps chrooted, which of a list of Debian packages
    are not installed, and whether the Postfix service runs and starts at boot.
  - One module run answers everything a role needs to decide what to do on a host, so an
    unchanged host costs one round trip instead of one per question.
  - Never changes anything.
author:
  - mailfleet maintainers (@mailfleet)
options:
  config_dir:
    description: The Postfix configuration directory to ask.
    type: path
    default: /etc/postfix
  packages:
    description:
      - Debian packages whose installation state to report in RV(missing_packages).
    type: list
    elements: str
    default: []
  service:
    description: The systemd unit whose state to report in RV(service_active) and RV(service_enabled).
    type: str
    default: postfix
  main_cf:
    description:
      - main.cf settings (name to value, as for M(mailfleet.postfix_mysql.postconf)) to compare
        with C(main.cf). RV(main_cf_changes) lists the names that module would write, judged
        with its own comparison, so that a role can skip it when there are none.
    type: dict
    default: {}
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
- name: Read what Postfix this host has
  mailfleet.postfix_mysql.postfix_info:
    packages: [postfix, postfix-mysql]
  register: postfix_found

- name: Install Postfix only where something is missing
  ansible.builtin.apt:
    name: "{{ postfix_found.missing_packages }}"
  when: postfix_found.missing_packages | length > 0
'''

RETURN = r'''
installed:
  description: Whether C(postconf) is there and answers for O(config_dir).
  returned: always
  type: bool
mail_version:
  description: The Postfix version (C(mail_version)), or null when Postfix is not installed.
  returned: always
  type: str
  sample: 3.7.11
map_types:
  description: The lookup table types Postfix supports (C(postconf -m)); C(mysql) needs postfix-mysql on Debian.
  returned: always
  type: list
  elements: str
  sample: [btree, cidr, environ, hash, mysql, proxy, unionmap]
chrooted_map_readers:
  description:
    - master.cf services (C(name/type)) that run chrooted and read the virtual or sender login
      maps directly. They cannot reach a database UNIX socket (C(localhost) in a client file).
  returned: always
  type: list
  elements: str
  sample: [cleanup/unix, rewrite/unix, smtp/inet]
service_active:
  description: Whether O(service) runs (C(systemctl is-active)).
  returned: always
  type: bool
service_enabled:
  description: Whether O(service) starts at boot (C(systemctl is-enabled) says C(enabled)).
  returned: always
  type: bool
main_cf_changes:
  description:
    - The names of O(main_cf) whose value in C(main.cf) differs, or that C(postconf) does not
      know, in the order given; all of them when Postfix is not installed or the values are
      not valid for M(mailfleet.postfix_mysql.postconf) (which then tells why).
  returned: always
  type: list
  elements: str
  sample: [virtual_alias_maps]
missing_packages:
  description: The packages of O(packages) that are not installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [postfix-mysql]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import (
    C_LOCALE_ENV,
    chrooted_map_readers,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    PostconfError,
    names_to_change,
    normalize_request,
    read_argv,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import missing_packages, unit_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_dir=dict(type='path', default='/etc/postfix'),
            packages=dict(type='list', elements='str', default=[]),
            service=dict(type='str', default='postfix'),
            main_cf=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    config_dir = module.params['config_dir']
    packages = module.params['packages']
    main_cf = module.params['main_cf']
    result = dict(changed=False, installed=False, mail_version=None, map_types=[], chrooted_map_readers=[])

    result['missing_packages'] = missing_packages(module, packages)
    state = unit_state(module, module.params['service'])
    result.update(service_active=state['active'], service_enabled=state['enabled'])

    postconf = module.get_bin_path('postconf', opt_dirs=['/usr/sbin', '/usr/local/sbin'])
    if postconf is not None:
        def ask(*args):
            rc, out, _err = module.run_command([postconf, '-c', config_dir] + list(args), environ_update=C_LOCALE_ENV)
            return out if rc == 0 else None

        version = ask('-h', 'mail_version')
        if version is not None and version.strip():
            result.update(
                installed=True,
                mail_version=version.strip(),
                map_types=sorted((ask('-m') or '').split()),
                chrooted_map_readers=chrooted_map_readers(ask('-F', '*/*/chroot', '*/*/command') or ''),
            )
    result['main_cf_changes'] = list(main_cf)
    if result['installed'] and main_cf:
        try:
            names = [name for name, _text in normalize_request(main_cf, None, None, 'present')]
            rc, out, err = module.run_command(read_argv(postconf, names, config_dir), environ_update=C_LOCALE_ENV)
            if rc == 0:
                result['main_cf_changes'] = names_to_change(main_cf, out, err)
        except PostconfError:
            pass  # Every name stays listed: the postconf module will say what is wrong.
    module.exit_json(**result)


if __name__ == '__main__':
    main()
