# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import time

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import db_recovery_watcher as watcher


@pytest.mark.parametrize('entry, name', [
    ('10.0.0.11', '10.0.0.11'), ('inet:db1:3307', 'db1'), ('db1:3306', 'db1'),
    ('unix:/run/mysqld/mysqld.sock', '/run/mysqld/mysqld.sock'),
    ('[2001:db8::1]:3306', '2001:db8::1'), ('inet:[2001:db8::1]', '2001:db8::1'),
])
def test_the_name_postfix_logs_for_a_hosts_entry(entry, name):
    assert watcher.host_name(entry) == name


@pytest.fixture
def client_file(tmp_path):
    path = tmp_path / 'mysql-a.cf'
    path.write_text('user = mailuser\npassword = x#1\nhosts = 10.0.0.11 inet:10.0.0.12:3306\nquery = SELECT 1\n')
    # Another client file of the same directory, of other database hosts.
    (tmp_path / 'mysql-other.cf').write_text('user = u\npassword = p\nhosts = 10.9.9.9\nquery = SELECT 1\n')
    return str(path)


BOTH = ['10.0.0.11', 'inet:10.0.0.12:3306']


@pytest.mark.parametrize('message, failing', [
    # One host refused: only that one is asked until it answers.
    ("warning: connect to mysql server 10.0.0.12: Can't connect to server on '10.0.0.12' (115)",
     ['inet:10.0.0.12:3306']),
    # A lookup failed, or a query on a live connection: the line names no host, so every host.
    ('warning: mysql:{dir}/mysql-a.cf lookup error for "john@example.org"', BOTH),
    ('warning: proxy:mysql:{dir}/mysql-a.cf lookup error for "john@example.org"', BOTH),
    ('warning: virtual_alias_domains: mysql:{dir}/mysql-a.cf: table lookup problem', BOTH),
    ('warning: virtual_mailbox_domains: proxy:mysql:{dir}/mysql-a.cf: table lookup problem', BOTH),
    ('warning: mysql:{dir}/mysql-a.cf: query failed: Lost connection to server during query', BOTH),
    # Not a database failure.
    ('connect from unknown[10.0.0.99]', []),
    ('warning: hash:/etc/postfix/transport lookup error for "x"', []),
    # A host or a table this service does not know: nothing, rather than every host.
    ("warning: connect to mysql server 10.0.0.99: Can't connect", []),
    ('warning: mysql:{dir}/mysql-other.cf lookup error for "x"', []),
    ('warning: mysql:/etc/postfix/mysql-a.cf lookup error for "x"', []),
    ('warning: mysql:{dir}/no-such-file.cf lookup error for "x"', []),
    ('warning: mysql:{dir}/../mysql-a.cf lookup error for "x"', []),
    # What an SMTP client sent, logged by smtpd after its own words: not at the start.
    ('warning: non-SMTP command from unknown[192.0.2.7]: GET mysql:{dir}/mysql-a.cf lookup error for y', []),
    ('warning: non-SMTP command from unknown[192.0.2.7]: warning: connect to mysql server 10.0.0.11: x', []),
    ('lost connection after UNKNOWN from unknown[192.0.2.7]: warning: connect to mysql server 10.0.0.11: x', []),
    (' warning: connect to mysql server 10.0.0.11: x', []),
])
def test_which_hosts_a_message_reports_as_failing(client_file, tmp_path, message, failing):
    found = {}
    watcher.note_failure(message.format(dir=tmp_path), str(tmp_path), client_file, found)
    assert sorted(found) == failing
    assert all(text == message.format(dir=tmp_path).strip() for _since, text in found.values())


def test_a_client_file_splits_lines_only_at_newlines(tmp_path):
    path = tmp_path / 'mysql-a.cf'
    path.write_text(u'password = a\u2028b\x0bc\x85d\nhosts = 10.0.0.11\n', encoding='utf-8')
    lines, hosts = watcher.client_file(str(path))
    assert lines == [u'password = a\u2028b\x0bc\x85d', 'hosts = 10.0.0.11'] and hosts == ['10.0.0.11']


def test_the_hosts_are_asked_at_once_each_through_a_copy_naming_it_alone(client_file, monkeypatch, tmp_path):
    seen = []

    class Process(object):
        def __init__(self, argv, **kwargs):
            with open(argv[-1][len('mysql:'):]) as handle:
                self.text = handle.read()
            seen.append(self.text)
            # The first host is down: postmap says so on stderr.
            self.returncode = 1
            self.stderr = io.StringIO(u"postmap: warning: connect to mysql server 10.0.0.11: Can't connect"
                                      if 'hosts = 10.0.0.11\n' in self.text else u'')

        def poll(self):
            return self.returncode

        def communicate(self, timeout=None):
            return '', self.stderr.read()

    monkeypatch.setattr(watcher, 'RUN_DIR', str(tmp_path / 'run'))
    monkeypatch.setattr(watcher.subprocess, 'Popen', Process)
    lines, hosts = watcher.client_file(client_file)
    assert watcher.answering('/etc/postfix', lines, hosts) == ['inet:10.0.0.12:3306']
    assert ['hosts = 10.0.0.11\n' in text for text in seen] == [True, False]
    assert all('password = x#1\n' in text for text in seen)
    assert list((tmp_path / 'run').iterdir()) == []


def test_the_first_answer_ends_the_round_and_the_hosts_still_down_are_not_waited_for(client_file, monkeypatch, tmp_path):
    processes = []

    class Process(object):
        """The first host hangs (a firewall that drops packets); the second answers at once."""
        def __init__(self, argv, **kwargs):
            with open(argv[-1][len('mysql:'):]) as handle:
                self.hangs = 'hosts = 10.0.0.11\n' in handle.read()
            self.returncode = None if self.hangs else 0
            self.stderr = io.StringIO(u'')
            self.killed = False
            processes.append(self)

        def poll(self):
            return self.returncode

        def kill(self):
            self.killed, self.returncode = True, -9

        def communicate(self, timeout=None):
            return '', self.stderr.read()

    monkeypatch.setattr(watcher, 'RUN_DIR', str(tmp_path / 'run'))
    monkeypatch.setattr(watcher.subprocess, 'Popen', Process)
    lines, hosts = watcher.client_file(client_file)
    started = time.time()
    assert watcher.answering('/etc/postfix', lines, hosts) == ['inet:10.0.0.12:3306']
    assert time.time() - started < 1.0
    assert [process.killed for process in processes] == [True, False]
    assert list((tmp_path / 'run').iterdir()) == []


POSTFIX = ['_COMM=smtpd', '_COMM=cleanup', '_UID=0', '_UID=107']
DAEMONS = '/usr/lib/postfix/sbin'


def entry(message, **fields):
    base = {'_EXE': '/usr/lib/postfix/sbin/smtpd', '_UID': '107', '_COMM': 'smtpd', 'SYSLOG_IDENTIFIER': 'postfix/smtpd',
            '_SYSTEMD_UNIT': 'postfix@-.service', 'MESSAGE': message, '__CURSOR': 's=1;i=%d' % len(message)}
    base.update(fields)
    return dict((k, v) for k, v in base.items() if v is not None)


@pytest.mark.parametrize('fields, trusted', [
    ({}, True),
    ({'_COMM': 'cleanup', '_EXE': '/usr/lib/postfix/sbin/cleanup', '_UID': '0', '_SYSTEMD_UNIT': 'postfix.service'}, True),
    # In a container journald may not read the executable: the other fields decide.
    ({'_EXE': None}, True),
    ({'_SYSTEMD_UNIT': 'postfix@postfix-out.service', 'SYSLOG_IDENTIFIER': 'postfix/smtpd'}, True),
    # logger -t postfix/smtpd, as any local user or as root: journald names logger.
    ({'_EXE': '/usr/bin/logger', '_COMM': 'logger', '_UID': '65534', '_SYSTEMD_UNIT': 'session-3.scope'}, False),
    ({'_EXE': '/usr/bin/logger', '_COMM': 'logger', '_UID': '0', '_SYSTEMD_UNIT': None}, False),
    # A program named smtpd, run by a local user, or by root outside Postfix's service.
    ({'_UID': '1000', '_SYSTEMD_UNIT': 'session-3.scope', '_EXE': '/home/u/smtpd'}, False),
    ({'_UID': '0', '_SYSTEMD_UNIT': 'session-3.scope'}, False),
    ({'_UID': '0', '_EXE': '/tmp/smtpd'}, False),
    ({'_SYSTEMD_UNIT': 'postfix-lookalike.service'}, False),
    # Fields missing, or another instance's syslog name.
    ({'_UID': None}, False),
    ({'_COMM': None}, False),
    ({'_SYSTEMD_UNIT': None}, False),
    ({'SYSLOG_IDENTIFIER': 'postfix-out/smtpd'}, False),
    ({'SYSLOG_IDENTIFIER': None}, False),
])
def test_only_entries_of_postfix_daemons_are_read(fields, trusted):
    assert watcher.from_postfix(entry('x', **fields), POSTFIX, 'postfix', DAEMONS) is trusted


def test_the_journal_is_read_after_the_last_cursor_with_trusted_field_matches(monkeypatch):
    calls = []

    class Done(object):
        def __init__(self, stdout):
            self.stdout = stdout

    lines = [entry('warning: connect to mysql server 10.0.0.12: x', __CURSOR='s=1;i=2'),
             entry('warning: connect to mysql server 10.0.0.12: forged', _COMM='logger', _UID='65534', _SYSTEMD_UNIT=None,
                   __CURSOR='s=1;i=3'),
             entry([119, 97], __CURSOR='s=1;i=4')]
    answers = ['\n'.join(json.dumps(line) for line in lines) + '\n', '']

    def run(argv, **kwargs):
        calls.append(argv)
        return Done(answers.pop(0))

    monkeypatch.setattr(watcher.subprocess, 'run', run)
    messages, cursor = watcher.new_messages(POSTFIX, 'postfix', DAEMONS, None, 1700000000)
    assert messages == ['warning: connect to mysql server 10.0.0.12: x'] and cursor == 's=1;i=4'
    assert '--since=@1700000000' in calls[0] and '--output=json' in calls[0]
    assert all(match in calls[0] for match in POSTFIX)
    messages, cursor = watcher.new_messages(POSTFIX, 'postfix', DAEMONS, cursor, 1700000000)
    assert messages == [] and cursor == 's=1;i=4' and '--after-cursor=s=1;i=4' in calls[1]


def test_a_host_gets_at_most_one_reload_in_its_hold_off():
    failing = {'db1': (100.0, 'm'), 'db2': (100.0, 'm')}
    # Within the hold-off of any reload: nobody is asked.
    assert watcher.due_for_probe(failing, 101.0, 100.0, {}) == []
    # db1's return caused a reload 5 s ago: only db2 is asked.
    assert watcher.due_for_probe(failing, 105.0, 100.0, {'db1': 100.0}) == ['db2']
    assert watcher.due_for_probe(failing, 100.0 + watcher.HOST_RELOAD_SECONDS, 100.0, {'db1': 100.0}) == ['db1', 'db2']
