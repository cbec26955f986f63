# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dovecot's SQL settings: which database account Dovecot logs in with, and a new one.

Dovecot reads the mail database through the same kind of read-only account as Postfix.
Two layouts exist:

- Dovecot 2.3 (Debian 12): ``/etc/dovecot/dovecot-sql.conf.ext`` holds ``driver``,
  ``connect = "host=... dbname=... user=... password=..."`` and the queries. The connect
  string is split at blanks by Dovecot's mysql driver, so a value in it cannot hold a blank.
- Dovecot 2.4 (Debian 13): the settings are inline, usually in
  ``/etc/dovecot/conf.d/auth-sql.conf.ext``: ``sql_driver = mysql`` and one
  ``mysql HOST { user = ...  password = ...  dbname = ... }`` block per server.

Both are read with Dovecot's own rules: ``#`` outside quotes starts a comment, a value
in double quotes may hold blanks and ``#`` with ``\\`` escaping, a line ending with ``\\``
goes on on the next. A new account is written back by replacing only the lines that hold
it; every other byte of the file stays as it was. Passwords never go into an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import re

# Where Debian's Dovecot packages and the ISPmail guide put the SQL settings.
DOVECOT_23_FILE = '/etc/dovecot/dovecot-sql.conf.ext'
DOVECOT_24_FILE = '/etc/dovecot/conf.d/auth-sql.conf.ext'

_KEY_RE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$')
_BLOCK_RE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)(?:\s+("(?:[^"\\]|\\.)*"|[^\s{]+))?\s*\{\s*$')
# What Dovecot 2.3's mysql driver accepts in a connect string (driver-mysql.c).
CONNECT_KEYS = frozenset((
    'host', 'hostaddr', 'port', 'user', 'password', 'dbname', 'client_flags', 'connect_timeout', 'read_timeout',
    'write_timeout', 'option_file', 'option_group', 'ssl_key', 'ssl_cert', 'ssl_ca', 'ssl_ca_path',
    'ssl_cipher', 'ssl_verify_server_cert'))


class DovecotSqlError(Exception):
    """A Dovecot SQL file that cannot be used: the file, the line, the fix. No password."""

    def __init__(self, path, line, problem):
        self.path = path
        self.line = line
        where = '%s line %d' % (path, line) if line else path
        super(DovecotSqlError, self).__init__('%s: %s' % (where, problem))


class Setting(object):
    """One ``key = value`` of the file: where it is, and how it is written."""

    def __init__(self, key, value, first_line, last_line, indent, block):
        self.key = key
        self.value = value
        self.first_line = first_line    # 1-based, the line the setting starts on
        self.last_line = last_line      # the line it ends on (continuations)
        self.indent = indent
        self.block = block              # None, or ('mysql', 'localhost') and so on


class Connection(object):
    """One database server Dovecot logs in to, and with which account."""

    def __init__(self, hosts, user, password, dbname, line, port=None):
        self.hosts = hosts      # ['127.0.0.1'], ['localhost'] (the socket), ['/run/mysqld/mysqld.sock']
        self.user = user
        self.password = password    # never in as_dict(), never in a message
        self.dbname = dbname
        self.line = line        # the line that names the account
        self.port = port

    def as_dict(self):
        return dict(hosts=list(self.hosts), user=self.user, dbname=self.dbname, line=self.line, port=self.port)


class DovecotSql(object):
    """What a Dovecot SQL file says: its layout (2.3 or 2.4), connections and queries."""

    def __init__(self, path, text, layout, settings, connections, queries, driver):
        self.path = path
        self.text = text
        self.layout = layout
        self.settings = settings
        self.connections = connections
        self.queries = queries          # {'password_query': ..., 'user_query': ..., 'iterate_query': ...}
        self.driver = driver

    @property
    def users(self):
        return sorted(set(connection.user for connection in self.connections if connection.user))

    def as_dict(self):
        return dict(path=self.path, layout=self.layout, driver=self.driver, users=self.users,
                    connections=[connection.as_dict() for connection in self.connections],
                    queries=dict(self.queries))


def quote(value):
    """A value in Dovecot's double quotes: blanks and ``#`` are then part of it."""
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def quote_24(value):
    """A literal value for a Dovecot 2.4 setting. 2.4 expands ``%{name}`` in every setting
    (an unknown name stops the auth process), and reads ``%%{`` as a literal ``%{``."""
    return quote(value.replace('%{', '%%{'))


def literal_24(value):
    """What a Dovecot 2.4 setting holds once ``%%{`` is read as ``%{``."""
    return value.replace('%%{', '%{') if value is not None else None


def _unquote(raw, path, line):
    """The value of a setting as Dovecot reads it: quoted, or up to a comment."""
    raw = raw.strip()
    if raw[:1] in ('"', "'"):
        mark = raw[0]
        out = []
        i = 1
        while i < len(raw):
            char = raw[i]
            if char == '\\' and i + 1 < len(raw):
                out.append(raw[i + 1])
                i += 2
                continue
            if char == mark:
                rest = raw[i + 1:].strip()
                if rest and not rest.startswith('#'):
                    raise DovecotSqlError(path, line, 'text after the closing quote: write the whole value '
                                                      'inside the quotes')
                return ''.join(out)
            out.append(char)
            i += 1
        raise DovecotSqlError(path, line, 'a quote is not closed: end the value with %s' % mark)
    return raw.split('#', 1)[0].rstrip()


def _logical_lines(text):
    """(first line, last line, text) of each line, continuations joined."""
    lines = text.split('\n')
    i = 0
    while i < len(lines):
        first = i
        joined = lines[i]
        while joined.rstrip().endswith('\\') and i + 1 < len(lines):
            joined = joined.rstrip()[:-1] + lines[i + 1].lstrip()
            i += 1
        yield first + 1, i + 1, joined
        i += 1


def _scan(path, text):
    """Every setting of the file, with the block it sits in."""
    settings = []
    stack = []
    for first, last, line in _logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if stripped.startswith('!include') or stripped.startswith('@'):
            continue
        if stripped == '}':
            if not stack:
                raise DovecotSqlError(path, first, 'a "}" closes no block: remove it')
            stack.pop()
            continue
        block = _BLOCK_RE.match(stripped)
        if block:
            name = block.group(2) or ''
            if name.startswith('"'):
                name = _unquote(name, path, first)
            stack.append((block.group(1), name, first))
            continue
        setting = _KEY_RE.match(stripped)
        if not setting:
            raise DovecotSqlError(path, first, 'neither "key = value", "name {" nor "}": Dovecot cannot read '
                                               'this line either (see doveconf -n)')
        indent = line[:len(line) - len(line.lstrip())]
        value = _unquote(setting.group(2), path, first)
        where = tuple(entry[:2] for entry in stack)
        settings.append(Setting(setting.group(1), value, first, last, indent, where[-1] if where else None))
    if stack:
        raise DovecotSqlError(path, stack[-1][2], 'the block "%s %s {" is never closed: add its "}"'
                              % stack[-1][:2])
    return settings


def read_file(path):
    """The SQL settings of the file at PATH, or None when there is no such file or it holds none.

    A file that exists but cannot be read is an error: Dovecot may well read it, and an
    account it names must not be taken for unused.
    """
    try:
        with open(path, 'rb') as handle:
            text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise DovecotSqlError(path, 0, 'cannot be read (%s): run as root, or leave the file out of the files '
                                       'read for Dovecot' % (exc.strerror or exc))
    return read(path, text)


def parse_connect(value, path, line):
    """Dovecot 2.3's connect string: its pairs, in order, split at blanks as its driver does."""
    pairs = []
    for word in value.split():
        key, sep, item = word.partition('=')
        if not sep:
            # The word may be the end of a password: it is not shown.
            after = ' after "%s="' % pairs[-1][0] if pairs else ''
            raise DovecotSqlError(path, line, 'connect holds a word that is not key=value%s: a value of the '
                                              'connect string cannot hold a blank' % after)
        if key not in CONNECT_KEYS:
            raise DovecotSqlError(path, line, 'connect names "%s", which Dovecot\'s mysql driver does not know '
                                              '(it knows %s)' % (key, ', '.join(sorted(CONNECT_KEYS))))
        pairs.append((key, item))
    return pairs


def read(path, text):
    """The SQL settings of one Dovecot file, in the 2.3 or the 2.4 layout."""
    settings = _scan(path, text)
    top = dict((s.key, s) for s in settings if s.block is None)
    queries = {}
    connections = []
    if 'connect' in top:
        layout = '2.3'
        driver = top['driver'].value if 'driver' in top else None
        connect = top['connect']
        pairs = parse_connect(connect.value, path, connect.first_line)
        values = dict(pairs)
        hosts = [item for key, item in pairs if key in ('host', 'hostaddr')]
        if 'user' not in values:
            raise DovecotSqlError(path, connect.first_line, 'connect names no user: add user=ACCOUNT')
        if not hosts and 'option_file' not in values:
            raise DovecotSqlError(path, connect.first_line, 'connect names no host: add host=ADDRESS (or the '
                                                            'socket\'s path)')
        connections.append(Connection(hosts, values['user'], values.get('password'),
                                      values.get('dbname'), connect.first_line, values.get('port')))
        for key in ('password_query', 'user_query', 'iterate_query'):
            if key in top:
                queries[key] = top[key].value
    else:
        layout = '2.4'
        driver = top['sql_driver'].value if 'sql_driver' in top else None
        blocks = {}
        for setting in settings:
            if setting.block and setting.block[0] == 'mysql':
                blocks.setdefault(setting.block[1], {})[setting.key] = setting
            elif setting.block and setting.block[0] in ('passdb', 'userdb') and setting.key in ('query',
                                                                                                'iterate_query'):
                queries['%s_%s' % (setting.block[0], setting.key)] = setting.value
        for host, block in sorted(blocks.items()):
            if 'user' not in block:
                first = min(s.first_line for s in block.values())
                raise DovecotSqlError(path, first, 'the block "mysql %s" names no user: add user = ACCOUNT' % host)
            value = dict((key, literal_24(setting.value)) for key, setting in block.items())
            connections.append(Connection([host], value['user'], value.get('password'), value.get('dbname'),
                                          block['user'].first_line, value.get('port')))
        if not connections and driver is None:
            return None
    if driver is not None and driver != 'mysql':
        raise DovecotSqlError(path, (top.get('driver') or top.get('sql_driver')).first_line,
                              'the driver is %s: only mysql is handled' % driver)
    return DovecotSql(path, text, layout, settings, connections, queries, driver)


def with_account(config, user, password, replaces=None):
    """The file's text with its connections logging in as USER with PASSWORD: all of them,
    or with REPLACES only those that log in as one of REPLACES.

    Only the lines holding the account change: Dovecot 2.3's connect line (rewritten in
    Dovecot's quotes, its other pairs kept in order), or the user and password lines of
    each 2.4 ``mysql`` block (a block of Dovecot's own account stays as it is).
    """
    if config.layout == '2.3' and any(char.isspace() for char in password):
        raise DovecotSqlError(config.path, 0, 'Dovecot 2.3 splits its connect string at blanks: a password '
                                              'for it cannot hold one')
    return _rewrite(config, user, password, replaces)


def masked(config):
    """The file's text with each password replaced by a mark: what a diff may show."""
    return _rewrite(config, None, MASK)


MASK = '********'


def _rewrite(config, user, password, replaces=None):
    lines = config.text.split('\n')
    replacements = []   # (first line, last line, new text)
    if config.layout == '2.3':
        connect = [s for s in config.settings if s.block is None and s.key == 'connect'][0]
        pairs = parse_connect(connect.value, config.path, connect.first_line)
        new_pairs = []
        for key, item in pairs:
            if key == 'user' and user is not None:
                item = user
            elif key == 'password':
                item = password
            new_pairs.append((key, item))
        if 'password' not in dict(pairs):
            new_pairs.append(('password', password))
        connect_text = ' '.join('%s=%s' % pair for pair in new_pairs)
        replacements.append((connect.first_line, connect.last_line,
                             '%sconnect = %s' % (connect.indent, quote(connect_text))))
    else:
        blocks = {}
        for setting in config.settings:
            if setting.block and setting.block[0] == 'mysql':
                blocks.setdefault(setting.block, {})[setting.key] = setting
        for block in blocks.values():
            user_line = block['user']
            if replaces is not None and literal_24(user_line.value) not in replaces:
                continue
            user_text = '%suser = %s' % (user_line.indent,
                                         quote_24(user if user is not None else literal_24(user_line.value)))
            password_text = '%spassword = %s' % (user_line.indent, quote_24(password))
            if 'password' in block:
                replacements.append((user_line.first_line, user_line.last_line, user_text))
                replacements.append((block['password'].first_line, block['password'].last_line, password_text))
            else:
                replacements.append((user_line.first_line, user_line.last_line, user_text + '\n' + password_text))
    for first, last, new in sorted(replacements, reverse=True):
        lines[first - 1:last] = [new]
    return '\n'.join(lines)


class Move(object):
    """One Dovecot file to rewrite: from which accounts, and its text before and after."""

    def __init__(self, config, text):
        self.config = config
        self.text = text

    @property
    def path(self):
        return self.config.path


def plan_moves(configs, user, password, replaces):
    """(moves, left): the files that log in with one of REPLACES and differ from USER and
    PASSWORD, and those Dovecot files left alone because they name another account."""
    moves, left = [], []
    for config in configs:
        users = set(config.users)
        if not users & set(replaces):
            left.append(config)
            continue
        if all(c.user == user and c.password == password for c in config.connections if c.user in replaces):
            continue
        moves.append(Move(config, with_account(config, user, password, replaces)))
    return moves, left
