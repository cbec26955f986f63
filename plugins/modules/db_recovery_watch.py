#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: db_recovery_watch
short_description: A service that reloads Postfix as soon as a database host it gave up on answers again
version_added: "0.1.0"
description:
  - After a database host failed, Postfix's daemons keep avoiding it although it is back - up to 3.8 for a
    fixed 60 seconds (C(RETRY_CONN_INTV) in C(dict_mysql.c)), and on every release an smtpd process keeps
    a failed answer for an address for 30 seconds (C(resolve_clnt.c)) - so mail stays deferred for up to a
    minute after a database restart.
  - This module installs and runs a small service (O(name)) that follows Postfix's log and, for each
    database host Postfix reports as failing, asks that host alone, once a second, through a copy of
    O(client_file) (mode 0600, removed at once); when the host answers again it runs C(postfix reload), at
    most once in 2 seconds. It asks nothing while nothing fails.
  - One module run writes the program and the unit (each only when it differs, with C(atomic_move)), runs
    C(systemctl daemon-reload) when the unit changed, and enables, starts or restarts the service as
    needed, so that an unchanged host costs one round trip.
author:
  - mailfleet maintainers (@mailfleet)
options:
  client_file:
    description: A mysql_table(5) client file of the maps, through which the service asks the database.
    type: path
    required: true
  config_dir:
    description: The Postfix configuration directory (C(postfix -c), C(postmap -c)).
    type: path
    default: /etc/postfix
  name:
    description: The systemd unit, without C(.service).
    type: str
    default: mailfleet-postfix-db-recovery
  state:
    description: V(absent) stops and removes the service and its program.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Needs systemd and journald; the program is installed as C(/usr/local/lib/NAME.py).
'''

EXAMPLES = r'''
- name: Reload Postfix as soon as the database is back after an outage
  mailfleet.postfix_mysql.db_recovery_watch:
    client_file: /etc/postfix/mysql-virtual-mailbox-domains.cf
'''

RETURN = r'''
changes:
  description: What was (or in check mode would be) done.
  returned: always
  type: list
  elements: str
  sample: [write /usr/local/lib/mailfleet-postfix-db-recovery.py, daemon-reload, start]
'''

import inspect
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import db_recovery_watcher
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import read_text, unit_state

PROGRAM_DIR = '/usr/local/lib'
UNIT_DIR = '/etc/systemd/system'
UNIT = '''# Managed by mailfleet.postfix_mysql: changes made here are overwritten.
# Reloads Postfix as soon as a database host it gave up on answers again, instead of the
# minute its daemons would go on deferring mail (see {program}).
[Unit]
Description=Reload Postfix when its MySQL database answers again (mailfleet.postfix_mysql)
After=postfix.service systemd-journald.service
PartOf=postfix.service

[Service]
ExecStart=/usr/bin/python3 {program} {config_dir} {client_file}
Restart=always
RestartSec=5

[Install]
WantedBy=postfix.service
'''


def main():
    module = AnsibleModule(
        argument_spec=dict(
            client_file=dict(type='path', required=True),
            config_dir=dict(type='path', default='/etc/postfix'),
            name=dict(type='str', default='mailfleet-postfix-db-recovery'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if any(c.isspace() for c in p['client_file'] + p['config_dir']):
        module.fail_json(msg='client_file and config_dir must not contain blanks (they go on the unit\'s ExecStart line)')
    program = os.path.join(PROGRAM_DIR, p['name'] + '.py')
    unit = os.path.join(UNIT_DIR, p['name'] + '.service')
    systemctl = module.get_bin_path('systemctl', required=True)
    changes = []

    def systemctl_run(*args):
        rc, _out, err = module.run_command([systemctl] + list(args), environ_update=C_LOCALE_ENV)
        if rc != 0:
            module.fail_json(msg='systemctl %s failed: %s' % (' '.join(args), err.strip()), changes=changes)

    def write(path, text, mode):
        fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
        os.chmod(temp, mode)
        module.atomic_move(temp, path)

    state = unit_state(module, p['name'])
    if p['state'] == 'absent':
        if state['active']:
            changes.append('stop')
        if state['enabled']:
            changes.append('disable')
        changes += ['remove %s' % path for path in (unit, program) if os.path.exists(path)]
        if changes and not module.check_mode:
            if state['active'] or state['enabled']:
                systemctl_run('disable', '--now', p['name'])
            for path in (unit, program):
                if os.path.exists(path):
                    os.unlink(path)
            systemctl_run('daemon-reload')
        module.exit_json(changed=bool(changes), changes=changes)

    wanted = {
        program: (inspect.getsource(db_recovery_watcher), 0o644),
        unit: (UNIT.format(program=program, config_dir=p['config_dir'], client_file=p['client_file']), 0o644),
    }
    stale = [path for path, (text, _mode) in sorted(wanted.items()) if read_text(path) != text]
    changes += ['write %s' % path for path in stale]
    if unit in stale:
        changes.append('daemon-reload')
    if not state['enabled']:
        changes.append('enable')
    if not state['active']:
        changes.append('start')
    elif stale:
        changes.append('restart')
    if changes and not module.check_mode:
        for path in stale:
            write(path, wanted[path][0], wanted[path][1])
        if unit in stale:
            systemctl_run('daemon-reload')
        if not state['enabled']:
            systemctl_run('enable', p['name'])
        if not state['active']:
            systemctl_run('start', p['name'])
        elif stale:
            systemctl_run('restart', p['name'])
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == '__main__':
    main()
