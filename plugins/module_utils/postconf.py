# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idempotent main.cf settings through postconf(1): the logic, without AnsibleModule.

Everything here is pure (strings in, strings out) so that it can be unit-tested and
reused; the module only runs the commands these functions build.

How postconf behaves (checked on Postfix 3.7 and 3.10):

- ``postconf -n NAME...`` prints ``NAME = VALUE`` for the requested names that main.cf
  sets AND that postconf knows, with every run of blanks (continuation lines included)
  collapsed to one space. It exits 0 in all these cases:

  - a name it does not know: ``postconf: warning: NAME: unknown parameter``;
  - a name that main.cf or master.cf references as ``$NAME`` but nobody defines:
    ``postconf: warning: /etc/postfix/main.cf: undefined parameter: NAME`` (plus the
    "unknown parameter" line). Once defined, such a name is known;
  - a name that main.cf sets but postconf does not know (nothing references it): it is
    not printed, but ``/etc/postfix/main.cf: unused parameter: NAME=RAW VALUE`` is;
  - user-defined names that master.cf ``-o x=$NAME`` or smtpd_restriction_classes
    reference count as known and are printed.

  The same run also warns about OTHER keys, with their values: ``unused parameter`` in
  mysql client files (``mysql:/etc/postfix/x.cf: unused parameter: passwrd=S3cret``),
  ``overriding earlier entry`` for names set twice; a broken line of a client file is
  fatal and quoted. Those values are never passed on (see :func:`sanitize`).
- ``postconf -e NAME=VALUE...`` and ``postconf -X NAME...`` always rewrite main.cf (a new
  inode), even when nothing changes and for names that are not set; they print nothing
  unless main.cf sets a name twice (``multiple entries for "NAME"``, and then every
  entry is updated). A value with a newline is refused (``fatal: -e, -X, or -# accepts
  no multi-line input``), as is a name with blanks (``missing '=' after attribute name``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import re

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import (
    C_LOCALE_ENV,
    REDACTED,
    chrooted_map_readers,
    parse_diagnostics,
)

DEFAULT_CONFIG_DIR = '/etc/postfix'

# Parameter names: letters, digits and underscores; master.cf service names bring in
# '-' and '.' (``smtp-amavis_destination_concurrency_limit``).
NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]*\Z')

# Parameters whose value is text, a command line or a character set, where a comma or
# a blank is part of the value and not a list separator.
FREE_TEXT_NAMES = frozenset([
    'debugger_command',
    'default_rbl_reply',
    'local_command_shell',
    'mail_name',
    'mailbox_command',
    'message_reject_characters',
    'message_strip_characters',
    'milter_macro_v',
    'smtpd_banner',
    'smtpd_policy_service_default_action',
    'smtpd_reject_footer',
    'undisclosed_recipients_header',
    'unverified_recipient_reject_reason',
    'unverified_sender_reject_reason',
])
# ... and every name with one of these endings (postscreen_greet_banner,
# postscreen_reject_footer, *_expansion_filter, user-defined submission_banner...).
FREE_TEXT_SUFFIXES = (
    '_banner',
    '_characters',
    '_command',
    '_default_action',
    '_expansion_filter',
    '_footer',
    '_reason',
    '_reply',
    '_shell',
)

_UNKNOWN_RE = re.compile(r'^(?P<name>\S+): unknown parameter$')
_UNDEFINED_RE = re.compile(r'^(?P<where>.+): undefined parameter: (?P<name>\S+)$')
_UNUSED_RE = re.compile(r'^(?P<where>.+?): unused parameter: (?P<name>[^=\s]+)=(?P<value>.*)$')
_OVERRIDING_RE = re.compile(
    r'^(?P<where>.+?), line (?P<line>\d+): overriding earlier entry: (?P<name>[^=\s]+)=(?P<value>.*)$')
_MULTIPLE_RE = re.compile(r'^(?P<where>.+): multiple entries for "(?P<name>[^"]+)"$')
# "missing '=' after attribute name: "LINE"" and the like quote a whole line of a
# configuration file: in a mysql client file that line may be a password.
_QUOTED_LINE_RE = re.compile(r'^(?P<head>.*(?:attribute name|missing attribute name)[^"]*): ".*"$')


class PostconfError(Exception):
    """Bad input: the message is meant for the user."""


class Message(object):
    """One postconf diagnostic, classified, with any configuration value removed."""

    __slots__ = ('level', 'kind', 'name', 'where', 'value', 'text')

    def __init__(self, level, kind, text, name=None, where=None, value=None):
        self.level = level
        self.kind = kind
        self.text = text
        self.name = name
        self.where = where
        self.value = value

    def __repr__(self):
        return 'Message(%r, %r, %r)' % (self.level, self.kind, self.text)


def classify(diagnostic):
    """Turn a postfix_cli.Diagnostic into a Message whose ``text`` is safe to show.

    ``value`` keeps the raw value of ``unused parameter`` lines (only used internally,
    for main.cf names postconf does not know); ``text`` never carries a value.
    """
    level, text = diagnostic.level, diagnostic.text
    match = _UNKNOWN_RE.match(text)
    if match:
        return Message(level, 'unknown', text, name=match.group('name'))
    match = _UNDEFINED_RE.match(text)
    if match:
        return Message(level, 'undefined', text, name=match.group('name'), where=match.group('where'))
    match = _UNUSED_RE.match(text)
    if match:
        return Message(level, 'unused', '%s: unused parameter: %s (value not shown)'
                       % (match.group('where'), match.group('name')),
                       name=match.group('name'), where=match.group('where'), value=match.group('value'))
    match = _OVERRIDING_RE.match(text)
    if match:
        return Message(level, 'overriding', '%s, line %s: overriding earlier entry: %s (value not shown)'
                       % (match.group('where'), match.group('line'), match.group('name')),
                       name=match.group('name'), where=match.group('where'))
    match = _MULTIPLE_RE.match(text)
    if match:
        return Message(level, 'multiple', text, name=match.group('name'), where=match.group('where'))
    match = _QUOTED_LINE_RE.match(text)
    if match:
        return Message(level, 'other', '%s: "%s"' % (match.group('head'), REDACTED))
    return Message(level, 'other', text)


def sanitize(stderr):
    """postconf's stderr with every configuration value hidden, as a list of lines."""
    lines = []
    for message in (classify(d) for d in parse_diagnostics(stderr)):
        line = message.text if message.level == 'info' else '%s: %s' % (message.level, message.text)
        if line not in lines:  # postconf 3.7 repeats "overriding" lines once per lookup
            lines.append(line)
    return lines


def is_main_cf(where):
    """Whether a diagnostic's location is a main.cf (not ``mysql:/x/main.cf``)."""
    return (where is not None and os.path.basename(where) == 'main.cf'
            and not re.match(r'^[A-Za-z0-9_]+:', where))


def main_cf_path(config_dir=None, environ=None):
    """The main.cf that postconf edits: -c DIR, else $MAIL_CONFIG, else /etc/postfix."""
    if not config_dir:
        config_dir = (environ or {}).get('MAIL_CONFIG') or DEFAULT_CONFIG_DIR
    return os.path.join(config_dir, 'main.cf')


def validate_name(name):
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise PostconfError('invalid Postfix parameter name %r: use letters, digits, "_", "-" and "."'
                            % (name,))
    return name


def _render_scalar(name, value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    if value is None:
        raise PostconfError('%s: the value is null; use "" for an empty value or state=absent to '
                            'remove the setting' % name)
    raise PostconfError('%s: a value must be a string, a number, a boolean or a list of those, not %s'
                        % (name, type(value).__name__))


def render_value(name, value):
    """The main.cf text of a value: yes/no for booleans, ", " between list items.

    Leading and trailing blanks are dropped (Postfix drops them too). A newline or a
    carriage return is refused: main.cf cannot hold one, and postconf refuses it.
    """
    if isinstance(value, (list, tuple)):
        items = [_render_scalar(name, item) for item in value]
    else:
        items = [_render_scalar(name, value)]
    # Checked before stripping: a trailing newline (a file read with lookup('file'),
    # a YAML block scalar) is refused too, rather than silently dropped.
    if any('\n' in item or '\r' in item for item in items):
        raise PostconfError('%s: a main.cf value cannot contain a newline or a carriage return' % name)
    return ', '.join(item.strip() for item in items).strip()


def is_free_text(name, extra=()):
    """Whether commas and blanks are part of the value of ``name`` (see FREE_TEXT_NAMES)."""
    return name in FREE_TEXT_NAMES or name in extra or name.endswith(FREE_TEXT_SUFFIXES)


def split_list(value):
    """Split a list value the way Postfix does: on commas and blanks, outside ``{...}``.

    Empty items vanish. A ``{ ... }`` group (``check_policy_service { inet:..., timeout=10s }``,
    ``inline:{ a=b, c=d }``, ``${name?{text}}``, ``${{$x} < {1} ? {a} : {b}}``) stays one
    item, with its blanks collapsed but its commas kept: its inside is compared as text.
    """
    items = []
    current = []
    depth = 0
    for char in value:
        if char == '{':
            depth += 1
        elif char == '}' and depth:
            depth -= 1
        elif not depth and (char == ',' or char.isspace()):
            if current:
                items.append(''.join(current))
                current = []
            continue
        current.append(char)
    if current:
        items.append(''.join(current))
    return [' '.join(item.split()) for item in items]


def comparison_key(name, value, free_text=()):
    """What decides whether two values of ``name`` are the same setting.

    Lists compare item by item, in order (``a, b`` == ``a,b`` == ``a b``). Free-text
    parameters compare as text with blank runs collapsed: postconf -n prints them so, and
    cannot show more.
    """
    if value is None:
        return None
    if is_free_text(name, free_text):
        return ('text', ' '.join(value.split()))
    return ('list', tuple(split_list(value)))


def values_equal(name, first, second, free_text=()):
    return comparison_key(name, first, free_text) == comparison_key(name, second, free_text)


def base_argv(postconf, config_dir=None):
    argv = [postconf]
    if config_dir:
        argv.extend(['-c', config_dir])
    return argv


def expanded_value_argv(postconf, name, config_dir=None):
    """``postconf [-c DIR] -x -h NAME``: the value of NAME as the host's Postfix uses it.

    -h prints the value alone (the default when main.cf does not set it), with runs of
    blanks collapsed; -x expands ``$name`` references recursively (postconf(1): "Expand
    $name in main.cf or master.cf parameter values", Postfix 2.10+), which -h alone does
    not: ``virtual_mailbox_domains = $virtual_mailbox_maps`` would come back as that text.
    Raises PostconfError for a name that is not a parameter name.
    """
    validate_name(name)
    return base_argv(postconf, config_dir) + ['-x', '-h', name]


def read_argv(postconf, names, config_dir=None):
    """One process: explicit values of ``names`` plus unknown-name warnings."""
    return base_argv(postconf, config_dir) + ['-n'] + list(names)


def set_argv(postconf, pairs, config_dir=None):
    """One process and one main.cf rewrite for all ``(name, value)`` pairs."""
    return base_argv(postconf, config_dir) + ['-e'] + ['%s=%s' % pair for pair in pairs]


def remove_argv(postconf, names, config_dir=None):
    return base_argv(postconf, config_dir) + ['-X'] + list(names)


def parse_explicit(stdout):
    """``postconf -n`` output as a dict name -> value (``relayhost =`` is "")."""
    values = {}
    for line in (stdout or '').splitlines():
        line = line.rstrip('\r\n')
        if not line.strip():
            continue
        if ' = ' in line:
            name, value = line.split(' = ', 1)
        elif line.endswith(' ='):
            name, value = line[:-2], ''
        else:
            continue
        values[name.strip()] = value.strip()
    return values


# A mysql table in a parameter's value, read through proxymap or not: the client file's path.
# A mysql table in a main.cf value, also inside unionmap:{...} or pipemap:{...}.
_MYSQL_TABLE_RE = re.compile(r'(?:^|[\s,{])(proxy:)?mysql:(/[^\s,{}]+)')


def mysql_tables(values):
    """[(parameter, client file path, read through proxy:)] of every mysql table that main.cf's
    VALUES name, in the order of the parameters, then of the tables in each value.

    Whatever the files are called (mysql-*.cf, the trixie edition's mariadb-*.cf, others).
    """
    return [(name, path, bool(proxy)) for name in sorted(values)
            for proxy, path in _MYSQL_TABLE_RE.findall(values[name] or '')]


def mysql_client_files(values):
    """{client file path: sorted names of the parameters naming it}, from main.cf's values."""
    files = {}
    for name, path, _proxy in mysql_tables(values):
        files.setdefault(path, set()).add(name)
    return dict((path, sorted(names)) for path, names in files.items())


class CurrentState(object):
    """What one ``postconf -n NAME...`` run says about the requested names.

    values: name -> value for every requested name main.cf sets (known or not);
    unknown: requested names postconf does not know (in request order);
    duplicates: requested names main.cf sets more than once;
    other: sanitized warnings about everything else.
    """

    def __init__(self, values, unknown, duplicates, other):
        self.values = values
        self.unknown = unknown
        self.duplicates = duplicates
        self.other = other


def parse_current(names, stdout, stderr):
    requested = set(names)
    values = {}
    for name, value in parse_explicit(stdout).items():
        if name in requested:
            values[name] = value
    unknown = set()
    referenced = set()
    duplicates = []
    other = []
    for diagnostic in parse_diagnostics(stderr):
        message = classify(diagnostic)
        name = message.name
        if name in requested:
            if message.kind == 'unknown':
                unknown.add(name)
                continue
            if message.kind == 'undefined':
                # Referenced as $NAME somewhere: postconf will know it once it is defined.
                referenced.add(name)
                continue
            if message.kind == 'unused' and is_main_cf(message.where):
                # Set in main.cf, unknown to postconf: the warning is the only place
                # where postconf shows the value.
                values.setdefault(name, ' '.join(message.value.split()))
                continue
            if message.kind in ('overriding', 'multiple') and is_main_cf(message.where):
                if name not in duplicates:
                    duplicates.append(name)
                continue
        line = '%s: %s' % (message.level, message.text)
        if line not in other:
            other.append(line)
    return CurrentState(
        values=values,
        unknown=[n for n in names if n in unknown and n not in referenced],
        duplicates=[n for n in names if n in duplicates],
        other=other,
    )


class Change(object):
    __slots__ = ('name', 'before', 'after')

    def __init__(self, name, before, after):
        self.name = name
        self.before = before
        self.after = after

    def __eq__(self, other):
        return isinstance(other, Change) and (self.name, self.before, self.after) == (
            other.name, other.before, other.after)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return 'Change(%r, %r, %r)' % (self.name, self.before, self.after)


def plan_present(desired, current, free_text=()):
    """Changes to make so that main.cf sets each (name, text) of ``desired``."""
    changes = []
    for name, text in desired:
        before = current.values.get(name)
        if before is None or not values_equal(name, before, text, free_text):
            changes.append(Change(name, before, text))
    return changes


def plan_absent(names, current):
    """Changes to make so that main.cf sets none of ``names``."""
    return [Change(name, current.values[name], None) for name in names if name in current.values]


def changes_dict(changes):
    return dict((c.name, {'before': c.before, 'after': c.after}) for c in changes)


def diff_text(changes):
    """main.cf lines of the changed names only, before and after."""
    before = ''.join(main_cf_line(c.name, c.before) for c in changes if c.before is not None)
    after = ''.join(main_cf_line(c.name, c.after) for c in changes if c.after is not None)
    return before, after


def main_cf_line(name, value):
    """``name = value`` as postconf writes it (``relayhost =`` when empty)."""
    return ('%s = %s' % (name, value)).rstrip() + '\n'


def normalize_request(settings, name, value, state):
    """Validate the module's input; return an ordered list of (name, text) or names.

    For state=present: [(name, rendered text), ...]; for absent: [name, ...]. A name
    given twice keeps its last value (as postconf does), at its first position.
    """
    if settings is None:
        if name is None:
            raise PostconfError('one of settings or name is required')
        settings = {name: value} if state == 'present' else [name]
        if state == 'present' and value is None:
            raise PostconfError('%s: value is required with state=present' % name)
    if state == 'absent':
        if isinstance(settings, dict):
            names = list(settings)
        elif isinstance(settings, (list, tuple)):
            names = list(settings)
        elif isinstance(settings, str):
            names = [settings]
        else:
            raise PostconfError('settings must be a mapping or, with state=absent, a list of names')
        result = []
        for item in names:
            validate_name(item)
            if item not in result:
                result.append(item)
        return result
    if not isinstance(settings, dict):
        raise PostconfError('settings must be a mapping of parameter name to value with state=present')
    order = []
    texts = {}
    for item, item_value in settings.items():
        validate_name(item)
        texts[item] = render_value(item, item_value)
        if item not in order:
            order.append(item)
    return [(item, texts[item]) for item in order]


# ---------------------------------------------------------------- the runner

# Where Debian and source installs put postconf; PATH of a become shell may lack /usr/sbin.
SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin']


class PostconfRunner(object):
    """The one way this collection's modules run postconf(1).

    Every call is an argument list for one configuration directory (``-c DIR`` when
    given, else postconf's own default or $MAIL_CONFIG), in the C locale; a failure
    fails the module with postconf's message, every configuration value removed from
    it (see sanitize()). The argument formats are the *_argv functions above.
    """

    def __init__(self, module, config_dir=None, required=True):
        self.module = module
        self.config_dir = config_dir
        self.binary = module.get_bin_path('postconf', opt_dirs=SBIN_DIRS)
        if self.binary is None and required:
            module.fail_json(msg='postconf not found: is Postfix installed on %s? (looked in PATH, /sbin, '
                                 '/usr/sbin and /usr/local/sbin)' % (platform.node() or 'this host'))

    def argv(self, *args):
        return base_argv(self.binary, self.config_dir) + list(args)

    def run(self, argv, what, check=True, failure_result=None):
        """(rc, stdout, stderr); with check, a non-zero exit fails the module, with
        failure_result's keys in the result (its msg_prefix before the message)."""
        rc, stdout, stderr = self.module.run_command(argv, environ_update=C_LOCALE_ENV)
        if check and rc != 0:
            lines = sanitize(stderr)
            # The message quotes what made postconf fail; the warnings stay in stderr.
            fatal = [line for line in lines if line.split(':', 1)[0] in ('fatal', 'panic', 'error')]
            extra = dict(failure_result or {})
            prefix = extra.pop('msg_prefix', None)
            msg = 'postconf failed to %s (rc=%s): %s' % (what, rc, '; '.join(fatal or lines) or 'no message')
            self.module.fail_json(msg='%s: %s' % (prefix, msg) if prefix else msg,
                                  rc=rc, cmd=argv, stderr='\n'.join(lines), **extra)
        return rc, stdout, stderr

    def value(self, name):
        """``postconf -h NAME``: the value in effect (the default when unset), or None
        when postconf does not answer for the configuration directory."""
        rc, stdout, _stderr = self.run(self.argv('-h', name), 'read %s' % name, check=False)
        return stdout.strip() if rc == 0 else None

    def read(self, names):
        """CurrentState of the explicit settings of NAMES (see parse_current)."""
        argv = read_argv(self.binary, names, self.config_dir)
        _rc, stdout, stderr = self.run(argv, 'read %s from %s' % (', '.join(names), self.main_cf))
        return parse_current(names, stdout, stderr)

    def chrooted_map_readers(self, check=True):
        """The chrooted services that read maps (see postfix_cli.chrooted_map_readers);
        without check, [] when postconf does not answer."""
        _rc, fields, _stderr = self.run(self.argv('-F', '*/*/chroot', '*/*/command'), 'read master.cf', check=check)
        return chrooted_map_readers(fields)

    def master_field(self, service, field):
        """``postconf -F SERVICE/FIELD``: one field of a master.cf service (such as
        ``proxymap/unix`` and ``process_limit``), or None when master.cf has no such service."""
        _rc, stdout, _stderr = self.run(self.argv('-F', '%s/%s' % (service, field)), 'read master.cf')
        for line in stdout.splitlines():
            name, sep, value = line.partition(' = ')
            if sep and name.strip() == '%s/%s' % (service, field):
                return value.strip()
        return None

    def set_master_field(self, service, field, value):
        """``postconf -F SERVICE/FIELD=VALUE``: master.cf rewritten through a temporary file, as for -e."""
        self.run(self.argv('-F', '%s/%s=%s' % (service, field, value)), 'set %s/%s in master.cf' % (service, field))

    def explicit(self):
        """Every explicit main.cf setting, name -> value (``postconf -n``)."""
        _rc, stdout, _stderr = self.run(self.argv('-n'), 'read %s' % self.main_cf)
        return parse_explicit(stdout)

    def master_lines(self):
        """master.cf, one service a line, as ``postconf -M`` prints it (overrides included)."""
        _rc, stdout, _stderr = self.run(self.argv('-M'), 'read master.cf')
        return [line for line in stdout.splitlines() if line.strip()]

    def write(self, changes, failure_result=None):
        """Apply a plan: one ``postconf -e`` for the values, one ``-X`` for the removals.
        Returns postconf's warnings, sanitized; see run() for failure_result."""
        warnings = []
        present = [(c.name, c.after) for c in changes if c.after is not None]
        absent = [c.name for c in changes if c.after is None]
        if present:
            _rc, _out, stderr = self.run(set_argv(self.binary, present, self.config_dir),
                                         'set %s in %s' % (', '.join(n for n, _v in present), self.main_cf),
                                         failure_result=failure_result)
            warnings.extend(sanitize(stderr))
        if absent:
            _rc, _out, stderr = self.run(remove_argv(self.binary, absent, self.config_dir),
                                         'remove %s from %s' % (', '.join(absent), self.main_cf),
                                         failure_result=failure_result)
            warnings.extend(sanitize(stderr))
        return warnings

    @property
    def main_cf(self):
        return main_cf_path(self.config_dir, os.environ)
