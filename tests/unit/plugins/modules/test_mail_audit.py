# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mail_audit driven through main(): postconf, the database and postmap stand-ins, the result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.modules import mail_audit
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postmap import FakePostfix
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import CannedCommands, run_main

PASSWORD = 'S3cr3t-pw#1'


class FakeCursor(object):
    def __init__(self, database):
        self.database = database
        self.rows = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql):
        if sql not in self.database:
            raise RuntimeError("(1054, \"Unknown column in '%s'\")" % sql)
        self.rows = self.database[sql]

    def fetchall(self):
        return self.rows


class FakePyMySQL(object):
    """Stands for the pymysql module: connect() records its arguments; REFUSE hosts fail."""

    def __init__(self, database, refuse=()):
        self.database = database
        self.refuse = refuse
        self.connects = []

    def connect(self, **kwargs):
        self.connects.append(kwargs)
        if kwargs.get('host') in self.refuse:
            raise OSError("(2003, \"Can't connect to MySQL server on '%s'\")" % kwargs['host'])
        database = self.database
        connection = type('Connection', (), {})()
        connection.cursor = lambda: FakeCursor(database)
        connection.close = lambda: None
        return connection


DATABASE = {
    'SELECT name FROM virtual_domains': [('example.org',)],
    'SELECT email FROM virtual_users': [('john@example.org',), ('catchall@example.org',)],
    'SELECT source, destination FROM virtual_aliases': [('jack@example.org', 'john@example.org'),
                                                        ('@example.org', 'catchall@example.org')],
}


@pytest.fixture
def host(tmp_path):
    """Client files and main.cf values of the tutorial (proxy: tables), with or without the identity map."""
    paths = {}
    for name in ('virtual-mailbox-domains', 'virtual-mailbox-maps', 'virtual-alias-maps', 'email2email'):
        path = tmp_path / ('mysql-%s.cf' % name)
        path.write_text('user = mailuser\npassword = %s\nhosts = db1.example.org inet:db2.example.org:3307\n'
                        'dbname = mailserver\ntls_CAfile = /etc/postfix/ca.pem\ntls_verify_cert = yes\n'
                        "query = SELECT 1\n" % PASSWORD)
        paths[name] = 'mysql:%s' % path

    def values(identity=True, aliases=True, proxy_read_maps=None):
        if proxy_read_maps is None:
            proxy_read_maps = ' '.join('proxy:' + table for table in paths.values())
        alias_maps = ((['proxy:' + paths['virtual-alias-maps']] if aliases else []) +
                      (['proxy:' + paths['email2email']] if identity else []))
        return '\n'.join([', '.join(alias_maps), 'proxy:' + paths['virtual-mailbox-maps'],
                          'mail.example.org, localhost', '', 'proxy:' + paths['virtual-mailbox-domains'], '',
                          'mail.example.org', '', 'canonical, virtual', '1000', '1000', '1000', '', 'double-bounce',
                          proxy_read_maps, '', '']) + '\n'

    tables = {
        paths['virtual-mailbox-domains']: {'example.org': '1'},
        paths['virtual-mailbox-maps']: {'john@example.org': '1', 'catchall@example.org': '1'},
        paths['virtual-alias-maps']: {'jack@example.org': 'john@example.org', '@example.org': 'catchall@example.org'},
        paths['email2email']: {'john@example.org': 'john@example.org', 'catchall@example.org': 'catchall@example.org'},
    }
    return paths, values, tables


def run(monkeypatch, args, host, identity=True, database=None, refuse=(), aliases=True):
    paths, values, tables = host
    fake_db = FakePyMySQL(database or DATABASE, refuse)
    fake_postmap = FakePostfix(tables)
    monkeypatch.setattr(mail_audit, 'pymysql', fake_db)
    monkeypatch.setattr(mail_audit, 'HAS_PYMYSQL', True)
    monkeypatch.setattr(mail_audit, 'PostmapRunner', fake_postmap)
    commands = CannedCommands({'/usr/sbin/postconf -x -h': (0, values(identity, aliases), '')})
    kind, result, module = run_main(monkeypatch, mail_audit.main, args, bin_dir='/usr/sbin', commands=commands)
    return kind, result, module, fake_db, fake_postmap


def test_clean_tutorial_through_the_hosts_own_tables(monkeypatch, host):
    kind, result, module, fake_db, fake_postmap = run(monkeypatch, {}, host)
    assert kind == 'exit', result
    assert result['changed'] is False and result['findings'] == [] and result['report'] == []
    assert result['summary']['addresses'] == 4 and result['summary']['login_file'].endswith('mysql-virtual-mailbox-maps.cf')
    # The login of the client file, TLS as it says, the first host first.
    assert fake_db.connects[0] == dict(
        user='mailuser', password=PASSWORD, database='mailserver', connect_timeout=10, read_timeout=120, charset='utf8mb4',
        ssl_ca='/etc/postfix/ca.pem', ssl_cert=None, ssl_key=None, ssl_verify_cert=True, ssl_verify_identity=True,
        host='db1.example.org', port=3306)
    # proxy: tables are asked directly, every key of every alias table.
    asked = set(argv[-1] for argv, _data in fake_postmap.jobs)
    assert asked == set(t for t in host[2])
    assert PASSWORD in module.no_log_values and PASSWORD not in json.dumps(result)


def test_catch_all_swallowing_fails_the_task_with_the_table(monkeypatch, host):
    kind, result, _module, _db, _postmap = run(monkeypatch, {}, host, identity=False)
    assert kind == 'fail'
    assert [(f['kind'], f['address']) for f in result['findings']] == [('catch_all_swallows_mailbox', 'john@example.org')]
    assert result['msg'].startswith('1 finding(s) of severity error or higher:\nseverity')
    assert result['severity_counts'] == {'error': 1, 'warning': 0}
    kind, result, _module, _db, _postmap = run(monkeypatch, {'fail_on': 'never'}, host, identity=False)
    assert kind == 'exit' and result['finding_counts'] == {'catch_all_swallows_mailbox': 1}


def test_resolutions_of_the_domains_asked_for(monkeypatch, host):
    kind, result, _module, _db, _postmap = run(monkeypatch, {'resolve_domains': ['Example.org']}, host)
    assert kind == 'exit'
    assert result['resolutions']['jack@example.org'] == 'john@example.org (mailbox)'
    assert set(result['digests']) == {'example.org'}


def test_next_database_host_when_the_first_refuses(monkeypatch, host):
    kind, result, _module, fake_db, _postmap = run(monkeypatch, {}, host, refuse=('db1.example.org',))
    assert kind == 'exit'
    assert [(c['host'], c['port']) for c in fake_db.connects] == [('db1.example.org', 3306), ('db2.example.org', 3307)]


def test_no_database_host_answers(monkeypatch, host):
    kind, result, _module, _db, _postmap = run(monkeypatch, {}, host, refuse=('db1.example.org', 'db2.example.org'))
    assert kind == 'fail'
    assert result['msg'].startswith('cannot read the mail database with the login of ')
    assert 'db2.example.org:3307' in result['msg'] and PASSWORD not in result['msg']


def test_a_broken_query_is_named(monkeypatch, host):
    kind, result, _module, _db, _postmap = run(monkeypatch, {'aliases_query': 'SELECT nope FROM virtual_aliases'}, host)
    assert kind == 'fail'
    assert result['msg'].startswith('the aliases_query (SELECT nope FROM virtual_aliases) failed on db1.example.org')
    assert PASSWORD not in result['msg']


def test_without_pymysql(monkeypatch, host):
    monkeypatch.setattr(mail_audit, 'HAS_PYMYSQL', False)
    kind, result, _module = run_main(monkeypatch, mail_audit.main, {}, bin_dir='/usr/sbin')
    assert kind == 'fail' and 'python3-pymysql' in result['msg']


@pytest.mark.parametrize('hosts, expected', [
    ('127.0.0.1', [('127.0.0.1', dict(host='127.0.0.1', port=3306))]),
    ('localhost', [('localhost', dict(unix_socket='/run/mysqld/mysqld.sock'))]),
    ('unix:/var/run/mysqld/mysqld.sock', [('unix:/var/run/mysqld/mysqld.sock',
                                          dict(unix_socket='/var/run/mysqld/mysqld.sock'))]),
    ('inet:db:3307, db2', [('db:3307', dict(host='db', port=3307)), ('db2', dict(host='db2', port=3306))]),
])
def test_hosts_as_mysql_table_reads_them(hosts, expected):
    got = mail_audit.connect_arguments({'hosts': hosts, 'user': 'u', 'password': 'p'}, 5)
    assert [(label, dict((k, v) for k, v in args.items() if k in ('host', 'port', 'unix_socket'))) for label, args in got] \
        == expected


def test_a_host_without_alias_tables_is_audited_too(monkeypatch, host):
    kind, result, _module, _db, _postmap = run(monkeypatch, {'fail_on': 'never'}, host, identity=False, aliases=False)
    assert kind == 'exit'
    assert sorted((f['kind'], f['address']) for f in result['findings']) == [
        ('alias_not_answered', '@example.org'), ('alias_not_answered', 'jack@example.org')]


def test_a_proxy_table_proxymap_refuses_is_found(monkeypatch, host):
    paths, values, tables = host
    narrow = (paths, lambda identity=True, aliases=True: values(identity, aliases, proxy_read_maps=(
        'proxy:' + paths['virtual-alias-maps'])), tables)
    kind, result, _module, _db, _postmap = run(monkeypatch, {}, narrow)
    assert kind == 'fail'
    assert sorted(f['address'] for f in result['findings'] if f['kind'] == 'table_not_proxied') == sorted(
        'proxy:' + paths[name] for name in ('email2email', 'virtual-mailbox-maps', 'virtual-mailbox-domains'))


def test_postconf_that_leaves_out_a_value_fails_rather_than_shift_them(monkeypatch, host):
    paths, values, tables = host
    short = (paths, lambda identity=True, aliases=True: values(identity, aliases).split('\n', 1)[1], tables)
    kind, result, _module, _db, _postmap = run(monkeypatch, {}, short)
    assert kind == 'fail' and result['msg'].startswith('postconf printed 16 values for 17 parameters')


def test_myorigin_from_a_file_as_debian_sets_it(monkeypatch, host, tmp_path):
    paths, values, tables = host
    mailname = tmp_path / 'mailname'
    mailname.write_text('mail.example.org\n')
    debian = (paths, lambda identity=True, aliases=True: values(identity, aliases).replace(
        '\nmail.example.org\n\ncanonical', '\n%s\n\ncanonical' % mailname), tables)
    database = dict(DATABASE)
    database['SELECT source, destination FROM virtual_aliases'] = DATABASE[
        'SELECT source, destination FROM virtual_aliases'] + [('abuse@example.org', 'root')]
    tables[paths['virtual-alias-maps']]['abuse@example.org'] = 'root'
    kind, result, _module, _db, _postmap = run(monkeypatch, {'resolve_domains': ['example.org']}, debian,
                                               database=database)
    assert kind == 'exit', result
    assert result['resolutions']['abuse@example.org'] == 'root@mail.example.org (local)'


def test_every_finding_kind_is_documented():
    from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.audit import KINDS
    for kind, severity in KINDS.items():
        assert 'C(%s) (%s)' % (kind, severity) in mail_audit.DOCUMENTATION, kind
