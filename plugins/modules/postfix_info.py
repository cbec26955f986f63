#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: postfix_info
short_description: (Internal) What a host's Postfix is, in one call
version_added: "0.1.0"
description:
  - Reports whether Postfix is installed, its version, the lookup table types it supports,
    the master.cf services that read maps chrooted, which of a list of Debian packages
    are not installed, and whether the Postfix service runs and starts at boot.
  - One module run answers every question a role has about a host before it acts, so an
    unchanged host costs one round trip instead of one per question.
  - Reports facts only, and never changes anything. Whether main.cf or the client files must
    change is decided by the modules that change them (M(mailfleet.postfix_mysql.postconf),
    M(mailfleet.postfix_mysql.mysql_maps)).
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
  dovecot_sql_files:
    description:
      - Dovecot's files that may hold SQL settings, read for RV(dovecot_sql). Those that do not exist are
        skipped. Dovecot 2.3 keeps them in C(/etc/dovecot/dovecot-sql.conf.ext), 2.4 inline, in
        C(/etc/dovecot/conf.d/auth-sql.conf.ext) by default.
      - A file that Dovecot could not read either fails the module with the file, the line and the fix.
    type: list
    elements: path
    default: [/etc/dovecot/dovecot-sql.conf.ext, /etc/dovecot/conf.d/auth-sql.conf.ext]
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
client_file_users:
  description:
    - The database accounts (C(user)) that the client files name, sorted and without repeats. The files are
      C(CONFIG_DIR/mysql-*.cf), and every other C(mysql) table that a main.cf parameter names (such as the
      C(mariadb-*.cf) files of a server built by hand). Reading them needs root. The
      C(mailfleet.postfix_mysql.rotate_db_password) playbook checks with it that no mail host still uses an
      account before it locks it.
  returned: always
  type: list
  elements: str
  sample: [mailuser]
client_files:
  description:
    - The same client files, each with the main.cf parameters that name it, whether main.cf reads it
      through C(proxy:) (C(proxied)), whether the collection wrote it (C(managed)), and its settings without
      the password (a key that looks secret is left out, and a
      secret found in another value is shown as C(********)).
  returned: always
  type: list
  elements: dict
  sample:
    - path: /etc/postfix/mariadb-virtual-alias-maps.cf
      parameters: [virtual_alias_maps]
      proxied: false
      managed: false
      settings: {user: mailserver, hosts: localhost, dbname: mailserver,
                 query: "SELECT destination FROM virtual_aliases WHERE source='%s'"}
dovecot_sql:
  description:
    - Dovecot's SQL settings, one entry per file of O(dovecot_sql_files) that holds some; never a password.
      C(layout) is C(2.3) (a C(connect) string) or C(2.4) (C(mysql HOST) blocks).
  returned: always
  type: list
  elements: dict
  sample:
    - path: /etc/dovecot/dovecot-sql.conf.ext
      layout: "2.3"
      driver: mysql
      users: [mailuser]
      connections: [{hosts: [127.0.0.1], user: mailuser, dbname: mailserver, line: 3, port: null}]
      queries: {password_query: "SELECT email AS user, password FROM virtual_users WHERE email='%u'"}
missing_packages:
  description: The packages of O(packages) that are not installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [postfix-mysql]
'''

import errno
import glob
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.dovecot_sql import (
    DOVECOT_23_FILE, DOVECOT_24_FILE, DovecotSqlError, read_file)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    PostconfRunner, mysql_client_files, mysql_tables)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.client_files import HEADER
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import shown_settings
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import CLIENT_FILE_GLOB
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import (
    missing_packages, unit_state)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_dir=dict(type='path', default='/etc/postfix'),
            packages=dict(type='list', elements='str', default=[]),
            service=dict(type='str', default='postfix'),
            dovecot_sql_files=dict(type='list', elements='path', default=[DOVECOT_23_FILE, DOVECOT_24_FILE]),
        ),
        supports_check_mode=True,
    )
    config_dir = module.params['config_dir']
    result = dict(changed=False, installed=False, mail_version=None, map_types=[], chrooted_map_readers=[],
                  client_file_users=[], client_files=[], dovecot_sql=[])

    result['missing_packages'] = missing_packages(module, module.params['packages'])
    state = unit_state(module, module.params['service'])
    result.update(service_active=state['active'], service_enabled=state['enabled'])

    postconf = PostconfRunner(module, config_dir, required=False)
    named = {}
    proxied = set()
    if postconf.binary is not None:
        version = postconf.value('mail_version')
        if version:
            _rc, types, _err = postconf.run(postconf.argv('-m'), 'list the map types', check=False)
            result.update(
                installed=True,
                mail_version=version,
                map_types=sorted(types.split()),
                chrooted_map_readers=postconf.chrooted_map_readers(check=False),
            )
            explicit = postconf.explicit()
            named = mysql_client_files(explicit)
            proxied = set(path for _name, path, proxy in mysql_tables(explicit) if proxy)
    for path in sorted(set(glob.glob(os.path.join(config_dir, CLIENT_FILE_GLOB))) | set(named)):
        try:
            with open(path) as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                continue    # named in main.cf but not there: no account logs in through it
            module.fail_json(msg='cannot read %s: %s' % (path, exc), **result)
        settings, secrets = shown_settings(text)
        module.no_log_values.update(secret for secret in secrets if secret)
        result['client_files'].append(dict(path=path, parameters=named.get(path, []), proxied=path in proxied,
                                           managed=text.startswith(HEADER), settings=settings))
    result['client_file_users'] = sorted(set(entry['settings']['user'] for entry in result['client_files']
                                             if entry['settings'].get('user')))
    for path in module.params['dovecot_sql_files']:
        try:
            config = read_file(path)
        except DovecotSqlError as exc:
            module.fail_json(msg='Dovecot\'s SQL settings cannot be read: %s (dovecot_sql_files lists the files '
                                 'read for them)' % exc, **result)
        if config is not None:
            result['dovecot_sql'].append(config.as_dict())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
