# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mysql_table(5) client files: their names, their text, and how they go live.

One place for what the mysql_client_files module writes and what the filters name in
main.cf, so that the two can never disagree about a file's path.

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

MAP_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
OPTION_NAME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')
# Written from the module's own options; an entry in options would write them twice.
RESERVED_OPTIONS = ('user', 'password', 'hosts', 'dbname', 'query')
HEADER = '# Managed by mailfleet.postfix_mysql: changes made here are overwritten.\n'
# Postfix reads a table file again and again, 0.3 s apart, for as long as its mtime is
# within the last second or so ("pausing to let FILE finish being updated", load_file(3)
# in the Postfix sources), which costs every lookup through a file written just now up
# to two seconds. A file written here is complete (written, fsynced) before anyone reads
# it, so its times are set this many seconds back.
SETTLED_SECONDS = 2


class ClientFileError(Exception):
    """Bad input. The message never holds the password."""


def client_file_path(config_dir, name):
    """Where the client file of map NAME lives: DIR/mysql-NAME.cf."""
    return '%s/mysql-%s.cf' % (config_dir.rstrip('/'), name)


def option_text(value):
    """An option value as Postfix reads it: YAML booleans become yes/no."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return '%s' % (value,)


def _one_line(what, value):
    text = option_text(value)
    if re.search(r'[\r\n\0]', text):
        raise ClientFileError('%s must be one line' % what)
    if text != text.strip():
        # Postfix strips blanks around values: what it would read is not what was asked.
        raise ClientFileError('%s must not start or end with a blank' % what)
    return text


def check(maps, user, password, hosts, dbname, options):
    """Refuse what would give a broken or ambiguous client file. Raises ClientFileError."""
    if not maps:
        raise ClientFileError('maps: give at least one map')
    names = [entry.get('name') or '' for entry in maps]
    bad = [name for name in names if not MAP_NAME_RE.match(name)]
    if bad:
        raise ClientFileError('map names must be letters, digits, ".", "_" or "-" and start with a letter or digit: %s'
                              % ', '.join(repr(name) for name in bad))
    twice = sorted(set(name for name in names if names.count(name) > 1))
    if twice:
        raise ClientFileError('map names must be unique: %s' % ', '.join(twice))
    if not password:
        raise ClientFileError('password must not be empty')
    if re.search(r'[\r\n\0]', password) or password != password.strip():
        # The value itself is never part of a message.
        raise ClientFileError('password must be one line without leading or trailing blanks (Postfix strips them)')
    if not hosts:
        raise ClientFileError('hosts: give at least one database host')
    for host in hosts:
        if not host or re.search(r'[\s,]', host):
            raise ClientFileError('hosts: %r is not one host (no blanks or commas inside a host)' % (host,))
    _one_line('user', user)
    _one_line('dbname', dbname)
    for scope, values in [('options', options)] + [('options of map %s' % e['name'], e.get('options') or {})
                                                   for e in maps]:
        for key, value in values.items():
            if key in RESERVED_OPTIONS:
                raise ClientFileError('%s: %s is written from its own option and cannot be set here' % (scope, key))
            if not OPTION_NAME_RE.match(key):
                raise ClientFileError('%s: %r is not a mysql_table(5) option name' % (scope, key))
            _one_line('%s: %s' % (scope, key), value)
    for entry in maps:
        if not entry.get('query'):
            raise ClientFileError('map %s needs a query' % entry['name'])
        _one_line('the query of map %s' % entry['name'], entry['query'])


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
    """One client file: what it should be, and how the file on disk differs from it."""

    def __init__(self, name, path, text):
        self.name = name
        self.path = path
        self.text = text
        self.before = None      # the text on disk, None when there is no file
        self.reasons = []       # 'created', 'content', 'owner', 'group', 'mode'
        self.temp = None        # the temporary file while installing

    @property
    def changed(self):
        return bool(self.reasons)

    @property
    def content_changed(self):
        return 'created' in self.reasons or 'content' in self.reasons


def compare(wanted, uid, gid, mode):
    """Fill in before and reasons, by reading the file (as root: the module runs as root)."""
    try:
        info = os.lstat(wanted.path)
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise
        wanted.reasons = ['created']
        return wanted
    if not stat.S_ISREG(info.st_mode):
        # A symlink or a directory: replacing it would hide what the admin put there.
        raise ClientFileError('%s exists and is not a regular file' % wanted.path)
    with open(wanted.path, 'rb') as handle:
        raw = handle.read()
    wanted.before = raw.decode('utf-8', 'replace')
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
    while the text goes in; chown, then chmod, give it the final owner and mode. Its
    times are set SETTLED_SECONDS back, so that Postfix reads it at once.
    """
    directory, base = os.path.split(wanted.path)
    fd, wanted.temp = tempfile.mkstemp(prefix='.%s.' % base, suffix='.new', dir=directory)
    try:
        os.write(fd, wanted.text.encode('utf-8'))
        os.fsync(fd)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    settled = int(time.time()) - SETTLED_SECONDS
    os.utime(wanted.temp, (settled, settled))
    return wanted.temp


def discard(wanted_files):
    """Remove the temporary files, best effort: they must not outlive a failed run."""
    for wanted in wanted_files:
        if wanted.temp:
            try:
                os.unlink(wanted.temp)
            except OSError:
                pass
            wanted.temp = None


def install(wanted_files, uid, gid, mode, validate=None):
    """Put the changed files live, all of them or none.

    validate(new_files) is called once with every file whose text is new, while the texts
    sit in their temporary files (wanted.temp), and raises to stop the run: then no live
    file has been touched. Owner, group or mode alone are corrected in place (the text is
    already what it should be).
    """
    changed = [w for w in wanted_files if w.changed]
    new_files = [w for w in changed if w.content_changed]
    try:
        for wanted in new_files:
            write_temporary(wanted, uid, gid, mode)
        if validate is not None and new_files:
            validate(new_files)
        for wanted in changed:
            if wanted.content_changed:
                os.rename(wanted.temp, wanted.path)
                wanted.temp = None
            else:
                # Tighten the mode before handing the file to another owner or group.
                os.chmod(wanted.path, mode & stat.S_IMODE(os.stat(wanted.path).st_mode))
                os.chown(wanted.path, uid, gid)
                os.chmod(wanted.path, mode)
    finally:
        discard(changed)
    return changed
