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
seconds). The database is asked nothing while no failure is reported.

Usage: python3 mailfleet_postfix_db_recovery.py CONFIG_DIR CLIENT_FILE

It runs as a service of its own, with no AnsibleModule and so no run_command: it calls
subprocess directly.

The db_recovery_watch module imports this file only to ship it: it installs the file's
own source on the mail host and runs it there as a systemd service.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import sys
import tempfile
import time

C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}
# What Postfix logs (dict_mysql.c, and the daemons that use a table):
#   warning: connect to mysql server 10.0.0.11: Can't connect to server on '10.0.0.11' (115)
#   warning: mysql:/etc/postfix/mysql-x.cf: query failed: Lost connection to server during query
#   warning: mysql:/etc/postfix/mysql-x.cf lookup error for "john@example.org"
#   warning: virtual_alias_domains: mysql:/etc/postfix/mysql-x.cf: table lookup problem
HOST_FAILED_RE = re.compile(r'warning: connect to mysql server (\S+): ')
TABLE_FAILED_RE = re.compile(r'warning: .*mysql:\S+(?:: query failed: | lookup error for |: table lookup problem)')
# The Postfix services that read the maps, as syslog identifiers (SYSLOG_NAME/SERVICE).
SERVICES = ('smtpd', 'trivial-rewrite', 'cleanup', 'proxymap', 'virtual')
PROBE_KEY = 'recovery-probe@mailfleet.invalid'
# How often the log is read, and a failing host asked.
POLL_SECONDS = 1.0
CURSOR_PREFIX = '-- cursor: '
PROBE_TIMEOUT = 10
# A database that comes and goes gets at most one reload in this many seconds. A host only
# comes back after a new failure report, so there is no storm to damp, only a flapping host.
RELOAD_SECONDS = 2.0
RUN_DIR = '/run/mailfleet-postfix-db-recovery'


def log(text):
    # To systemd's journal, through the service's standard output.
    sys.stdout.write(text + '\n')
    sys.stdout.flush()


def postconf(config_dir, name):
    return subprocess.run(  # pylint: disable=ansible-bad-function
        ['postconf', '-c', config_dir, '-x', '-h', name], env=C_LOCALE, check=True,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()


def client_file(path):
    """(the file's lines, its hosts) - read afresh each time: a run may have changed it."""
    with open(path) as handle:
        lines = handle.read().splitlines()
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
    (found or not found, but no error), asked all at once: postmap waits about a second
    after a failed connection, so asking one after the other would add up.

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
        found = []
        for entry, _path, proc in asked:
            try:
                _out, err = proc.communicate(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                continue
            if proc.returncode == 0 or (proc.returncode == 1 and not err.strip()):
                found.append(entry)
        return found
    finally:
        for _entry, path, _proc in asked:
            os.unlink(path)


def note_failure(line, path, failing):
    """Add the hosts entries a log line reports as failing (all of them when the line
    names none) to FAILING, {entry: since when}."""
    host = HOST_FAILED_RE.search(line)
    if not (host or TABLE_FAILED_RE.search(line)):
        return
    _lines, hosts = client_file(path)
    named = [e for e in hosts if host and host_name(e) == host.group(1)]
    for entry in named or hosts:
        if entry not in failing:
            failing[entry] = time.time()
            log('%s failed: %s' % (entry, line.strip()[:200]))


def new_log_lines(identifiers, cursor, since):
    """The Postfix log lines after CURSOR (or since the epoch second SINCE), and the new cursor.

    The journal is read afresh each time rather than followed: a follower learns of new
    entries only when journald signals a change, which was seen to lag by tens of seconds.
    """
    argv = ['journalctl', '--output=cat', '--show-cursor', '--no-pager', '--quiet']
    argv += ['--after-cursor=%s' % cursor] if cursor else ['--since=@%d' % since]
    argv += ['--identifier=%s' % name for name in identifiers]
    try:
        out = subprocess.run(  # pylint: disable=ansible-bad-function
            argv, env=C_LOCALE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            universal_newlines=True, timeout=30, check=False).stdout
    except subprocess.TimeoutExpired:
        return [], cursor
    lines = out.splitlines()
    if lines and lines[-1].startswith(CURSOR_PREFIX):
        cursor = lines.pop()[len(CURSOR_PREFIX):]
    return lines, cursor


def main():
    config_dir, path = sys.argv[1], sys.argv[2]
    syslog_name = postconf(config_dir, 'syslog_name') or 'postfix'
    identifiers = ['%s/%s' % (syslog_name, service) for service in SERVICES]
    log('watching %s/* for database hosts that fail, asking them through %s' % (syslog_name, path))
    failing = {}  # hosts entry -> since when
    cursor, since = None, int(time.time())
    last_reload = 0.0
    while True:
        started = time.time()
        lines, cursor = new_log_lines(identifiers, cursor, since)
        for line in lines:
            note_failure(line, path, failing)
        if failing and started - last_reload >= RELOAD_SECONDS:
            client_lines, hosts = client_file(path)
            gone = [e for e in failing if e not in hosts]
            back = gone + answering(config_dir, client_lines, [e for e in failing if e in hosts])
            if back:
                proc = subprocess.run(  # pylint: disable=ansible-bad-function
                    ['postfix', '-c', config_dir, 'reload'], env=C_LOCALE, check=False,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
                log('%s answer(s) again after %.0f s: postfix reload (rc=%d)'
                    % (' '.join(back), max(0, started - min(failing[e] for e in back)), proc.returncode))
                for entry in back:
                    del failing[entry]
                last_reload = time.time()
        time.sleep(max(0.0, POLL_SECONDS - (time.time() - started)))


if __name__ == '__main__':
    main()
