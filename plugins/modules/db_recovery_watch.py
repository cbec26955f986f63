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
  - The log is not trusted input (smtpd logs what SMTP clients send; any local user can write a line tagged
    C(postfix/smtpd)), so the service reads only journal entries whose fields set by journald show a
    Postfix daemon of Postfix's own systemd service, and only messages in Postfix's own formats that name
    a host or client file of O(client_file); a forged line causes no probe and no reload. Every reload is
    logged with the message that caused it, and one host causes at most one reload in 10 seconds.
  - The service runs confined (C(NoNewPrivileges), C(ProtectSystem=strict) with only Postfix's queue and
    data directories writable, a private C(/tmp) and C(/dev), a system-call filter, a 0700
    C(RuntimeDirectory) for its probes' copies of the client file), from a directory that only root can
    write.
  - One module run writes the program and the unit (each only when it differs, with C(atomic_move)), runs
    C(systemctl daemon-reload) when the unit changed, and enables, starts or restarts the service as
    needed.
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
  - Needs systemd and journald; the program is installed as C(/usr/lib/mailfleet-postfix-mysql/NAME.py), and a
    copy left in C(/usr/local/lib) by an earlier release is removed (that directory is writable by group
    C(staff) on Debian).
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
  sample: [write /usr/lib/mailfleet-postfix-mysql/mailfleet-postfix-db-recovery.py, daemon-reload, start]
'''

import inspect
import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import db_recovery_watcher
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import base_argv
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import read_text, replace_file, unit_state

# Only root may write the program or any directory above it: it runs as root.
PROGRAM_DIR = '/usr/lib/mailfleet-postfix-mysql'
# Where releases before 0.2.0 put it; group staff may write there on Debian.
OLD_PROGRAM_DIR = '/usr/local/lib'
UNIT_DIR = '/etc/systemd/system'
UNIT = '''# Managed by mailfleet.postfix_mysql: changes made here are overwritten.
# Reloads Postfix as soon as a database host it gave up on answers again, instead of the
# minute its daemons would go on deferring mail (see {program}).
[Unit]
Description=Reload Postfix when its MySQL database answers again (mailfleet.postfix_mysql)
After=postfix.service systemd-journald.service
PartOf=postfix.service

[Service]
ExecStart=/usr/bin/python3 -I {program} {config_dir} {client_file}
Restart=always
RestartSec=5
UMask=0077
RuntimeDirectory={name}
RuntimeDirectoryMode=0700
# Confined: it parses log text that strangers can influence. It reads the journal and
# Postfix's configuration, runs postmap and `postfix reload`; the reload writes only in
# Postfix's queue and data directories (postsuper, master's pid file). Postfix's
# programs list the host's interfaces through netlink.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={writable}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_KILL CAP_SETGID CAP_SETUID

[Install]
WantedBy=postfix.service
'''


def writable_by_others(path):
    """The first of PATH and the directories above it that is not root's alone (owned by
    another user, or writable by group or others), with why; None when all are root's."""
    start = path
    while True:
        try:
            info = os.stat(path)
        except OSError:
            info = None
        if info is not None:
            if info.st_uid != 0:
                return '%s is owned by uid %d' % (path, info.st_uid)
            # A sticky directory (/tmp) lets nobody but root move the root-owned entry below it.
            sticky_above = info.st_mode & stat.S_ISVTX and path != start
            if info.st_mode & 0o022 and not sticky_above:
                return '%s has mode %04o' % (path, info.st_mode & 0o7777)
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


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
    old_program = os.path.join(OLD_PROGRAM_DIR, p['name'] + '.py')
    unit = os.path.join(UNIT_DIR, p['name'] + '.service')
    systemctl = module.get_bin_path('systemctl', required=True)
    changes = []

    def systemctl_run(*args):
        rc, _out, err = module.run_command([systemctl] + list(args), environ_update=C_LOCALE_ENV)
        if rc != 0:
            module.fail_json(msg='systemctl %s failed: %s' % (' '.join(args), err.strip()), changes=changes)

    state = unit_state(module, p['name'])
    if p['state'] == 'absent':
        if state['active']:
            changes.append('stop')
        if state['enabled']:
            changes.append('disable')
        changes += ['remove %s' % path for path in (unit, program, old_program) if os.path.exists(path)]
        if changes and not module.check_mode:
            if state['active'] or state['enabled']:
                systemctl_run('disable', '--now', p['name'])
            for path in (unit, program, old_program):
                if os.path.exists(path):
                    os.unlink(path)
            systemctl_run('daemon-reload')
        module.exit_json(changed=bool(changes), changes=changes)

    unsafe = writable_by_others(PROGRAM_DIR)
    if unsafe:
        module.fail_json(msg='%s may be written by others than root (%s): the service runs as root from there, '
                             'so nothing was changed' % (PROGRAM_DIR, unsafe))
    postconf = module.get_bin_path('postconf', required=True)
    rc, out, err = module.run_command(base_argv(postconf, p['config_dir']) + ['-x', '-h', 'queue_directory', 'data_directory'],
                                      environ_update=C_LOCALE_ENV)
    writable = out.split()
    if rc != 0 or len(writable) != 2 or not all(os.path.isabs(path) for path in writable):
        module.fail_json(msg='postconf -c %s could not tell the queue and data directories: %s'
                             % (p['config_dir'], err.strip() or out.strip()))
    wanted = {
        program: (inspect.getsource(db_recovery_watcher), 0o644),
        unit: (UNIT.format(program=program, config_dir=p['config_dir'], client_file=p['client_file'], name=p['name'],
                           writable=' '.join('-' + path for path in writable)), 0o644),
    }
    stale = [path for path, (text, _mode) in sorted(wanted.items()) if read_text(path) != text]
    if not os.path.isdir(PROGRAM_DIR):
        changes.append('create %s' % PROGRAM_DIR)
    changes += ['write %s' % path for path in stale]
    if os.path.exists(old_program):
        changes.append('remove %s' % old_program)
    if unit in stale:
        changes.append('daemon-reload')
    if not state['enabled']:
        changes.append('enable')
    if not state['active']:
        changes.append('start')
    elif stale:
        changes.append('restart')
    if changes and not module.check_mode:
        if not os.path.isdir(PROGRAM_DIR):
            os.mkdir(PROGRAM_DIR, 0o755)
            os.chmod(PROGRAM_DIR, 0o755)
        for path in stale:
            replace_file(module, path, wanted[path][0], 0, 0, wanted[path][1])
        if unit in stale:
            systemctl_run('daemon-reload')
        if not state['enabled']:
            systemctl_run('enable', p['name'])
        if not state['active']:
            systemctl_run('start', p['name'])
        elif stale:
            systemctl_run('restart', p['name'])
        # Only once the service runs the new copy.
        if os.path.exists(old_program):
            os.unlink(old_program)
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == '__main__':
    main()
