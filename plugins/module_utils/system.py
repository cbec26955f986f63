# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package and service state of a Debian host, read with dpkg-query and systemctl, and
the files a module keeps: their text, and how a new text goes in.

Shared by the info modules, so that a role can learn in its first module run whether
anything must be installed or started, and skip those tasks on an unchanged host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import glob
import os
import stat
import tempfile
import time

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV


def missing_packages(module, packages):
    """The packages of the list that dpkg has not fully installed (status 'ii'), in order."""
    if not packages:
        return []
    dpkg_query = module.get_bin_path('dpkg-query')
    if dpkg_query is None:
        module.fail_json(msg='dpkg-query not found: packages can only be checked on Debian and its derivatives')
    # Exit status 1 only says that a package is unknown to dpkg, which is "missing" too.
    rc, out, err = module.run_command([dpkg_query, '-W', '-f', '${Package}\t${db:Status-Abbrev}\n'] + list(packages),
                                      environ_update=C_LOCALE_ENV)
    if rc not in (0, 1):
        module.fail_json(msg='dpkg-query failed: %s' % err.strip())
    installed = set()
    for line in out.splitlines():
        name, _sep, status = line.partition('\t')
        if status.startswith('ii'):
            installed.add(name.split(':')[0])
    return [name for name in packages if name not in installed]


def unit_state(module, unit):
    """{'active': bool, 'enabled': bool} of a systemd unit; both False without systemd."""
    systemctl = module.get_bin_path('systemctl')
    if systemctl is None:
        return dict(active=False, enabled=False)
    rc_active, _out, _err = module.run_command([systemctl, 'is-active', '--quiet', unit], environ_update=C_LOCALE_ENV)
    _rc, enabled, _err = module.run_command([systemctl, 'is-enabled', unit], environ_update=C_LOCALE_ENV)
    return dict(active=rc_active == 0, enabled=enabled.strip() == 'enabled')


def systemctl(module, *args):
    """Run ``systemctl ARGS`` in the C locale: None when it worked, else its message."""
    binary = module.get_bin_path('systemctl', required=True)
    rc, _out, err = module.run_command([binary] + list(args), environ_update=C_LOCALE_ENV)
    return None if rc == 0 else 'systemctl %s failed: %s' % (' '.join(args), err.strip())


def read_text(path):
    """What a file holds now, as text, or None when it cannot be read (it does not exist)."""
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def strip_extended_attributes(fd):
    """Drop every extended attribute of a new file but the kernel's security labels
    (SELinux): above all the access ACL that a default ACL of its directory gave it, which
    could let others read it while its mode bits say they may not. Nothing on a file
    system without extended attributes."""
    try:
        names = os.listxattr(fd)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return
        raise
    for name in names:
        if not name.startswith('security.'):
            os.removexattr(fd, name)


def replace_file(module, path, text, uid, gid, mode):
    """Put TEXT (str, or bytes kept as they are) at PATH whole, owned UID:GID with MODE, never
    readable by others meanwhile.

    The text goes into a temporary file beside PATH, created 0600 for root (mkstemp), given
    its owner and mode and no extended attributes, then moved over PATH with atomic_move,
    which keeps nothing of the file it replaces (an ACL someone put on it goes with it). A
    new PATH would arrive with 0666 & ~umask (atomic_move), so the umask is 077 for the move
    and the final owner and mode are set again afterwards.
    """
    directory, base = os.path.split(path)
    fd, temp = tempfile.mkstemp(prefix='.%s.' % base, suffix='.new', dir=directory)
    try:
        try:
            os.write(fd, text if isinstance(text, bytes) else text.encode('utf-8'))
            os.fsync(fd)
            strip_extended_attributes(fd)
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        old_umask = os.umask(0o077)
        try:
            module.atomic_move(temp, path, unsafe_writes=module.params.get('unsafe_writes', False),
                               keep_dest_attrs=False)
        finally:
            os.umask(old_umask)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    os.chown(path, uid, gid)
    os.chmod(path, mode)


# What keep_first_copy() adds to a file's name: PATH.before-mailfleet.DATE@TIME~.
FIRST_COPY_INFIX = '.before-mailfleet.'


def first_copies(path):
    """The copies keep_first_copy() kept of PATH."""
    return sorted(glob.glob(glob.escape(path) + FIRST_COPY_INFIX + '*~'))


def keep_first_copy(module, path, now=None):
    """Keep PATH as it was before the collection first changed it, beside it, as
    PATH.before-mailfleet.YYYY-MM-DD@HH:MM:SS~ (the date as Ansible's backup option writes it),
    with its bytes, owner and group, and its mode without the bits of others: it may hold a
    password. Returns the copy's path, or None when a copy is there already (the file was
    changed by the collection before) or PATH does not exist."""
    if first_copies(path):
        return None
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
            info = os.fstat(handle.fileno())
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    copy = '%s%s%s~' % (path, FIRST_COPY_INFIX, time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime(now)))
    replace_file(module, copy, data, info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode) & ~0o007)
    return copy


def file_differs(path, text, uid, gid, mode):
    """Whether PATH lacks TEXT, or another owner, group or mode than UID:GID MODE."""
    if read_text(path) != text:
        return True
    info = os.stat(path)
    return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) != (uid, gid, mode)
