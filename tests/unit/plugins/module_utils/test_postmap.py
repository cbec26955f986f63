# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postmap as pm
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postmap import FakePostfix

PASSWORD = 'S3cr3t-pw#1'
POSTMAP = '/usr/sbin/postmap'

CLIENT_FILE = """# ISPmail style client file
user = mailuser
password = %s
hosts = 127.0.0.1
dbname = mailserver
query = SELECT destination FROM virtual_aliases WHERE source='%%s'
""" % PASSWORD

# stderr seen from real postmap 3.7.11 (Debian 12) with MariaDB 10.11; {table} and
# {path} are filled in. Every one of these exits 1 after a one-second sleep.
STDERR = {
    # Seen on Debian 12 (libmariadb 3.3) with tls_verify_cert = yes: a CA that did not sign the
    # server's certificate, and a certificate that names another host.
    'tls_wrong_ca': (
        "postmap: warning: connect to mysql server 127.0.0.1: TLS/SSL error: self-signed certificate in "
        "certificate chain\n"
        "postmap: fatal: table {table}: query error: Application error\n"),
    'tls_wrong_name': (
        "postmap: warning: connect to mysql server 127.0.0.1: TLS/SSL error: Validation of SSL server certificate "
        "failed\n"
        "postmap: fatal: table {table}: query error: Application error\n"),
    'access_denied': (
        "postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
        "'mailuser'@'localhost' (using password: YES)\n"
        "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n"),
    'connect': (
        "postmap: warning: connect to mysql server 127.0.0.1:3307: Can't connect to server on "
        "'127.0.0.1' (115)\n"
        "postmap: fatal: table {table}: query error: Operation now in progress\n"),
    'connect_socket': (
        "postmap: warning: connect to mysql server localhost: Can't connect to local server "
        "through socket '/run/mysqld/mysqld.sock' (2)\n"
        "postmap: fatal: table {table}: query error: No such file or directory\n"),
    'query': (
        "postmap: warning: {table}: query failed: Unknown column 'sourcex' in 'WHERE'\n"
        "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n"),
    'query_midbatch': (
        "postmap: warning: {table}: query failed: Subquery returns more than 1 row\n"
        "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n"),
    'unreadable': "postmap: fatal: open {path}: Permission denied\n",
    'missing_file': "postmap: fatal: open {path}: No such file or directory\n",
    'missing_hash': "postmap: fatal: open database {path}.db: No such file or directory\n",
    'unsupported_type': "postmap: fatal: unsupported dictionary type: mysql\n",
    'config': "postmap: fatal: open /nonexistent/main.cf: No such file or directory\n",
    # Postfix 3.10 (Debian 13) retries once, so warnings come twice, and says more
    # about a missing map type.
    'access_denied_310': (
        "postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
        "'mailuser'@'localhost' (using password: YES)\n"
        "postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
        "'mailuser'@'localhost' (using password: YES)\n"
        "postmap: fatal: table {table}: query error: Operation now in progress\n"),
    'query_310': (
        "postmap: warning: {table}: query failed: Unknown column 'sourcex' in 'WHERE'\n"
        "postmap: warning: {table}: query failed: Unknown column 'sourcex' in 'WHERE'\n"
        "postmap: fatal: table {table}: query error: Operation not supported\n"),
    'unsupported_type_310': (
        "postmap: warning: unsupported dictionary type: mysql. Is the postfix-mysql package installed?\n"
        "postmap: fatal: unsupported dictionary type: mysql\n"),
    # A password line indented by mistake continues the user line, and MariaDB's
    # message then carries it: observed for real.
    'leak': (
        "postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
        "'mailuser  password = %s'@'localhost' (using password: NO)\n"
        "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n" % PASSWORD),
}


@pytest.fixture
def client_file(tmp_path):
    path = tmp_path / 'mysql-virtual-alias-maps.cf'
    path.write_text(CLIENT_FILE)
    return str(path)


ALIASES = {
    'postmaster@example.org': 'john@example.org',
    'team@example.org': 'john@example.org,jane@example.org',
    '@example.org': 'jane@example.org',
}


# ---------------------------------------------------------------- answers

@pytest.mark.parametrize('keys, expected', [
    (['postmaster@example.org'], {'postmaster@example.org': 'john@example.org'}),
    (['nobody@example.org'], {'nobody@example.org': None}),
    (['team@example.org', 'nobody@example.org', '@example.org'],
     {'team@example.org': 'john@example.org,jane@example.org', 'nobody@example.org': None,
      '@example.org': 'jane@example.org'}),
], ids=['found', 'not-found', 'batch-some-found-multi-row'])
def test_answers(client_file, keys, expected):
    table = 'mysql:' + client_file
    fake = FakePostfix({table: ALIASES})
    result = pm.query_tables(POSTMAP, table, keys, runner=fake)
    assert result.answers == expected
    assert list(result.answers) == keys
    assert fake.jobs == [([POSTMAP, '-q', '-', table], ''.join(k + '\n' for k in keys))]
    assert result.found == sum(1 for v in expected.values() if v is not None)
    assert result.missing == len(keys) - result.found
    assert result.secrets == {PASSWORD}


def test_duplicate_keys_asked_once_and_config_dir():
    fake = FakePostfix({'hash:/etc/postfix/virtual': {'a@x': 'b@x'}})
    result = pm.query_tables(POSTMAP, 'hash:/etc/postfix/virtual', ['a@x', 'c@x', 'a@x'],
                             config_dir='/etc/postfix-out', runner=fake)
    assert fake.jobs == [([POSTMAP, '-c', '/etc/postfix-out', '-q', '-', 'hash:/etc/postfix/virtual'], 'a@x\nc@x\n')]
    assert result.answers == {'a@x': 'b@x', 'c@x': None}


def test_tables_first_hit_wins():
    aliases, identity = 'mysql:/nonexistent/aliases.cf', 'mysql:/nonexistent/email2email.cf'
    fake = FakePostfix({
        aliases: {'postmaster@example.org': 'john@example.org', 'john@example.org': 'elsewhere@example.net'},
        identity: {'john@example.org': 'john@example.org', 'jane@example.org': 'jane@example.org'},
    })
    keys = ['postmaster@example.org', 'john@example.org', 'jane@example.org', 'nobody@example.org']
    result = pm.query_tables(POSTMAP, [aliases, identity], keys, runner=fake)
    assert result.answers == {
        'postmaster@example.org': 'john@example.org',
        'john@example.org': 'elsewhere@example.net',  # table 1 wins, table 2 not merged
        'jane@example.org': 'jane@example.org',
        'nobody@example.org': None,
    }
    assert result.answered_by == {'postmaster@example.org': aliases, 'john@example.org': aliases,
                                  'jane@example.org': identity}
    # Keys found in table 1 are not asked of table 2.
    asked = [data for argv, data in fake.jobs]
    assert asked == [''.join(k + '\n' for k in keys), 'jane@example.org\nnobody@example.org\n']
    assert result.processes == 2


def test_later_tables_not_run_when_all_found():
    fake = FakePostfix({'hash:/a': {'k': 'v'}}, errors={'hash:/b': STDERR['missing_hash']})
    result = pm.query_tables(POSTMAP, ['hash:/a', 'hash:/b'], ['k'], runner=fake)
    assert result.answers == {'k': 'v'} and len(fake.jobs) == 1


def test_parallel_chunks_identical_and_in_order():
    table = 'mysql:/nonexistent/big.cf'
    keys = ['user%d@example.org' % i for i in range(1000)]
    values = dict((k, 'dest%d@example.net' % i) for i, k in enumerate(keys) if i % 3)
    one = pm.query_tables(POSTMAP, table, keys, parallel=1, runner=FakePostfix({table: values}))
    fake = FakePostfix({table: values})
    four = pm.query_tables(POSTMAP, table, keys, parallel=4, runner=fake)
    assert list(four.answers.items()) == list(one.answers.items())
    assert list(four.answers) == keys
    assert four.processes == 4 and one.processes == 1
    chunks = [data.splitlines() for argv, data in fake.jobs]
    assert [len(c) for c in chunks] == [250] * 4
    assert sum(chunks, []) == keys


@pytest.mark.parametrize('count, parallel, cpus, sizes', [
    (10, 0, 8, [10]),
    (199, 0, 8, [199]),
    (200, 0, 8, [100, 100]),
    (1001, 0, 4, [251, 250, 250, 250]),
    (10000, 0, 64, [1250] * 8),  # capped at MAX_PARALLEL
    (10000, 3, 64, [3334, 3333, 3333]),
    (10000, 1, 64, [10000]),
    (0, 0, 4, []),
])
def test_split_chunks(monkeypatch, count, parallel, cpus, sizes):
    monkeypatch.setattr(pm.os, 'cpu_count', lambda: cpus)
    keys = [str(i) for i in range(count)]
    chunks = pm.split_chunks(keys, parallel)
    assert [len(c) for c in chunks] == sizes
    assert sum(chunks, []) == keys


@pytest.mark.parametrize('keys, stdout, expected', [
    (['a', 'b'], 'a\tx\n', {'a': 'x'}),
    (['a', 'b'], '', {}),
    (['A@Example.org'], 'A@Example.org\tx\n', {'A@Example.org': 'x'}),  # key printed as sent
    (['a', 'ab'], 'ab\ty\n', {'ab': 'y'}),
    (['a', 'b'], 'a\tx,y\tz\nb\t\n', {'a': 'x,y\tz', 'b': ''}),  # TAB in value, empty value
    (['a', 'b'], 'a\tline1\nline2\nb\ty\n', {'a': 'line1\nline2', 'b': 'y'}),  # newline in value
])
def test_parse_answers(keys, stdout, expected):
    assert pm.parse_answers(keys, stdout) == expected


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize('stderr_name, kind, words', [
    ('access_denied', 'access_denied', ["Access denied for user 'mailuser'@'localhost'", 'refused the login',
                                        'REQUIRE SSL']),
    ('tls_wrong_ca', 'tls', ['self-signed certificate', 'the TLS connection to the database failed', 'tls_CAfile']),
    ('tls_wrong_name', 'tls', ['Validation of SSL server certificate failed', 'name the host']),
    ('connect', 'connect', ["Can't connect to server on '127.0.0.1' (115)", 'cannot be reached']),
    ('connect_socket', 'connect', ['/run/mysqld/mysqld.sock', 'cannot be reached']),
    ('query', 'query', ["Unknown column 'sourcex' in 'WHERE'", 'rejected the SQL']),
    ('query_midbatch', 'query', ['Subquery returns more than 1 row']),
    ('unreadable', 'unreadable', ['Permission denied', 'group postfix']),
    ('missing_file', 'missing_file', ['No such file or directory', 'does not exist']),
    ('unsupported_type', 'unsupported_type', ['unsupported dictionary type: mysql', 'install the postfix-mysql package']),
    ('config', 'config', ['/nonexistent/main.cf', 'configuration directory']),
    ('access_denied_310', 'access_denied', ['Access denied', 'refused the login']),
    ('query_310', 'query', ["Unknown column 'sourcex'"]),
    ('unsupported_type_310', 'unsupported_type', ['Is the postfix-mysql package installed?',
                                                  'install the postfix-mysql package']),
])
def test_table_errors(client_file, stderr_name, kind, words):
    table = 'mysql:' + client_file
    stderr = STDERR[stderr_name].format(table=table, path=client_file)
    fake = FakePostfix(errors={table: stderr})
    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, table, ['team@example.org', 'boom@x'], runner=fake)
    err = info.value
    assert err.kind == kind
    assert err.table == table
    assert err.hosts == ['127.0.0.1']
    message = str(err)
    assert message.startswith('postmap cannot query table %s (database host(s): 127.0.0.1): ' % table)
    assert 'Postfix said:\n  ' in message
    for word in words:
        assert word in message
    assert PASSWORD not in message
    # Each Postfix line once, even when Postfix 3.10 repeats it.
    lines = message.split('Postfix said:\n')[1].splitlines()
    assert lines == sorted(set(lines), key=lines.index)
    assert lines[-1].startswith('  fatal: ')


def test_error_in_second_table_names_it():
    good, bad = 'hash:/etc/postfix/virtual', 'mysql:/nonexistent/x.cf'
    fake = FakePostfix({good: {}}, errors={bad: STDERR['missing_file'].format(path='/nonexistent/x.cf')})
    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, [good, bad], ['k'], runner=fake)
    assert info.value.table == bad
    assert 'unknown, client file not readable: No such file or directory' in str(info.value)


def test_one_failed_chunk_fails_the_table(client_file):
    table = 'mysql:' + client_file
    keys = ['k%d' % i for i in range(400)]

    class HalfBroken(FakePostfix):
        def answer(self, argv, data):
            if data.startswith('k200\n'):
                return pm.ProcessResult(1, '', STDERR['connect'].format(table=table))
            return FakePostfix.answer(self, argv, data)

    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, table, keys, parallel=2, runner=HalfBroken({table: {'k1': 'v'}}))
    assert info.value.kind == 'connect'


def test_fatal_even_with_partial_stdout_and_exit_0_is_error():
    result = pm.ProcessResult(0, 'a\tb\n', 'postmap: fatal: something\n')
    assert pm.is_failure(result)
    assert not pm.is_failure(pm.ProcessResult(1, '', 'postmap: warning: table "x": empty query string -- ignored\n'))
    assert pm.is_failure(pm.ProcessResult(-9, '', ''))
    assert pm.is_failure(pm.ProcessResult(1, '', '', timed_out=True))


def test_error_without_stderr():
    fake = FakePostfix()
    fake.answer = lambda argv, data: pm.ProcessResult(2, '', '')
    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, 'hash:/x', ['k'], runner=fake)
    assert 'exited with status 2 and printed nothing on stderr' in str(info.value)


@pytest.mark.parametrize('text', [
    CLIENT_FILE,
    # The password on a continuation line: main.cf syntax glues it to the user value.
    'user = mailuser\n# comment\n  password = %s\nhosts = 127.0.0.1\n' % PASSWORD,
    # A misspelled key: Postfix ignores it, but it is still the password.
    'user = mailuser\npasword = %s\nhosts = 127.0.0.1\n' % PASSWORD,
], ids=['plain', 'continuation', 'misspelled'])
def test_password_never_shown(tmp_path, text):
    path = tmp_path / 'x.cf'
    path.write_text(text)
    table = 'mysql:%s' % path
    fake = FakePostfix(errors={table: STDERR['leak'].format(table=table)})
    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, table, ['k'], runner=fake)
    err = info.value
    assert PASSWORD not in str(err)
    assert PASSWORD not in repr(err.postfix_messages) + repr(err.hosts) + err.table
    assert "'mailuser  password = ********'@'localhost'" in str(err)


def test_password_redacted_from_answers_and_warnings(client_file):
    table = 'mysql:' + client_file
    fake = FakePostfix({table: {'k': 'x' + PASSWORD}})
    fake_answer = fake.answer

    def answer(argv, data):
        result = fake_answer(argv, data)
        result.stderr = 'postmap: warning: something about %s\n' % PASSWORD
        return result

    fake.answer = answer
    result = pm.query_tables(POSTMAP, table, ['k'], runner=fake)
    assert result.answers == {'k': 'x' + PASSWORD}  # raw, for comparisons
    assert pm.redact_answers(result.answers, result.secrets) == {'k': 'x********'}
    assert result.warnings == ['postmap warning: something about ********']


def test_parse_client_file():
    settings, secrets = pm.parse_client_file(
        'hosts = db1.example.net\n'
        '  inet:db2.example.net:3306\n'
        '#password = commented\n'
        '   # indented comment, not a continuation\n'
        'password = %s \n'
        'query = SELECT 1\n'
        '   FROM virtual_domains WHERE name=\'%%s\'\n' % PASSWORD)
    assert settings['hosts'] == 'db1.example.net  inet:db2.example.net:3306'
    assert settings['password'] == PASSWORD
    assert settings['query'] == "SELECT 1   FROM virtual_domains WHERE name='%s'"
    assert secrets == {PASSWORD}


@pytest.mark.parametrize('table, text, hosts, note', [
    ('mysql:{path}', 'hosts = db1 inet:db2:3307, unix:/run/mysqld/mysqld.sock\n',
     ['db1', 'inet:db2:3307', 'unix:/run/mysqld/mysqld.sock'], None),
    ('proxy:mysql:{path}', 'hosts = 127.0.0.1\n', ['127.0.0.1'], None),
    ('mysql:{path}', 'user = x\n', [], 'localhost (default, the UNIX socket)'),
    ('ldap:{path}', 'server_host = ldap://ldap.example.net\n', ['ldap://ldap.example.net'], None),
])
def test_table_info(tmp_path, table, text, hosts, note):
    path = tmp_path / 'x.cf'
    path.write_text(text)
    info = pm.table_info(table.format(path=path))
    assert info.hosts == hosts
    assert info.path == str(path)
    assert info.describe_hosts() == (note or ', '.join(hosts))


def test_table_info_not_a_client_file():
    info = pm.table_info('hash:/etc/postfix/virtual')
    assert (info.map_type, info.path, info.hosts, info.secrets) == ('hash', None, None, set())


def test_unionmap_names_the_hosts_and_hides_the_passwords_of_its_tables(tmp_path, client_file):
    other = tmp_path / 'mysql-email2email.cf'
    other.write_text('user = mailuser\npassword = other-%s\nhosts = db2 127.0.0.1\n' % PASSWORD)
    table = 'unionmap:{ mysql:%s, mysql:%s, hash:/etc/postfix/virtual }' % (client_file, other)
    info = pm.table_info(table)
    assert info.map_type == 'unionmap'
    assert info.hosts == ['127.0.0.1', 'db2']
    assert info.secrets == {PASSWORD, 'other-' + PASSWORD}
    stderr = STDERR['leak'].format(table='mysql:' + client_file)
    with pytest.raises(pm.PostmapError) as raised:
        pm.query_tables(POSTMAP, table, ['k'], runner=FakePostfix(errors={table: stderr}))
    assert str(raised.value).startswith('postmap cannot query table %s (database host(s): 127.0.0.1, db2): ' % table)
    assert raised.value.kind == 'access_denied'
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize('stdout, tables', [
    ('mysql:/etc/postfix/a.cf, mysql:/etc/postfix/b.cf\n', ['mysql:/etc/postfix/a.cf', 'mysql:/etc/postfix/b.cf']),
    ('mysql:/etc/postfix/a.cf mysql:/etc/postfix/b.cf,,proxy:mysql:/etc/postfix/c.cf\n',
     ['mysql:/etc/postfix/a.cf', 'mysql:/etc/postfix/b.cf', 'proxy:mysql:/etc/postfix/c.cf']),
    ('unionmap:{mysql:/etc/postfix/a.cf, mysql:/etc/postfix/b.cf}, inline:{ a@x=b@x, c@x=d@x }\n',
     ['unionmap:{mysql:/etc/postfix/a.cf, mysql:/etc/postfix/b.cf}', 'inline:{ a@x=b@x, c@x=d@x }']),
], ids=['commas', 'blanks-and-empty-items', 'groups-whole'])
def test_parameter_tables_split_like_postfix(stdout, tables):
    assert pm.parameter_tables('virtual_alias_maps', 0, stdout, '') == tables


# ---------------------------------------------------------------- refused input

@pytest.mark.parametrize('keys', [[''], ['a\nb'], ['ok', 'a\rb'], ['a\tb'], ['a\0b'], ['a@x', ' b@x'], ['a@x ']])
def test_refused_keys(keys):
    fake = FakePostfix()
    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, 'hash:/x', keys, runner=fake)
    assert info.value.kind == 'refused'
    assert 'refused key(s)' in str(info.value)
    assert fake.jobs == []


@pytest.mark.parametrize('tables', ['', '-v', ['hash:/a', 'x\ny'], []])
def test_refused_tables(tables):
    with pytest.raises(pm.PostmapError) as info:
        pm.query_tables(POSTMAP, tables, ['k'], runner=FakePostfix())
    assert info.value.kind == 'refused'


# ---------------------------------------------------------------- expect

@pytest.mark.parametrize('expected, got, ok', [
    ('a@x', 'a@x', True),
    ('a@x', 'A@x', False),
    (None, None, True),
    (None, 'a@x', False),
    ('a@x', None, False),
    (['b@x', 'a@x'], 'a@x,b@x', True),
    (['a@x'], 'a@x,b@x', False),
    (['a@x', 'a@x'], 'a@x', False),
    ('1', '1', True),
])
def test_expectation_matches(expected, got, ok):
    assert pm.expectation_matches(expected, got) is ok


def test_mismatch_table():
    answers = {'a@x': 'b@x', 'c@x': None, 'team@x': 'j@x,k@x'}
    expect = {'a@x': 'b@x', 'c@x': 'd@x', 'team@x': ['j@x'], 'e@x': None}
    rows = pm.mismatches(answers, expect)
    assert rows == [('c@x', 'd@x', '(not found)'), ('team@x', 'any order: j@x', 'j@x,k@x')]
    assert pm.format_table(rows) == (
        'key     expected        got\n'
        '------  --------------  -----------\n'
        'c@x     d@x             (not found)\n'
        'team@x  any order: j@x  j@x,k@x')


# ---------------------------------------------------------------- the real runner

FAKE_POSTMAP = (
    'import sys, time\n'
    'if sys.argv[1] == "sleep": time.sleep(30)\n'
    'for line in sys.stdin:\n'
    '    key = line.rstrip("\\n")\n'
    '    if key.startswith("u"): print(key + "\\t" + key.upper())\n'
    'sys.stderr.write("postmap: warning: LANG=%s\\n" % __import__("os").environ.get("LC_ALL"))\n'
)


def test_runner_runs_processes_concurrently_in_order():
    runner = pm.PostmapRunner(timeout=30)
    jobs = [([sys.executable, '-c', FAKE_POSTMAP, 'x'], 'u%d\nv%d\n' % (i, i)) for i in range(3)]
    results = runner.run(jobs)
    assert [r.stdout for r in results] == ['u0\tU0\n', 'u1\tU1\n', 'u2\tU2\n']
    assert all(r.rc == 0 and r.stderr == 'postmap: warning: LANG=C\n' for r in results)


def test_runner_timeout_and_exec_error():
    results = pm.PostmapRunner(timeout=0.5).run([([sys.executable, '-c', FAKE_POSTMAP, 'sleep'], '')])
    assert results[0].timed_out and pm.is_failure(results[0])
    with pytest.raises(pm.PostmapError) as info:
        pm.PostmapRunner().run([(['/nonexistent/postmap', '-q', '-', 'hash:/x'], 'k\n')])
    assert info.value.kind == 'exec'


def test_check_tables_asks_all_tables_at_once_and_names_the_broken_one(tmp_path):
    tables = []
    for name in ('a', 'b'):
        path = tmp_path / ('mysql-%s.cf' % name)
        path.write_text(CLIENT_FILE)
        tables.append('mysql:%s' % path)
    fake = FakePostfix(errors={tables[1]: STDERR['access_denied'].format(table=tables[1], path='')})
    with pytest.raises(pm.PostmapError) as info:
        pm.check_tables(POSTMAP, tables, 'probe@mailfleet.invalid', config_dir='/etc/postfix', runner=fake)
    assert info.value.table == tables[1] and info.value.kind == 'access_denied'
    assert PASSWORD not in str(info.value)
    # Both jobs went to the runner in one call, which starts them together.
    assert fake.jobs == [([POSTMAP, '-c', '/etc/postfix', '-q', '-', t], 'probe@mailfleet.invalid\n') for t in tables]


def test_check_tables_passes_when_the_key_is_not_found(tmp_path):
    path = tmp_path / 'mysql-a.cf'
    path.write_text(CLIENT_FILE)
    assert pm.check_tables(POSTMAP, ['mysql:%s' % path], 'probe@mailfleet.invalid', runner=FakePostfix()) is None


@pytest.mark.parametrize('separator', [u'\u2028', u'\u2029', u'\x0b', u'\x0c', u'\x1c', u'\x1d', u'\x1e', u'\x85'])
def test_a_password_with_a_character_python_would_split_at_is_masked_whole(separator):
    password = u'first-part%ssecond-part' % separator
    text = u'user = mailuser\npassword = %s\nhosts = 127.0.0.1\n' % password
    settings, secrets = pm.parse_client_file(text)
    assert settings['password'] == password and password in secrets
    shown = pm.redact_client_file(text)
    assert 'second-part' not in shown and 'first-part' not in shown
