# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database recovery service: a small systemd service that follows Postfix's log and reloads
Postfix as soon as a database host it gave up on answers again. What it does and why is in the
recovery_service option of modules/mysql_maps.py; the program itself is db_recovery_watcher.py,
shipped as it is (inspect.getsource), so that the service runs the code the tests ran."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import os
import stat

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import db_recovery_watcher
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import base_argv
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import read_text, replace_file, systemctl, unit_state

DEFAULT_NAME = 'mailfleet-postfix-db-recovery'
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


class RecoveryServiceError(Exception):
    """The service could not be put in place; message says why."""

    def __init__(self, message):
        super(RecoveryServiceError, self).__init__(message)
        self.message = message


def _paths(name):
    return (os.path.join(PROGRAM_DIR, name + '.py'), os.path.join(OLD_PROGRAM_DIR, name + '.py'),
            os.path.join(UNIT_DIR, name + '.service'))


def _systemctl(module, *args):
    """systemctl ARGS; RecoveryServiceError when it fails."""
    failure = systemctl(module, *args)
    if failure:
        raise RecoveryServiceError(failure)


def _remove(module, name, state):
    """Stop and remove the service; the changes made (or, in check mode, to make)."""
    program, old_program, unit = _paths(name)
    changes = []
    if state['active']:
        changes.append('stop')
    if state['enabled']:
        changes.append('disable')
    changes += ['remove %s' % path for path in (unit, program, old_program) if os.path.exists(path)]
    if changes and not module.check_mode:
        if state['active'] or state['enabled']:
            _systemctl(module, 'disable', '--now', name)
        for path in (unit, program, old_program):
            if os.path.exists(path):
                os.unlink(path)
        _systemctl(module, 'daemon-reload')
    return changes


def _wanted_files(module, client_file, config_dir, name):
    """The program and the unit as they should be: {path: text}."""
    program, _old_program, unit = _paths(name)
    postconf = module.get_bin_path('postconf', required=True)
    rc, out, err = module.run_command(base_argv(postconf, config_dir) + ['-x', '-h', 'queue_directory', 'data_directory'],
                                      environ_update=C_LOCALE_ENV)
    writable = out.split()
    if rc != 0 or len(writable) != 2 or not all(os.path.isabs(path) for path in writable):
        raise RecoveryServiceError('postconf -c %s could not tell the queue and data directories: %s'
                                   % (config_dir, err.strip() or out.strip()))
    return {
        program: inspect.getsource(db_recovery_watcher),
        unit: UNIT.format(program=program, config_dir=config_dir, client_file=client_file, name=name,
                          writable=' '.join('-' + path for path in writable)),
    }


def _install(module, client_file, config_dir, name, state):
    """Write the program and the unit, and run the service; the changes made (or to make)."""
    _program, old_program, unit = _paths(name)
    unsafe = writable_by_others(PROGRAM_DIR)
    if unsafe:
        raise RecoveryServiceError('%s may be written by others than root (%s): the service runs as root from '
                                   'there, so nothing was changed' % (PROGRAM_DIR, unsafe))
    wanted = _wanted_files(module, client_file, config_dir, name)
    stale = [path for path, text in sorted(wanted.items()) if read_text(path) != text]
    changes = [] if os.path.isdir(PROGRAM_DIR) else ['create %s' % PROGRAM_DIR]
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
    if not changes or module.check_mode:
        return changes
    if not os.path.isdir(PROGRAM_DIR):
        os.mkdir(PROGRAM_DIR, 0o755)
        os.chmod(PROGRAM_DIR, 0o755)
    for path in stale:
        replace_file(module, path, wanted[path], 0, 0, 0o644)
    if unit in stale:
        _systemctl(module, 'daemon-reload')
    if not state['enabled']:
        _systemctl(module, 'enable', name)
    if not state['active']:
        _systemctl(module, 'start', name)
    elif stale:
        _systemctl(module, 'restart', name)
    # Only once the service runs the new copy.
    if os.path.exists(old_program):
        os.unlink(old_program)
    return changes


def manage_recovery_service(module, client_file, config_dir, state, name=DEFAULT_NAME):
    """Put the service in STATE (present or absent), following CLIENT_FILE; the changes made, or
    in check mode to make, as a list of short texts. Raises RecoveryServiceError."""
    if any(c.isspace() for c in client_file + config_dir):
        raise RecoveryServiceError('the client file and the configuration directory must not contain blanks '
                                   '(they go on the unit\'s ExecStart line)')
    unit_now = unit_state(module, name)
    if state == 'absent':
        return _remove(module, name, unit_now)
    return _install(module, client_file, config_dir, name, unit_now)
