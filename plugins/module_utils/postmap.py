# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask Postfix tables with ``postmap -q -``, for the postmap_query module and the postmap lookup.

What real Postfix does (Debian 12, Postfix 3.7, MariaDB 10.11), and what this file relies on:

- ``postmap -q - TYPE:NAME`` reads keys from stdin, one a line, and prints
  ``key<TAB>value`` for each key found, in input order, with the key exactly as it was
  given (case kept, a duplicate key printed twice). Keys not found print nothing.
  Several result rows come back joined with commas.
- Exit status: 0 when at least one key was found, 1 when none was found AND when the
  table is broken. Only stderr (``postmap: fatal: ...``, after a one-second sleep)
  tells the two apart.
- A fatal error in the middle of a batch loses every answer printed before it (stdout
  is a buffered pipe and is not flushed): a broken table means the whole batch failed.
- An empty input line is skipped with ``warning: table "...": empty query string --
  ignored``; a key with a newline cannot be sent at all. Both are refused here.

One place for: the process runner (tests replace it), chunking, parsing of stdout,
classification of stderr, reading of the mysql_table(5) client file (hosts, password),
redaction of the password from every message, and the tables a main.cf parameter
lists on the host (``postconf -x -h NAME``, split the way Postfix splits it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import threading

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    classify as classify_postconf_message,
    sanitize as sanitize_postconf_stderr,
    split_list,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import (
    C_LOCALE_ENV,
    parse_diagnostics,
    redact,
)

# Below this many keys per process, a second process costs more than it saves.
MIN_KEYS_PER_PROCESS = 100
# Each postmap process is one more database connection: stay far below
# MariaDB's default max_connections (151) even on a big machine.
MAX_PARALLEL = 8
DEFAULT_TIMEOUT = 120

# Table types whose name is a client configuration file (with hosts and a password).
CLIENT_FILE_TYPES = ('mysql', 'pgsql', 'ldap', 'sqlite', 'memcache', 'mongodb')
# Table types whose name is a list of other tables: unionmap:{a, b}, pipemap:{a, b}.
COMPOSITE_TYPES = ('unionmap', 'pipemap')
# Debian splits map types into packages: the hint for "unsupported dictionary type".
DEBIAN_MAP_PACKAGES = {
    'mysql': 'postfix-mysql',
    'pgsql': 'postfix-pgsql',
    'ldap': 'postfix-ldap',
    'sqlite': 'postfix-sqlite',
    'lmdb': 'postfix-lmdb',
    'cdb': 'postfix-cdb',
    'pcre': 'postfix-pcre',
    'mongodb': 'postfix-mongodb',
}
# Client file keys that hold a secret, and (second line of defence) any key whose name
# looks like one, misspellings included: Postfix echoes misparsed values in its errors.
SECRET_KEYS = ('password', 'bind_pw')
_SECRET_NAME_RE = re.compile(r'pass|pasw|pwd|(^|_)pw$|secret', re.IGNORECASE)
_ASSIGNMENT_RE = re.compile(r'^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$')


class PostmapError(Exception):
    """A table could not be asked. str() is the full, already redacted, message.

    kind is one of: refused (bad input), exec (postmap cannot be started), timeout,
    unsupported_type, missing_file, unreadable, config, tls, access_denied, connect, query,
    failed (any other fatal error); and for the tables of a main.cf parameter (see
    parameter_tables): postconf, unknown_parameter, empty_parameter, not_a_table.
    """

    def __init__(self, message, kind='failed', table=None, hosts=None, postfix_messages=None):
        super(PostmapError, self).__init__(message)
        self.message = message
        self.kind = kind
        self.table = table
        self.hosts = hosts
        self.postfix_messages = postfix_messages or []


class ProcessResult(object):
    """What one postmap process left: exit status, stdout, stderr (text)."""

    __slots__ = ('rc', 'stdout', 'stderr', 'timed_out')

    def __init__(self, rc, stdout, stderr, timed_out=False):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out

    def __repr__(self):
        return 'ProcessResult(%r, %r, %r, %r)' % (self.rc, self.stdout, self.stderr, self.timed_out)


class PostmapRunner(object):
    """Run several commands at once, each fed its own stdin; argv lists only, C locale.

    run(jobs) takes a list of (argv, stdin_text) and returns one ProcessResult per job,
    in the same order. Unit tests replace this class.

    The modules (postmap_query, and the one that validates new client files) and the
    postmap lookup all use this one runner, so it lives here and not under plugin_utils/:
    AnsibleModule.run_command runs one process at a time, and the modules need several
    postmap processes at once, each fed its own stdin, exactly as the lookup does on the
    controller.
    """

    def __init__(self, timeout=DEFAULT_TIMEOUT, environ=None):
        self.timeout = timeout
        env = dict(os.environ if environ is None else environ)
        env.update(C_LOCALE_ENV)
        self.env = env

    def _start(self, argv):
        # Several `postmap -q -` processes are fed and read at once, and the lookup runs
        # on the controller without an AnsibleModule: run_command can do neither.
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                                stderr=subprocess.PIPE, env=self.env, close_fds=True)

    def _finish(self, proc, data, results, index):
        timed_out = False
        try:
            out, err = proc.communicate(data, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            out, err = proc.communicate()
        results[index] = ProcessResult(proc.returncode, _decode(out), _decode(err), timed_out)

    def run(self, jobs):
        procs = []
        try:
            for argv, data in jobs:
                procs.append(self._start(argv))
        except OSError as exc:
            for proc in procs:
                proc.kill()
                proc.wait()
            raise PostmapError('cannot run %s: %s' % (jobs[len(procs)][0][0], exc), kind='exec')
        results = [None] * len(procs)
        inputs = [data.encode('utf-8') for argv, data in jobs]
        if len(procs) == 1:
            self._finish(procs[0], inputs[0], results, 0)
            return results
        threads = [threading.Thread(target=self._finish, args=(proc, inputs[i], results, i))
                   for i, proc in enumerate(procs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results


def _decode(data):
    # Keys went out as UTF-8; a value in another encoding must not break the parse.
    return data.decode('utf-8', 'replace') if data is not None else ''


# ---------------------------------------------------------------- input checks

def is_sendable_key(key):
    """Whether postmap -q - can take KEY as one line. Blanks around a key come from "a, b"
    split on commas; postmap would look the blank up literally and answer "not found",
    hiding the typo."""
    return key != '' and key == key.strip() and not any(c in key for c in '\n\r\t\0')


def validate_keys(keys):
    """Return the keys as a list of text, or raise PostmapError (kind refused)."""
    bad = []
    checked = []
    for key in keys:
        if key is None:
            key = ''
        if not isinstance(key, str):
            key = str(key)
        if not is_sendable_key(key):
            bad.append(key)
        checked.append(key)
    if bad:
        raise PostmapError(
            'refused key(s) %s: postmap reads one key a line and answers key<TAB>value, so a '
            'key cannot be empty, start or end with a blank (write a YAML list, or no blank '
            'after the commas) or contain a newline, carriage return, TAB or NUL byte'
            % ', '.join(repr(k) for k in bad),
            kind='refused')
    return checked


def validate_table(table):
    """Refuse what postmap would misread: empty names, options, newlines."""
    if not isinstance(table, str) or not table.strip():
        raise PostmapError('refused table %r: give a Postfix table as type:name, '
                           'for example mysql:/etc/postfix/mysql-virtual-alias-maps.cf' % (table,),
                           kind='refused')
    if table.startswith('-') or '\n' in table or '\0' in table:
        raise PostmapError('refused table %r: a table cannot start with "-" or contain a newline'
                           % (table,), kind='refused', table=table)
    return table


def unique(keys):
    """Keys in first-seen order, each once."""
    seen = set()
    out = []
    for key in keys:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


# ---------------------------------------------------------------- client files

def parse_client_file(text):
    """Parse main.cf syntax (mysql_table(5) client files). Returns (settings, secrets).

    ``#`` starts a comment only as the first non-blank character; a line that starts
    with whitespace continues the previous logical line (appended as it is, like Postfix
    does, which is how a mis-indented ``password`` line ends up inside the ``user``
    value and in Postfix's "Access denied for user ..." message). secrets holds the
    value of every secret-looking key, also when it sits on a continuation line.

    Lines end at '\n' only, as Postfix reads them: str.splitlines() would also end one at
    a U+2028 or a form feed inside a password, and the mask would miss the rest of it.
    """
    logical = []
    secrets = set()
    for raw in text.split('\n'):
        stripped = raw.strip()
        if not stripped or stripped.startswith('#'):
            continue
        match = _ASSIGNMENT_RE.match(raw)
        if match and _SECRET_NAME_RE.search(match.group(1)) and match.group(2):
            secrets.add(match.group(2))
        if raw[:1].isspace() and logical:
            logical[-1] += raw
        else:
            logical.append(raw)
    settings = {}
    for line in logical:
        match = _ASSIGNMENT_RE.match(line)
        if not match:
            continue
        name, value = match.group(1), match.group(2)
        settings[name] = value
        if (name in SECRET_KEYS or _SECRET_NAME_RE.search(name)) and value:
            secrets.add(value)
    return settings, secrets


def shown_settings(text):
    """A client file's settings fit to show, and its secrets: (settings, secrets). The keys
    that look secret are left out, and a secret that sits in another value (a mis-indented
    password line continues the one before it) is masked there."""
    settings, secrets = parse_client_file(text)
    return dict((name, redact(value, secrets)) for name, value in settings.items()
                if name not in SECRET_KEYS and not _SECRET_NAME_RE.search(name)), secrets


def redact_client_file(text, secrets=()):
    """A client file's text fit to show: the value of every secret-looking key masked,
    continuation lines included, then any known secret masked wherever it occurs."""
    _settings, found = parse_client_file(text)
    return redact(text, set(found) | set(secrets))


def split_table(table):
    """'proxy:mysql:/x.cf' -> ('mysql', '/x.cf'); a bare name has type None."""
    rest = direct_table(table)
    if ':' not in rest:
        return None, rest
    map_type, name = rest.split(':', 1)
    return map_type, name


class TableInfo(object):
    """A table and what its client file says: hosts to name in errors, secrets to hide."""

    def __init__(self, table, map_type=None, path=None, hosts=None, secrets=None, readable=None, note=None):
        self.table = table
        self.map_type = map_type
        self.path = path
        self.hosts = hosts
        self.secrets = secrets or set()
        self.readable = readable
        self.note = note

    def describe_hosts(self):
        if self.hosts:
            return ', '.join(self.hosts)
        return self.note or 'unknown'


def table_info(table, reader=None):
    """Read the client file of a database table (when it is one, and readable).

    For unionmap:{...} and pipemap:{...} the client files of the tables inside are read:
    their hosts are named and their passwords hidden like those of a table asked alone.
    """
    map_type, name = split_table(table)
    info = TableInfo(table, map_type=map_type)
    if map_type in COMPOSITE_TYPES and name.startswith('{') and name.endswith('}'):
        members = [table_info(member, reader=reader) for member in split_list(name[1:-1])]
        for member in members:
            info.secrets |= member.secrets
        info.hosts = unique(host for member in members for host in member.hosts or [])
        return info
    if map_type not in CLIENT_FILE_TYPES or not name.startswith('/'):
        return info
    info.path = name
    try:
        if reader is not None:
            text = reader(name)
        else:
            with open(name, 'rb') as handle:
                text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError, ValueError) as exc:
        info.readable = False
        info.note = 'unknown, client file not readable: %s' % (getattr(exc, 'strerror', None) or exc)
        return info
    info.readable = True
    settings, secrets = parse_client_file(text)
    info.secrets = secrets
    if map_type == 'ldap':
        hosts = settings.get('server_host', 'localhost')
    elif map_type == 'sqlite':
        hosts = settings.get('dbpath', '')
    else:
        hosts = settings.get('hosts', '')
        if not hosts.strip():
            info.note = 'localhost (default, the UNIX socket)'
    info.hosts = [h for h in re.split(r'[\s,]+', hosts) if h]
    return info


# ---------------------------------------------------------------- stdout and stderr

def split_chunks(keys, parallel=None, min_per_process=MIN_KEYS_PER_PROCESS):
    """Split keys into contiguous chunks (order kept) for concurrent processes.

    parallel None or 0 means automatic: the number of CPUs, at most MAX_PARALLEL.
    Every process gets at least min_per_process keys, so fewer keys use fewer processes
    (with the defaults: 1 process below 200 keys).
    """
    if not parallel:
        parallel = min(os.cpu_count() or 1, MAX_PARALLEL)
    count = max(1, min(int(parallel), len(keys) // max(1, min_per_process)))
    size, extra = divmod(len(keys), count)
    chunks = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        chunks.append(keys[start:end])
        start = end
    return [chunk for chunk in chunks if chunk]


def parse_answers(keys, stdout):
    """Map postmap's ``key<TAB>value`` lines back onto the keys that were sent.

    Lines come in input order for found keys only, with the key as sent (keys with a TAB
    are refused, so the first TAB ends the key). Matching walks the sent keys in order; a
    line that matches no later key (a value with a newline) continues the last value.
    Returns {key: value} for the found keys.
    """
    answers = {}
    position = 0
    last = None
    for line in stdout.split('\n'):
        if line == '' and last is None:
            continue
        index = position
        while index < len(keys) and not line.startswith(keys[index] + '\t'):
            index += 1
        if index < len(keys):
            key = keys[index]
            answers[key] = line[len(key) + 1:]
            last = key
            position = index + 1
        elif last is not None:
            answers[last] += '\n' + line
    if last is not None and answers[last].endswith('\n'):
        answers[last] = answers[last][:-1]
    return answers


_CLASSES = (
    # (kind, pattern in any diagnostic text, what to do)
    ('unsupported_type', re.compile(r'unsupported dictionary type: (?P<type>\S+)'), None),
    # Before connect: a failed TLS handshake is reported as "connect to mysql server HOST: TLS/SSL error: ...".
    ('tls', re.compile(r'TLS/SSL error|SSL connection error|SSL is required'),
     'the TLS connection to the database failed: the server certificate must be signed by the CA in tls_CAfile '
     'and name the host as written in hosts (tls_verify_cert), and the server must have TLS configured'),
    ('access_denied', re.compile(r'Access denied(?: for user|, this account is locked)'),
     'the database refused the login: check user, password and the account\'s host in the GRANT (and that '
     'the account is not locked; an account that REQUIRE SSL also refuses a client file without tls_CAfile)'),
    ('connect', re.compile(r'connect to \w+ server|Can\'t connect to|Connection refused|Unknown (MySQL|MariaDB) server host'),
     'the database server cannot be reached: is it running, and do hosts name the right address and port?'),
    ('query', re.compile(r'query failed:'),
     'the database rejected the SQL: check the query (table and column names, quoting)'),
    ('config', re.compile(r'open \S*/main\.cf: '),
     'the Postfix configuration directory is wrong or unreadable'),
    ('unreadable', re.compile(r'^open (database )?\S+: Permission denied'),
     'the table cannot be read by this user: run as root (become: true) or as a member of group postfix'),
    ('missing_file', re.compile(r'^open (database )?\S+: No such file or directory'),
     'the table\'s file does not exist (for hash/lmdb/cdb maps, run postmap on the source file)'),
)


def classify(diagnostics):
    """Return (kind, hint) for a broken table, from its diagnostics."""
    for kind, pattern, hint in _CLASSES:
        for diag in diagnostics:
            match = pattern.search(diag.text)
            if not match:
                continue
            if kind == 'unsupported_type':
                map_type = match.group('type').rstrip('.')
                package = DEBIAN_MAP_PACKAGES.get(map_type)
                hint = 'this Postfix has no support for %s tables' % map_type
                if package:
                    hint += ': install the %s package' % package
            return kind, hint
    return 'failed', None


def is_failure(result):
    """A postmap run failed when it timed out, died, exited >1 or said fatal/panic."""
    if result.timed_out or result.rc is None or result.rc < 0 or result.rc > 1:
        return True
    return any(d.level in ('fatal', 'panic') for d in parse_diagnostics(result.stderr))


def table_error(info, results, secrets=()):
    """Build the PostmapError for a table from the failed results of its processes."""
    diagnostics = []
    for result in results:
        if is_failure(result):
            for diag in parse_diagnostics(result.stderr):
                if diag not in diagnostics:
                    diagnostics.append(diag)
    if any(r.timed_out for r in results):
        kind, hint = 'timeout', 'postmap did not finish in time (a database host that drops packets?)'
    else:
        kind, hint = classify(diagnostics)
    all_secrets = set(secrets) | set(info.secrets)
    message = 'postmap cannot query table %s' % info.table
    if info.map_type in CLIENT_FILE_TYPES or info.hosts:
        message += ' (database host(s): %s)' % info.describe_hosts()
    if hint:
        message += ': %s' % hint
    if not message.endswith(('.', '?')):
        message += '.'
    lines = [d.text if d.level == 'info' else '%s: %s' % (d.level, d.text) for d in diagnostics]
    if lines:
        message += '\nPostfix said:\n' + '\n'.join('  ' + line for line in lines)
    else:
        rcs = sorted(set(str(r.rc) for r in results if is_failure(r)))
        message += '\npostmap exited with status %s and printed nothing on stderr.' % ', '.join(rcs)
    return PostmapError(redact(message, all_secrets), kind=kind, table=redact(info.table, all_secrets),
                        hosts=[redact(h, all_secrets) for h in info.hosts or []],
                        postfix_messages=[redact(line, all_secrets) for line in lines])


def warnings_of(results, secrets=()):
    """Non-fatal diagnostics of successful runs, once each, redacted."""
    out = []
    for result in results:
        for diag in parse_diagnostics(result.stderr):
            if diag.level in ('fatal', 'panic'):
                continue
            line = redact('postmap %s: %s' % (diag.level, diag.text), secrets)
            if line not in out:
                out.append(line)
    return out


# ---------------------------------------------------------------- the query

def build_argv(postmap, table, config_dir=None):
    argv = [postmap]
    if config_dir:
        argv += ['-c', config_dir]
    argv += ['-q', '-', table]
    return argv


class QueryResult(object):
    """answers: {key: value or None} in key order; answered_by: {key: table} for found keys."""

    def __init__(self, keys):
        self.keys = keys
        self.answers = dict((key, None) for key in keys)
        self.answered_by = {}
        self.warnings = []
        self.secrets = set()
        self.processes = 0

    @property
    def found(self):
        return len(self.answered_by)

    @property
    def missing(self):
        return len(self.keys) - len(self.answered_by)


def query_tables(postmap, tables, keys, config_dir=None, parallel=None, runner=None,
                 timeout=DEFAULT_TIMEOUT, reader=None):
    """Ask tables in order, first hit wins: keys found in one table are not asked of the next.

    All keys of one table go to one ``postmap -q -`` process, or to a few concurrent ones
    (see split_chunks); the answers are the same either way. Raises PostmapError.
    """
    if isinstance(tables, str):
        tables = [tables]
    tables = [validate_table(t) for t in tables]
    if not tables:
        raise PostmapError('no table to query', kind='refused')
    if parallel is not None and int(parallel) < 0:
        raise PostmapError('parallel must be 0 (automatic) or a positive number', kind='refused')
    keys = unique(validate_keys(keys))
    runner = runner if runner is not None else PostmapRunner(timeout=timeout)
    infos = [table_info(t, reader=reader) for t in tables]
    result = QueryResult(keys)
    for info in infos:
        result.secrets |= info.secrets
    pending = list(keys)
    for info in infos:
        if not pending:
            break
        argv = build_argv(postmap, info.table, config_dir)
        chunks = split_chunks(pending, parallel)
        results = runner.run([(argv, ''.join(key + '\n' for key in chunk)) for chunk in chunks])
        result.processes += len(chunks)
        if any(is_failure(r) for r in results):
            raise table_error(info, results, result.secrets)
        for chunk, run in zip(chunks, results):
            for key, value in parse_answers(chunk, run.stdout).items():
                result.answers[key] = value
                result.answered_by[key] = info.table
        for warning in warnings_of(results, result.secrets):
            if warning not in result.warnings:
                result.warnings.append(warning)
        pending = [key for key in pending if key not in result.answered_by]
    return result


def ask_each_table(postmap, keys_by_table, config_dir=None, parallel=None, runner=None,
                   timeout=DEFAULT_TIMEOUT):
    """Ask every table of {table: [keys]} for all of its keys, every table at once (each
    with its own processes, see split_chunks), and return {table: {key: value}} for the keys
    found. Unlike query_tables, a key found in one table is still asked of the others.

    A ``proxy:`` table is asked directly (``proxy:mysql:/x.cf`` as ``mysql:/x.cf``): the
    answers are the same as through proxymap, which opens the same table, without sending
    every key through its few processes. Keys postmap cannot take (see validate_keys) are
    not sent and count as not found. Raises PostmapError for the first broken table.
    """
    runner = runner if runner is not None else PostmapRunner(timeout=timeout)
    jobs = []
    owners = []
    infos = {}
    for table, keys in keys_by_table.items():
        direct = validate_table(direct_table(table))
        infos[table] = table_info(direct)
        sendable = [key for key in unique(keys) if is_sendable_key(key)]
        for chunk in split_chunks(sendable, parallel) if sendable else []:
            jobs.append((build_argv(postmap, direct, config_dir), ''.join(key + '\n' for key in chunk)))
            owners.append((table, chunk))
    results = runner.run(jobs) if jobs else []
    secrets = set()
    for info in infos.values():
        secrets |= info.secrets
    for table in keys_by_table:
        failed = [run for (owner, _chunk), run in zip(owners, results) if owner == table and is_failure(run)]
        if failed:
            raise table_error(infos[table], failed, secrets)
    answers = dict((table, {}) for table in keys_by_table)
    for (table, chunk), run in zip(owners, results):
        answers[table].update(parse_answers(chunk, run.stdout))
    return answers


def direct_table(table):
    """The table proxymap would open for ``proxy:TYPE:NAME``; other tables unchanged."""
    while table.startswith('proxy:'):
        table = table[len('proxy:'):]
    return table


def check_tables(postmap, tables, key, config_dir=None, runner=None, timeout=DEFAULT_TIMEOUT):
    """Ask every table for one key, all at once (one process each, concurrently), to see
    that they work; whether the key is found does not matter. Raises PostmapError for the
    first broken table in the order given. For validating new client files."""
    tables = [validate_table(t) for t in tables]
    key = validate_keys([key])[0]
    runner = runner if runner is not None else PostmapRunner(timeout=timeout)
    infos = [table_info(t) for t in tables]
    results = runner.run([(build_argv(postmap, info.table, config_dir), key + '\n') for info in infos])
    for info, result in zip(infos, results):
        if is_failure(result):
            raise table_error(info, [result], info.secrets)


# ---------------------------------------------------------------- the tables of a parameter

# An item of a main.cf table list: type:name (mysql:/x.cf, proxy:mysql:/x.cf,
# unionmap:{...}, inline:{...}). A bare name is a domain or a pattern of a match list
# (virtual_mailbox_domains = example.org), not a table postmap can ask.
_TABLE_ITEM_RE = re.compile(r'^[A-Za-z0-9_]+:\S')


def is_table_item(item):
    """Whether an item of a main.cf list is a table (type:name) rather than a name or pattern."""
    return bool(_TABLE_ITEM_RE.match(item))


def parameter_tables(name, rc, stdout, stderr, main_cf='main.cf'):
    """The tables of main.cf parameter NAME, in order, from an expanded_value_argv run (module_utils/postconf.py).

    The value is split the way Postfix splits it (commas and/or blanks, a ``{...}`` group
    such as ``unionmap:{a, b}`` kept whole). Raises PostmapError, with kind:

    - postconf: postconf failed (its messages, configuration values hidden, attached);
    - unknown_parameter: postconf does not know NAME (it warns and still exits 0);
    - empty_parameter: the value is empty on the host, so there is no table to ask;
    - not_a_table: an item is not ``type:name`` (a domain of a domain list).
    """
    messages = sanitize_postconf_stderr(stderr)
    if rc != 0 or any(line.startswith(('fatal:', 'panic:')) for line in messages):
        message = 'postconf cannot read %s from %s (exit status %s)' % (name, main_cf, rc)
        if messages:
            message += '\nPostfix said:\n' + '\n'.join('  ' + line for line in messages)
        raise PostmapError(message, kind='postconf', postfix_messages=messages)
    undefined = []
    for diagnostic in parse_diagnostics(stderr):
        found = classify_postconf_message(diagnostic)
        if found.kind == 'unknown' and found.name == name:
            raise PostmapError(
                '%s is not a parameter the Postfix of this host knows (postconf: "%s: unknown '
                'parameter"): check the name; a parameter of your own is known only once main.cf '
                'or master.cf uses it as $%s' % (name, name, name),
                kind='unknown_parameter', postfix_messages=messages)
        if found.kind == 'undefined':
            undefined.append(found.text)
    tables = split_list(stdout or '')
    if not tables:
        message = ('%s is empty on this host (%s, $name references expanded): it lists no table '
                   'to ask' % (name, main_cf))
        if undefined:
            message += '; postconf warned: ' + '; '.join(undefined)
        raise PostmapError(message, kind='empty_parameter', postfix_messages=messages)
    others = [item for item in tables if not is_table_item(item)]
    if others:
        raise PostmapError(
            '%s on this host is %s: %s %s not a table (type:name) that postmap can ask; '
            'ask the tables of such a list one by one with table or tables'
            % (name, ', '.join(tables), ', '.join(others), 'is' if len(others) == 1 else 'are'),
            kind='not_a_table', postfix_messages=messages)
    return tables


# ---------------------------------------------------------------- expectations

NOT_FOUND = '(not found)'


def _items(value):
    return sorted(item.strip() for item in value.split(','))


def expectation_matches(expected, got):
    """None: must be missing; a list: comma-separated items in any order; else equal text."""
    if expected is None:
        return got is None
    if got is None:
        return False
    if isinstance(expected, (list, tuple)):
        return _items(got) == sorted(str(item).strip() for item in expected)
    return got == str(expected)


def _show_expected(expected):
    if expected is None:
        return NOT_FOUND
    if isinstance(expected, (list, tuple)):
        return 'any order: ' + ','.join(str(item) for item in expected)
    return str(expected)


def mismatches(answers, expect):
    """[(key, expected text, got text)] for every expectation not met."""
    out = []
    for key, expected in expect.items():
        got = answers.get(key)
        if not expectation_matches(expected, got):
            out.append((key, _show_expected(expected), NOT_FOUND if got is None else got))
    return out


def format_table(rows, header=('key', 'expected', 'got')):
    """A small plain-text table."""
    rows = [tuple(str(c).replace('\n', '\\n') for c in row) for row in rows]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = []
    for row in [header, tuple('-' * w for w in widths)] + rows:
        lines.append('  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return '\n'.join(lines)


def redact_answers(answers, secrets):
    """A copy of answers with secrets hidden in keys and values."""
    return dict((redact(key, secrets), redact(value, secrets)) for key, value in answers.items())
