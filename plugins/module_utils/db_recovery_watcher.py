# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reload Postfix as soon as a database host it gave up on answers again.

After a database host failed, Postfix's daemons keep avoiding it although it is back: up
to 3.8 for a fixed 60 seconds (RETRY_CONN_INTV in dict_mysql.c; the retry_interval option
only exists from 3.9), and on every release an smtpd process keeps a failed answer for an
address for 30 seconds (resolve_clnt.c). With one database host that means a minute of
4xx after every restart; with two, a second failure within that minute (the other host)
defers all mail although one host is up. A reload replaces those daemons at once.

This reads Postfix's log once a second. For each database host Postfix reports as
failing, it asks that host (and only it) through a copy of one client file, once a
second, and runs `postfix reload` when one of them answers again (at most once in 2
seconds, and at most once in 10 seconds for the same host). The database is asked
nothing while no failure is reported.

The log is not trusted input: smtpd logs what SMTP clients send, and any local user can
write a line tagged postfix/smtpd. So only journal entries whose trusted fields (set by
journald, not by the sender) show a Postfix daemon are read: _UID root or mail_owner,
_COMM one of the daemons, _SYSTEMD_UNIT Postfix's service, and _EXE, where journald could
read it (not in a container), in daemon_directory. Of those, only messages in Postfix's
own formats, anchored at their start, count; a host that is not in the client file, or a
table that is not a client file of this config directory listing one of its hosts, marks
nothing as failing.

Usage: python3 mailfleet_postfix_db_recovery.py CONFIG_DIR CLIENT_FILE

It runs as a service of its own, with no AnsibleModule and so no run_command: it calls
subprocess directly.

The db_recovery_watch module imports this file only to ship it: it installs the file's
own source on the mail host and runs it there as a systemd service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pwd
import re
import subprocess
import sys
import tempfile
import time

C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}
# What Postfix logs (dict_mysql.c, and the daemons that use a table), from the start of
# the message, so that text a client sent, which Postfix logs after its own words, never
# matches:
#   warning: connect to mysql server 10.0.0.11: Can't connect to server on '10.0.0.11' (115)
#   warning: mysql:/etc/postfix/mysql-x.cf: query failed: Lost connection to server during query
#   warning: proxy:mysql:/etc/postfix/mysql-x.cf lookup error for "john@example.org"
#   warning: virtual_alias_domains: proxy:mysql:/etc/postfix/mysql-x.cf: table lookup problem
HOST_FAILED_RE = re.compile(r'^warning: connect to mysql server (\S+): ')
TABLE_FAILED_RE = re.compile(r'^warning: (?:[a-z0-9_]+: )?(?:proxy:)?mysql:(/[^\s:]+)'
                             r'(?:: query failed: | lookup error for "|: table lookup problem$)')
# The Postfix daemons that read the maps (their executables in daemon_directory). All but
# virtual run as mail_owner.
SERVICES = ('smtpd', 'trivial-rewrite', 'cleanup', 'proxymap', 'virtual')
PROBE_KEY = 'recovery-probe@mailfleet.invalid'
# How often the log is read, and a failing host asked.
POLL_SECONDS = 1.0
PROBE_TIMEOUT = 10
PROBE_STEP_SECONDS = 0.05
# A database that comes and goes gets at most one reload in this many seconds. A host only
# comes back after a new failure report, so there is no storm to damp, only a flapping host.
RELOAD_SECONDS = 2.0
# And the same host at most one in this many: a host that flaps costs a reload per period.
HOST_RELOAD_SECONDS = 10.0
# The service's own RuntimeDirectory (0700), where the probes' copies of the client file go.
RUN_DIR = os.environ.get('RUNTIME_DIRECTORY', '/run/mailfleet-postfix-db-recovery')


def log(text):
    # To systemd's journal, through the service's standard output.
    sys.stdout.write(text + '\n')
    sys.stdout.flush()


def postconf(config_dir, name):
    return subprocess.run(  # pylint: disable=ansible-bad-function
        ['postconf', '-c', config_dir, '-x', '-h', name], env=C_LOCALE, check=True,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()


def client_file(path):
    """(the file's lines, its hosts) - read afresh each time: a run may have changed it.

    Lines end at '\n' only, as Postfix reads them: str.splitlines() would also split at
    characters such as U+2028 inside a password."""
    with open(path) as handle:
        lines = handle.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    hosts = []
    for line in lines:
        key, sep, value = line.partition('=')
        if sep and key.strip() == 'hosts':
            hosts = value.split()
    return lines, hosts


def host_name(entry):
    """The name Postfix logs for a hosts entry: inet:db1:3306 -> db1."""
    if entry.startswith('unix:'):
        return entry[len('unix:'):]
    entry = entry[len('inet:'):] if entry.startswith('inet:') else entry
    if entry.startswith('['):
        return entry[1:].split(']', 1)[0]
    return entry.rsplit(':', 1)[0] if entry.count(':') == 1 else entry


def answering(config_dir, lines, entries):
    """The ENTRIES that answer a lookup through the client file with only them as its host
    (found or not found, but no error), asked all at once. The first answer ends the round:
    postmap waits about a second after a failed connection, and mail waits for the reload,
    not for the hosts still down (they are asked again in the next round).

    The copies hold the password: they are made 0600 in a 0700 directory and removed at once.
    """
    os.makedirs(RUN_DIR, mode=0o700, exist_ok=True)
    asked = []
    try:
        for entry in entries:
            fd, path = tempfile.mkstemp(prefix='probe.', suffix='.cf', dir=RUN_DIR)
            with os.fdopen(fd, 'w') as handle:
                for line in lines:
                    key = line.partition('=')[0].strip()
                    handle.write('hosts = %s\n' % entry if key == 'hosts' else line + '\n')
            proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
                ['postmap', '-c', config_dir, '-q', PROBE_KEY, 'mysql:' + path], env=C_LOCALE,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)
            asked.append((entry, path, proc))
        deadline = time.time() + PROBE_TIMEOUT
        found, waiting = [], list(asked)
        while waiting and not found and time.time() < deadline:
            time.sleep(PROBE_STEP_SECONDS)
            for item in [item for item in waiting if item[2].poll() is not None]:
                waiting.remove(item)
                entry, _path, proc = item
                err = proc.stderr.read()
                if proc.returncode == 0 or (proc.returncode == 1 and not err.strip()):
                    found.append(entry)
        return found
    finally:
        for _entry, path, proc in asked:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
            os.unlink(path)


def known_table(table, config_dir, hosts):
    """Whether TABLE (a path from a log line) is a client file of CONFIG_DIR that lists one
    of HOSTS: only such a table's failure can be about the hosts this service asks."""
    if os.path.dirname(os.path.realpath(table)) != os.path.realpath(config_dir):
        return False
    try:
        _lines, table_hosts = client_file(table)
    except (IOError, OSError, UnicodeDecodeError):
        return False
    return bool(set(table_hosts) & set(hosts))


def note_failure(message, config_dir, path, failing):
    """Add the hosts entries that a Postfix message reports as failing to FAILING,
    {entry: (since when, the message)}: the host it names, or every host for a failed
    lookup in a known table. A message that names no known host or table adds nothing."""
    host = HOST_FAILED_RE.match(message)
    table = TABLE_FAILED_RE.match(message)
    if not (host or table):
        return
    _lines, hosts = client_file(path)
    if host:
        named = [entry for entry in hosts if host_name(entry) == host.group(1)]
    else:
        named = hosts if known_table(table.group(1), config_dir, hosts) else []
    for entry in named:
        if entry not in failing:
            failing[entry] = (time.time(), message.strip()[:300])
            log('%s failed: %s' % (entry, failing[entry][1]))


def journal_matches(config_dir):
    """journalctl matches for the entries of Postfix's daemons only, on fields that journald
    sets itself: _COMM (one of the daemons) and _UID (root or mail_owner). Matches on the
    same field are alternatives, on different fields all required."""
    owner = pwd.getpwnam(postconf(config_dir, 'mail_owner')).pw_uid
    return ['_COMM=%s' % service for service in SERVICES] + ['_UID=0', '_UID=%d' % owner]


# Debian 12's postfix@-.service (and postfix@INSTANCE.service), Debian 13's postfix.service.
POSTFIX_UNIT_RE = re.compile(r'^postfix(?:@[^/]*)?\.service$')


def from_postfix(entry, matches, syslog_name, daemon_directory):
    """Whether a journal entry is Postfix's own: it passes MATCHES (checked again here),
    comes from Postfix's systemd service (a local user cannot run a process in it), from
    DAEMON_DIRECTORY when journald could tell the executable, and carries this instance's
    syslog name."""
    wanted = {}
    for match in matches:
        field, value = match.split('=', 1)
        wanted.setdefault(field, set()).add(value)
    if any(entry.get(field) not in values for field, values in wanted.items()):
        return False
    unit, exe, identifier = entry.get('_SYSTEMD_UNIT'), entry.get('_EXE'), entry.get('SYSLOG_IDENTIFIER')
    if not (isinstance(unit, str) and POSTFIX_UNIT_RE.match(unit)):
        return False
    if exe is not None and not (isinstance(exe, str) and os.path.dirname(exe) == daemon_directory):
        return False
    return isinstance(identifier, str) and identifier.startswith(syslog_name + '/')


def new_messages(matches, syslog_name, daemon_directory, cursor, since):
    """The messages of Postfix's daemons after CURSOR (or since the epoch second SINCE),
    and the new cursor.

    The journal is read afresh each time rather than followed: a follower learns of new
    entries only when journald signals a change, which was seen to lag by tens of seconds.
    """
    argv = ['journalctl', '--output=json', '--no-pager', '--quiet']
    argv += ['--after-cursor=%s' % cursor] if cursor else ['--since=@%d' % since]
    argv += matches
    try:
        out = subprocess.run(  # pylint: disable=ansible-bad-function
            argv, env=C_LOCALE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            universal_newlines=True, timeout=30, check=False).stdout
    except subprocess.TimeoutExpired:
        return [], cursor
    messages = []
    for line in out.split('\n'):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        cursor = entry.get('__CURSOR', cursor)
        # A message that is not valid UTF-8 comes as a list of bytes: not Postfix's words.
        if from_postfix(entry, matches, syslog_name, daemon_directory) and isinstance(entry.get('MESSAGE'), str):
            messages.append(entry['MESSAGE'])
    return messages, cursor


def due_for_probe(failing, now, last_reload, last_host_reload):
    """The failing entries to ask now: none within RELOAD_SECONDS of the last reload, and
    no entry within HOST_RELOAD_SECONDS of the reload that its own return caused."""
    if now - last_reload < RELOAD_SECONDS:
        return []
    return [entry for entry in failing if now - last_host_reload.get(entry, 0.0) >= HOST_RELOAD_SECONDS]


def main():
    config_dir, path = sys.argv[1], sys.argv[2]
    syslog_name = postconf(config_dir, 'syslog_name') or 'postfix'
    daemon_directory = postconf(config_dir, 'daemon_directory')
    matches = journal_matches(config_dir)
    log('watching the log of %s (%s) for database hosts that fail, asking them through %s'
        % (syslog_name, ' '.join(matches), path))
    failing = {}  # hosts entry -> (since when, the message that reported it)
    cursor, since = None, int(time.time())
    last_reload = 0.0
    last_host_reload = {}  # hosts entry -> when its return last caused a reload
    while True:
        started = time.time()
        messages, cursor = new_messages(matches, syslog_name, daemon_directory, cursor, since)
        for message in messages:
            note_failure(message, config_dir, path, failing)
        due = due_for_probe(failing, started, last_reload, last_host_reload)
        if due:
            client_lines, hosts = client_file(path)
            gone = [e for e in due if e not in hosts]
            back = gone + answering(config_dir, client_lines, [e for e in due if e in hosts])
            if back:
                proc = subprocess.run(  # pylint: disable=ansible-bad-function
                    ['postfix', '-c', config_dir, 'reload'], env=C_LOCALE, check=False,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
                for entry in back:
                    since_when, message = failing.pop(entry)
                    log('%s answers again after %.0f s: postfix reload (rc=%d); it had failed: %s'
                        % (entry, max(0, started - since_when), proc.returncode, message))
                    last_host_reload[entry] = time.time()
                last_reload = time.time()
        time.sleep(max(0.0, POLL_SECONDS - (time.time() - started)))


if __name__ == '__main__':
    main()
