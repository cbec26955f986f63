# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mysql_table(5) client files: their text, and how they go live.

Their names and every rule about their input live in maps.py; this file writes them.

How a file goes live (see install()): the new text is written to a temporary file in the
same directory, created mode 0600 (mkstemp), handed to the owner and group and only
then given its final mode; Postfix validates it with ``postmap -q``; only when every
changed file passed are they renamed over the live ones, which is atomic. A client file
is therefore never readable by others, and never half-written, not even for a moment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re
import stat
import tempfile
import time

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import option_text
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import strip_extended_attributes

HEADER = '# Managed by mailfleet.postfix_mysql: changes made here are overwritten.\n'
# Postfix reads a table file again and again, 0.3 s apart, for as long as its mtime is
# within the last second or so ("pausing to let FILE finish being updated", load_file(3)
# in the Postfix sources), which costs every lookup through a file written just now up
# to two seconds. A file written here is complete (written, fsynced) before anyone reads
# it, so its times are set this many seconds back.
SETTLED_SECONDS = 2


# What write_temporary() names its files: ``.FILE.RANDOM.new``, FILE a client file's name
# (mysql-NAME.cf, or the map's own file name), RANDOM mkstemp's eight characters.
_TEMPORARY_RE = re.compile(r'^\.[A-Za-z0-9][A-Za-z0-9._-]*\.cf\.[a-z0-9_]{8}\.new$')


class ClientFileError(Exception):
    """A client file that cannot be handled (not a regular file). No password inside."""


def render(entry, user, password, hosts, dbname, options):
    """The text of one map's client file. Options: the shared ones, then the map's own."""
    merged = dict(options or {})
    merged.update(entry.get('options') or {})
    lines = [
        HEADER,
        '# mysql_table(5) client file for %s (map "%s").\n'
        % (entry.get('parameter') or 'no main.cf parameter', entry['name']),
        'user = %s\n' % user,
        'password = %s\n' % password,
        'hosts = %s\n' % ' '.join(hosts),
        'dbname = %s\n' % dbname,
    ]
    for key in sorted(merged, key=lambda k: (k.lower(), k)):
        lines.append('%s = %s\n' % (key, option_text(merged[key])))
    lines.append('query = %s\n' % entry['query'])
    return ''.join(lines)


class Wanted(object):
    """One client file: what it should be, and how the file on disk differs from it.

    text None means the file must not exist (its map is retired).
    """

    def __init__(self, name, path, text):
        self.name = name
        self.path = path
        self.text = text
        self.before = None      # the text on disk, None when there is no file
        self.reasons = []       # 'created', 'content', 'owner', 'group', 'mode' or 'removed'
        self.temp = None        # the temporary file while installing

    @property
    def changed(self):
        return bool(self.reasons)

    @property
    def content_changed(self):
        return 'created' in self.reasons or 'content' in self.reasons

    @property
    def removed(self):
        return 'removed' in self.reasons

    @property
    def replaces_hand_written(self):
        """Whether a text that the collection did not write (no HEADER) changes or goes."""
        return (self.before is not None and not self.before.startswith(HEADER)
                and ('content' in self.reasons or self.removed))


def compare(wanted, uid, gid, mode):
    """Fill in before and reasons, by reading the file (as root: the module runs as root)."""
    try:
        info = os.lstat(wanted.path)
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise
        wanted.reasons = ['created'] if wanted.text is not None else []
        return wanted
    if not stat.S_ISREG(info.st_mode):
        # A symlink or a directory: replacing it would hide what the admin put there.
        raise ClientFileError('%s exists and is not a regular file' % wanted.path)
    with open(wanted.path, 'rb') as handle:
        raw = handle.read()
    wanted.before = raw.decode('utf-8', 'replace')
    if wanted.text is None:
        wanted.reasons = ['removed']
        return wanted
    if raw != wanted.text.encode('utf-8'):
        wanted.reasons.append('content')
    if info.st_uid != uid:
        wanted.reasons.append('owner')
    if info.st_gid != gid:
        wanted.reasons.append('group')
    if stat.S_IMODE(info.st_mode) != mode:
        wanted.reasons.append('mode')
    return wanted


def write_temporary(wanted, uid, gid, mode):
    """The new text in a temporary file beside the live one, with its final owner and mode.

    mkstemp creates the file 0600 for its creator (root), so nobody else can open it
    while the text goes in; an ACL that it got from its directory is dropped, then chown
    and chmod give it the final owner and mode. It replaces the live file keeping nothing
    of it (the caller's move), so an ACL or other attribute put on a client file by hand
    never survives a rewrite.
    """
    directory, base = os.path.split(wanted.path)
    fd, wanted.temp = tempfile.mkstemp(prefix='.%s.' % base, suffix='.new', dir=directory)
    try:
        os.write(fd, wanted.text.encode('utf-8'))
        os.fsync(fd)
        strip_extended_attributes(fd)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    settle(wanted.temp)
    return wanted.temp


def settle(path):
    """Set the file's times SETTLED_SECONDS back, so that Postfix reads it at once."""
    settled = int(time.time()) - SETTLED_SECONDS
    os.utime(path, (settled, settled))


def discard(wanted_files):
    """Remove the temporary files, best effort: they must not outlive a failed run."""
    for wanted in wanted_files:
        if wanted.temp:
            try:
                os.unlink(wanted.temp)
            except OSError:
                pass
            wanted.temp = None


def tighten(path, mode):
    """Take away what MODE does not allow before the file changes owner, group or text,
    so that no moment gives others more than they had."""
    current = stat.S_IMODE(os.stat(path).st_mode)
    if current & ~mode:
        os.chmod(path, current & mode)


def _set_attributes(path, uid, gid, mode):
    tighten(path, mode)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def install(wanted_files, uid, gid, mode, validate=None, move=None, set_attributes=None, going_live=None):
    """Put the changed files live, all of them or none.

    validate(new_files) is called once with every file whose text is new, while the texts
    sit in their temporary files (wanted.temp), and raises to stop the run: then no live
    file has been touched. move(temp, path) puts one text in place (an atomic rename);
    set_attributes(path) gives a live file its owner, group and mode (and whatever else
    the caller keeps, such as SELinux contexts). going_live() is called once, after the
    validation and before the first live file changes. Files to remove are left to remove().
    """
    move = move or os.rename
    set_attributes = set_attributes or (lambda path: _set_attributes(path, uid, gid, mode))
    changed = [w for w in wanted_files if w.changed and not w.removed]
    new_files = [w for w in changed if w.content_changed]
    try:
        for wanted in new_files:
            write_temporary(wanted, uid, gid, mode)
        if validate is not None and new_files:
            validate(new_files)
        if changed and going_live is not None:
            going_live()
        for wanted in changed:
            if wanted.content_changed:
                if os.path.exists(wanted.path):
                    tighten(wanted.path, mode)
                move(wanted.temp, wanted.path)
                wanted.temp = None
                set_attributes(wanted.path)
                settle(wanted.path)
            else:
                set_attributes(wanted.path)
    finally:
        discard(changed)
    return changed


def remove(wanted_files):
    """Remove the files of retired maps. Returns those removed."""
    removed = []
    for wanted in wanted_files:
        if wanted.removed:
            try:
                os.unlink(wanted.path)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
            removed.append(wanted)
    return removed


def leftovers(config_dir):
    """Temporary files of runs that were killed before they could discard them.

    Only call this while holding the configuration directory's lock: then no living run
    owns one of them. They were never readable by others (see write_temporary()).
    """
    try:
        names = os.listdir(config_dir)
    except OSError:
        return []
    return sorted(os.path.join(config_dir, name) for name in names if _TEMPORARY_RE.match(name))


def remove_leftovers(paths):
    for path in paths:
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
