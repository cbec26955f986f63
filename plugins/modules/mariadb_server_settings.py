#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: mariadb_server_settings
short_description: (Internal) A MariaDB server settings drop-in, written or removed in one module run
version_added: "0.1.0"
description:
  - Keeps one option file of MariaDB's configuration directory (a drop-in such as
    C(/etc/mysql/mariadb.conf.d/60-mailfleet.cnf)) with the given settings in one section, or
    removes it. The module reads the file, decides and acts in one run, so an unchanged host
    costs one round trip (a C(template) task costs two, its C(stat) and its C(file) call).
  - The file is written to a temporary file beside it and moved into place with C(atomic_move);
    owner, group and mode come from the file options.
  - With O(tls), it also keeps the server's certificate, private key and CA certificate in
    O(tls.directory) and points C(ssl_cert), C(ssl_key) and C(ssl_ca) at them. The key is written
    C(0640 root:mysql), never readable by others, not even for a moment (a temporary file created
    C(0600), given its owner and mode, then moved into place).
  - It does not restart the server. Notify a handler when it reports a change - a restart when
    RV(restart_needed), else C(FLUSH SSL), which makes a running server (MariaDB 10.4 and later) load
    a new certificate and key without dropping a connection.
author:
  - mailfleet maintainers (@mailfleet)
options:
  path:
    description: The drop-in file.
    type: path
    default: /etc/mysql/mariadb.conf.d/60-mailfleet.cnf
  section:
    description: The option group the settings go into.
    type: str
    default: mysqld
  settings:
    description:
      - Option name to value, written in this order as C(name = value). Booleans are written
        V(ON) and V(OFF). Required with O(state=present).
    type: dict
    default: {}
  state:
    description: V(absent) removes the file, so that the server falls back to the other option files.
    type: str
    choices: [present, absent]
    default: present
  packages:
    description:
      - Debian packages the server needs, such as C(mariadb-server). When one is not installed, the module
        changes nothing and returns RV(missing_packages); the caller installs them and runs it again. So an
        installed host costs no separate round trip to ask.
    type: list
    elements: str
    default: []
  services:
    description: systemd units whose state is returned in RV(services), such as C(mariadb).
    type: list
    elements: str
    default: []
  tls:
    description:
      - Server TLS, from a certificate and key the user provides. Leave it out for no TLS (files an
        earlier run wrote in O(tls.directory) are then left alone, but the drop-in no longer names them).
    type: dict
    suboptions:
      certificate:
        description: The server's certificate in PEM form, followed by any intermediate CA certificates.
        type: str
        required: true
      private_key:
        description: Its private key in PEM form, unencrypted (keep it in Ansible Vault). Never returned or shown.
        type: str
        required: true
      ca_certificate:
        description:
          - The CA certificate(s) in PEM form, written as C(ssl_ca). Replicas verify the primary against it.
        type: str
        required: true
      directory:
        description: Where the three files go (C(server-cert.pem), C(server-key.pem), C(ca.pem)).
        type: path
        default: /etc/mysql/mailfleet-tls
      key_group:
        description: The group that may read the key, the one the server runs as.
        type: str
        default: mysql
  owner:
    description: Owner of the file.
    type: str
    default: root
  group:
    description: Group of the file.
    type: str
    default: root
  mode:
    description: Mode of the file.
    type: raw
    default: "0644"
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
seealso:
  - name: MariaDB option files
    description: Where MariaDB reads its settings from.
    link: https://mariadb.com/kb/en/configuring-mariadb-with-option-files/
'''

EXAMPLES = r'''
- name: Listen on the fleet network and keep a binary log
  mailfleet.postfix_mysql.mariadb_server_settings:
    settings:
      bind-address: 10.0.0.11
      server_id: 1
      log_bin: mariadb-bin
  notify: Restart MariaDB

- name: Listen on the fleet network with TLS from a certificate in the vault
  mailfleet.postfix_mysql.mariadb_server_settings:
    settings:
      bind-address: 10.0.0.11
    tls:
      certificate: "{{ db_certificate }}"
      private_key: "{{ vault_db_private_key }}"
      ca_certificate: "{{ db_ca_certificate }}"
  register: settings
  notify: Restart MariaDB or load the new certificate

- name: Back to Debian's defaults
  mailfleet.postfix_mysql.mariadb_server_settings:
    state: absent
  notify: Restart MariaDB
'''

RETURN = r'''
missing_packages:
  description: The packages of O(packages) that are not installed. When there are any, nothing else was done.
  returned: always
  type: list
  elements: str
services:
  description: For each unit of O(services), whether it runs (C(active)) and starts at boot (C(enabled)).
  returned: always
  type: dict
  sample: {mariadb: {active: true, enabled: true}}
path:
  description: The drop-in file.
  returned: always
  type: str
  sample: /etc/mysql/mariadb.conf.d/60-mailfleet.cnf
reasons:
  description: "What differed: V(created), V(content), V(attributes) or V(removed); empty when nothing did."
  returned: always
  type: list
  elements: str
  sample: [content]
restart_needed:
  description: Whether the drop-in changed, so that the server must restart to use it.
  returned: always
  type: bool
tls_files_changed:
  description:
    - The TLS files that were (or in check mode would be) written. When they changed and RV(restart_needed) is
      false, C(FLUSH SSL) loads them into the running server.
  returned: always
  type: list
  elements: str
  sample: [/etc/mysql/mailfleet-tls/server-cert.pem]
'''

import grp
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.credentials import pem_reasons
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import (
    file_differs,
    missing_packages,
    read_text,
    replace_file,
    unit_state,
)

HEADER = '# Managed by mailfleet.postfix_mysql: changes made here are overwritten.\n'
# name in tls.directory, server setting, tls suboption, whether it is the key
TLS_FILES = (
    ('server-cert.pem', 'ssl_cert', 'certificate', False),
    ('server-key.pem', 'ssl_key', 'private_key', True),
    ('ca.pem', 'ssl_ca', 'ca_certificate', False),
)


def tls_plan(tls, key_gid):
    """[(path, text, uid, gid, mode)] of the TLS files and the settings naming them; raises
    ValueError naming the suboption that is not what it should be (never quoting a key)."""
    files, settings = [], {}
    for name, setting, option, is_key in TLS_FILES:
        reasons = pem_reasons(tls[option], 'private_key' if is_key else 'certificate')
        if reasons:
            raise ValueError('tls.%s %s' % (option, '; '.join(reasons)))
        path = os.path.join(tls['directory'], name)
        files.append((path, tls[option].strip() + '\n', 0, key_gid if is_key else 0, 0o640 if is_key else 0o644))
        settings[setting] = path
    return files, settings


_NAME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_-]*\Z')


def render(section, settings):
    """The option file's text; raises ValueError naming the setting that cannot be written."""
    lines = [HEADER, '[%s]\n' % section]
    for name, value in settings.items():
        if not _NAME_RE.match(name):
            raise ValueError('settings: %r is not a MariaDB option name' % (name,))
        if isinstance(value, bool):
            value = 'ON' if value else 'OFF'
        if value is None or isinstance(value, (dict, list)):
            raise ValueError('settings: %s must be a single value' % name)
        text = '%s' % (value,)
        if re.search(r'[\r\n\0]', text) or text != text.strip() or not text:
            raise ValueError('settings: %s must be one non-empty line without surrounding blanks' % name)
        lines.append('%s = %s\n' % (name, text))
    return ''.join(lines)


def remove_drop_in(module, path, before, result):
    """state=absent: the drop-in goes, so that the server falls back to the other option files."""
    if before is not None:
        result.update(changed=True, reasons=['removed'], restart_needed=True)
        if module._diff:
            result['diff'] = dict(before=before, after='', before_header=path, after_header=path)
        if not module.check_mode:
            os.unlink(path)
    module.exit_json(**result)


def wanted_settings(module):
    """(the drop-in's text, the TLS files [(path, text, uid, gid, mode)])."""
    tls = module.params['tls']
    if not re.match(r'^[A-Za-z0-9_.-]+\Z', module.params['section']):
        module.fail_json(msg='section: %r is not an option group name' % module.params['section'])
    settings = dict(module.params['settings'])
    tls_files = []
    if tls:
        try:
            key_gid = grp.getgrnam(tls['key_group']).gr_gid
        except KeyError:
            module.fail_json(msg='tls.key_group: group %s does not exist on this host: is the database server '
                                 'installed?' % tls['key_group'])
        try:
            tls_files, tls_settings = tls_plan(tls, key_gid)
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        clash = sorted(set(settings) & set(tls_settings))
        if clash:
            module.fail_json(msg='settings: %s come from tls; set them there' % ', '.join(clash))
        settings.update(tls_settings)
    try:
        return render(module.params['section'], settings), tls_files
    except ValueError as exc:
        module.fail_json(msg=str(exc))


def write_tls_files(module, tls_files, result):
    """The TLS files first: the drop-in that names them goes in only once they are there."""
    for file_path, file_text, uid, gid, mode in tls_files:
        if not file_differs(file_path, file_text, uid, gid, mode):
            continue
        result['tls_files_changed'].append(file_path)
        if module._diff and not file_path.endswith('server-key.pem'):
            result.setdefault('diff', []).append(dict(before=read_text(file_path) or '', after=file_text,
                                                      before_header=file_path, after_header=file_path))
        if not module.check_mode:
            directory = os.path.dirname(file_path)
            try:
                if not os.path.isdir(directory):
                    os.makedirs(directory, 0o755)
                replace_file(module, file_path, file_text, uid, gid, mode)
            except (IOError, OSError) as exc:
                module.fail_json(msg='cannot write %s: %s' % (file_path, exc), **result)
    if result['tls_files_changed']:
        result['reasons'].append('tls')


def write_drop_in(module, path, before, text, result):
    if before != text:
        result['reasons'].append('created' if before is None else 'content')
        result['restart_needed'] = True
        if module._diff:
            result.setdefault('diff', []).append(dict(before=before or '', after=text, before_header=path,
                                                      after_header=path))
        if not module.check_mode:
            if not os.path.isdir(os.path.dirname(path)):
                module.fail_json(msg='%s does not exist: is the database server installed?' % os.path.dirname(path))
            replace_file(module, path, text, 0, 0, 0o644)
    file_args = module.load_file_common_arguments(module.params, path=path)
    if module.check_mode and before is None:
        attributes_changed = False  # the file does not exist yet: nothing to compare
    else:
        attributes_changed = module.set_fs_attributes_if_different(file_args, False)
    if attributes_changed and not result['reasons']:
        result['reasons'].append('attributes')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/mysql/mariadb.conf.d/60-mailfleet.cnf'),
            section=dict(type='str', default='mysqld'),
            settings=dict(type='dict', default={}),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            tls=dict(type='dict', options=dict(
                certificate=dict(type='str', required=True),
                private_key=dict(type='str', required=True, no_log=True),
                ca_certificate=dict(type='str', required=True),
                directory=dict(type='path', default='/etc/mysql/mailfleet-tls'),
                # A group name, not a secret: the name only looks like one.
                key_group=dict(type='str', default='mysql', no_log=False),
            )),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='root'),
            mode=dict(type='raw', default='0644'),
            packages=dict(type='list', elements='str', default=[]),
            services=dict(type='list', elements='str', default=[]),
        ),
        add_file_common_args=True,
        required_if=[('state', 'present', ('settings',))],
        supports_check_mode=True,
    )
    path = module.params['path']
    if os.path.lexists(path) and not os.path.isfile(path):
        module.fail_json(msg='%s exists and is not a regular file' % path)
    before = read_text(path)
    result = dict(changed=False, path=path, reasons=[], restart_needed=False, tls_files_changed=[],
                  missing_packages=missing_packages(module, module.params['packages']),
                  services=dict((unit, unit_state(module, unit)) for unit in module.params['services']))
    if result['missing_packages']:
        # Nothing to configure yet: the caller installs them and runs this again.
        module.exit_json(**result)
    if module.params['state'] == 'absent':
        remove_drop_in(module, path, before, result)
    text, tls_files = wanted_settings(module)
    write_tls_files(module, tls_files, result)
    write_drop_in(module, path, before, text, result)
    result['changed'] = bool(result['reasons'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
