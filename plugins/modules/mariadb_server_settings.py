#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: mariadb_server_settings
short_description: A MariaDB server settings drop-in, written or removed in one module run
version_added: "0.1.0"
description:
  - Keeps one option file of MariaDB's configuration directory (a drop-in such as
    C(/etc/mysql/mariadb.conf.d/60-mailfleet.cnf)) with the given settings in one section, or
    removes it. The module reads the file, decides and acts in one run, so an unchanged host
    costs one round trip (a C(template) task costs two, its C(stat) and its C(file) call).
  - The file is written to a temporary file beside it and moved into place with C(atomic_move);
    owner, group and mode come from the file options.
  - It does not restart the server; notify a handler when it reports a change.
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

- name: Back to Debian's defaults
  mailfleet.postfix_mysql.mariadb_server_settings:
    state: absent
  notify: Restart MariaDB
'''

RETURN = r'''
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
'''

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import read_text

HEADER = '# Managed by mailfleet.postfix_mysql: changes made here are overwritten.\n'
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/mysql/mariadb.conf.d/60-mailfleet.cnf'),
            section=dict(type='str', default='mysqld'),
            settings=dict(type='dict', default={}),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='root'),
            mode=dict(type='raw', default='0644'),
        ),
        add_file_common_args=True,
        required_if=[('state', 'present', ('settings',))],
        supports_check_mode=True,
    )
    path = module.params['path']
    if os.path.lexists(path) and not os.path.isfile(path):
        module.fail_json(msg='%s exists and is not a regular file' % path)
    before = read_text(path)
    result = dict(changed=False, path=path, reasons=[])

    if module.params['state'] == 'absent':
        if before is not None:
            result.update(changed=True, reasons=['removed'])
            if module._diff:
                result['diff'] = dict(before=before, after='', before_header=path, after_header=path)
            if not module.check_mode:
                os.unlink(path)
        module.exit_json(**result)

    if not re.match(r'^[A-Za-z0-9_.-]+\Z', module.params['section']):
        module.fail_json(msg='section: %r is not an option group name' % module.params['section'])
    try:
        text = render(module.params['section'], module.params['settings'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if before != text:
        result['reasons'].append('created' if before is None else 'content')
        if module._diff:
            result['diff'] = dict(before=before or '', after=text, before_header=path, after_header=path)
        if not module.check_mode:
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                module.fail_json(msg='%s does not exist: is the database server installed?' % directory)
            fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
            try:
                os.write(fd, to_bytes(text))
                os.fsync(fd)
            finally:
                os.close(fd)
            module.atomic_move(temp, path, unsafe_writes=module.params['unsafe_writes'], keep_dest_attrs=False)
    file_args = module.load_file_common_arguments(module.params, path=path)
    if module.check_mode and before is None:
        attributes_changed = False  # the file does not exist yet: nothing to compare
    else:
        attributes_changed = module.set_fs_attributes_if_different(file_args, False)
    if attributes_changed and not result['reasons']:
        result['reasons'].append('attributes')
    result['changed'] = bool(result['reasons'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
