# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    return str(path)


@pytest.mark.parametrize('line, failing', [
    # One host refused: only that one is asked until it answers.
    ("warning: connect to mysql server 10.0.0.12: Can't connect to server on '10.0.0.12' (115)",
     ['inet:10.0.0.12:3306']),
    # A lookup failed, or a query on a live connection: the line names no host, so every host.
    ('warning: mysql:/etc/postfix/mysql-a.cf lookup error for "john@example.org"', ['10.0.0.11', 'inet:10.0.0.12:3306']),
    ('warning: virtual_alias_domains: mysql:/etc/postfix/mysql-a.cf: table lookup problem',
     ['10.0.0.11', 'inet:10.0.0.12:3306']),
    ('warning: mysql:/etc/postfix/mysql-a.cf: query failed: Lost connection to server during query',
     ['10.0.0.11', 'inet:10.0.0.12:3306']),
    # Not a database failure.
    ('connect from unknown[10.0.0.99]', []),
    ('warning: hash:/etc/postfix/transport lookup error for "x"', []),
])
def test_which_hosts_a_log_line_reports_as_failing(client_file, line, failing):
    found = {}
    watcher.note_failure(line, client_file, found)
    assert sorted(found) == failing


def test_the_hosts_are_asked_at_once_each_through_a_copy_naming_it_alone(client_file, monkeypatch, tmp_path):
    seen = []

    class Process(object):
        def __init__(self, argv, **kwargs):
            with open(argv[-1][len('mysql:'):]) as handle:
                self.text = handle.read()
            seen.append(self.text)
            # The first host is down: postmap says so on stderr.
            self.returncode = 1
            self.err = "postmap: warning: connect to mysql server 10.0.0.11: Can't connect" if 'hosts = 10.0.0.11\n' in \
                self.text else ''

        def communicate(self, timeout=None):
            return '', self.err

    monkeypatch.setattr(watcher, 'RUN_DIR', str(tmp_path / 'run'))
    monkeypatch.setattr(watcher.subprocess, 'Popen', Process)
    lines, hosts = watcher.client_file(client_file)
    assert watcher.answering('/etc/postfix', lines, hosts) == ['inet:10.0.0.12:3306']
    assert ['hosts = 10.0.0.11\n' in text for text in seen] == [True, False]
    assert all('password = x#1\n' in text for text in seen)
    assert list((tmp_path / 'run').iterdir()) == []


def test_the_log_is_read_after_the_last_cursor(monkeypatch):
    calls = []

    class Done(object):
        def __init__(self, stdout):
            self.stdout = stdout

    answers = ['warning: connect to mysql server 10.0.0.12: x\n-- cursor: s=1;i=2\n', '']

    def run(argv, **kwargs):
        calls.append(argv)
        return Done(answers.pop(0))

    monkeypatch.setattr(watcher.subprocess, 'run', run)
    lines, cursor = watcher.new_log_lines(['postfix/smtpd'], None, 1700000000)
    assert lines == ['warning: connect to mysql server 10.0.0.12: x'] and cursor == 's=1;i=2'
    assert '--since=@1700000000' in calls[0] and '--identifier=postfix/smtpd' in calls[0]
    lines, cursor = watcher.new_log_lines(['postfix/smtpd'], cursor, 1700000000)
    assert lines == [] and cursor == 's=1;i=2' and '--after-cursor=s=1;i=2' in calls[1]
