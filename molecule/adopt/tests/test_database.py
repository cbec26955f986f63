# -*- coding: utf-8 -*-
"""The database role on real Debian 12 and 13 hosts: server, schema, account, content.

It runs on the servers that test_adopt.py adopted, after it, on a second mail database and
reader account of its own (database-before.yml, then database.yml, as converge and
idempotence would), beside the adopted ones.
"""

import json
import os

import pytest

from mailfleet_testlib import all_hosts, run_playbook, scenario_vars, sql

TEST_VARS = scenario_vars() if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else {}
DB = TEST_VARS.get('mf_test_database')
READER = TEST_VARS.get('mf_test_reader')
PLAYBOOK = 'database.yml'


def reader_password(host=None):
    return TEST_VARS['mf_test_reader_password']


@pytest.fixture(scope='module', autouse=True)
def converged():
    """The second mail database as an earlier run left it, then converged, then unchanged by
    the next run; the adopted database and its accounts untouched by all of it."""
    adopted = [adopted_state(host) for host in all_hosts()]
    for playbook in ('database-before.yml', PLAYBOOK):
        rc, output, _recap = run_playbook(playbook)
        assert rc == 0, output[-3000:]
    rc, output, recap = run_playbook(PLAYBOOK)
    assert rc == 0 and recap and all(counts['changed'] == 0 for counts in recap.values()), output[-3000:]
    assert [adopted_state(host) for host in all_hosts()] == adopted


def adopted_state(host):
    return [sql(host, query) for query in (
        "SELECT User, Host, Priv FROM mysql.global_priv WHERE User <> '%s' AND User NOT LIKE 'dovecot%%' "
        "ORDER BY User, Host" % READER,
        "SELECT * FROM mysql.db WHERE Db = 'mailserver' ORDER BY Host, User",
        'CHECKSUM TABLE mailserver.virtual_domains, mailserver.virtual_users, mailserver.virtual_aliases')]


def test_mariadb_runs_and_starts_at_boot(host):
    service = host.service('mariadb')
    if not service.is_running:
        print(host.run('journalctl -u mariadb --no-pager -n 50').stdout)
    assert service.is_running
    assert service.is_enabled


@pytest.mark.parametrize('table', ['virtual_domains', 'virtual_users', 'virtual_aliases'])
def test_tables_are_innodb_utf8mb4(host, table):
    rows = sql(host, "SELECT engine, table_collation LIKE 'utf8mb4\\_%%' FROM information_schema.tables "
                     "WHERE table_schema = '%s' AND table_name = '%s'" % (DB, table))
    assert rows == [['InnoDB', '1']]


@pytest.mark.parametrize('table, columns', [
    ('virtual_domains', [['id', 'int', 'NO', 'PRI'], ['name', 'varchar(50)', 'NO', 'UNI']]),
    ('virtual_users', [['id', 'int', 'NO', 'PRI'], ['domain_id', 'int', 'NO', 'MUL'],
                       ['email', 'varchar(100)', 'NO', 'UNI'], ['password', 'varchar(150)', 'NO', ''],
                       ['quota', 'bigint', 'NO', '']]),
    # source is indexed, unlike the tutorial's table: every alias lookup asks for it.
    ('virtual_aliases', [['id', 'int', 'NO', 'PRI'], ['domain_id', 'int', 'NO', 'MUL'],
                         ['source', 'varchar(100)', 'NO', 'MUL'], ['destination', 'varchar(100)', 'NO', '']]),
])
def test_columns_are_exactly_the_ispmail_layout(host, table, columns):
    rows = sql(host, "SELECT column_name, data_type, is_nullable, column_key FROM information_schema.columns "
                     "WHERE table_schema = '%s' AND table_name = '%s' ORDER BY ordinal_position" % (DB, table))
    got = [[name, dtype if dtype not in ('varchar',) else None, nullable, key] for name, dtype, nullable, key in rows]
    lengths = sql(host, "SELECT column_type FROM information_schema.columns WHERE table_schema = '%s' "
                        "AND table_name = '%s' ORDER BY ordinal_position" % (DB, table))
    for column, length in zip(got, lengths):
        if column[1] is None:
            column[1] = length[0]
    assert got == columns


@pytest.mark.parametrize('table', ['virtual_users', 'virtual_aliases'])
def test_domain_foreign_keys_cascade_on_delete(host, table):
    rows = sql(host, "SELECT r.referenced_table_name, k.column_name, k.referenced_column_name, r.delete_rule "
                     "FROM information_schema.referential_constraints r JOIN information_schema.key_column_usage k "
                     "ON k.constraint_name = r.constraint_name AND k.constraint_schema = r.constraint_schema "
                     "WHERE r.constraint_schema = '%s' AND r.table_name = '%s'" % (DB, table))
    assert rows == [['virtual_domains', 'domain_id', 'id', 'CASCADE']]


def test_reader_exists_only_for_the_listed_hosts(host):
    rows = sql(host, "SELECT Host FROM mysql.user WHERE User = '%s' ORDER BY Host" % READER)
    assert rows == [['127.0.0.1']]  # 192.0.2.10 from prepare.yml was revoked


def test_reader_can_select(host):
    rows = sql(host, 'SELECT name FROM virtual_domains ORDER BY name', user=READER,
               password=reader_password(host), database=DB)
    assert ['example.org'] in rows


@pytest.mark.parametrize('statement', [
    "INSERT INTO virtual_domains (name) VALUES ('evil.example')",
    "UPDATE virtual_domains SET name = 'evil.example' WHERE name = 'example.org'",
    "DELETE FROM virtual_aliases",
    "DROP TABLE virtual_aliases",
    "CREATE TABLE intruder (id int)",
    "SELECT User FROM mysql.user",
])
def test_reader_cannot_write_or_look_elsewhere(host, statement):
    result = sql(host, statement, user=READER, password=reader_password(host), database=DB, check=False)
    assert result.rc != 0
    assert 'denied' in result.stderr


def test_reader_with_a_wrong_password_is_refused(host):
    result = sql(host, 'SELECT 1', user=READER, password='wrong', database=DB, check=False)
    assert result.rc != 0 and 'Access denied' in result.stderr


def test_declared_content_is_present(host):
    assert sql(host, 'SELECT name FROM virtual_domains ORDER BY name', database=DB) == [
        ['example.net'], ['example.org'], ['unmanaged.example.com']]
    assert sql(host, "SELECT email, quota, password LIKE '{BLF-CRYPT}%%' FROM virtual_users ORDER BY email",
               database=DB) == [['benjamin@example.org', '104857600', '1'], ['john@example.org', '0', '1'],
                                ['keep@unmanaged.example.com', '0', '0']]
    assert sql(host, 'SELECT source, destination FROM virtual_aliases ORDER BY source', database=DB) == [
        ['jack@example.org', 'john@example.org']]


def test_removed_domain_took_its_users_along(host):
    assert sql(host, "SELECT COUNT(*) FROM virtual_users WHERE email LIKE '%%@old.example.net'", database=DB) == [['0']]


def test_check_mode_on_the_converged_host_changes_nothing():
    rc, output, recap = run_playbook(PLAYBOOK, '--check', '--diff')
    assert rc == 0, output
    assert recap and all(counts['changed'] == 0 for counts in recap.values()), output


def test_password_never_in_output_even_verbose_with_diff():
    rc, output, _recap = run_playbook(PLAYBOOK, '--diff', '-vvvv')
    assert rc == 0, output
    assert reader_password() not in output
    assert '$2y$05$' not in output  # no password hash either


def test_bad_content_fails_before_changing_anything():
    checksum = 'CHECKSUM TABLE virtual_domains, virtual_users, virtual_aliases'
    before = [sql(host, checksum, database=DB) for host in all_hosts()]
    rc, output, _recap = run_playbook(PLAYBOOK, '-e', '{"mf_test_aliases": [{"source": "x@nowhere.example", '
                                      '"destination": "john@example.org"}], "mf_test_domains": [{"name": "new.example"}]}')
    assert rc != 0
    assert "aliases[0].source: 'x@nowhere.example': domain nowhere.example is neither in the database nor in domains" in output
    assert [sql(host, checksum, database=DB) for host in all_hosts()] == before


def content_and_reader(host):
    """Everything a run could change in the mail data: the three tables and the reader's accounts."""
    return [sql(host, query, database=DB) for query in (
        'SELECT id, name FROM virtual_domains ORDER BY id',
        'SELECT id, domain_id, email, password, quota FROM virtual_users ORDER BY id',
        'SELECT id, domain_id, source, destination FROM virtual_aliases ORDER BY id',
        "SELECT Host, authentication_string FROM mysql.user WHERE User = '%s' ORDER BY Host" % READER,
    )]


PLAIN_TEXT = 'Plain-Text-Secret-1'


@pytest.mark.parametrize('extra_vars, message', [
    ({'mf_test_domains': [{'name': 'exa mple..org'}]},
     "mailfleet_database_domains[0].name: 'exa mple..org' contains a blank; has two dots in a row"),
    ({'mf_test_domains': [{'name': ''}]}, "mailfleet_database_domains[0].name: '' is empty"),
    ({'mf_test_aliases': [{'source': 'jack@example.org', 'destination': ''}]},
     "mailfleet_database_aliases[0].destination: '' is empty"),
    ({'mailfleet_database_reader_password': ''}, 'mailfleet_database_reader_password is empty'),
    ({'mailfleet_database_reader_password': 'x'}, 'mailfleet_database_reader_password is shorter than 2 characters'),
    ({'mf_test_users': [{'email': 'john@example.org', 'password_hash': PLAIN_TEXT}]},
     "mailfleet_database_users[0].password_hash of 'john@example.org' is not in a form Dovecot reads"),
    ({'mailfleet_database_reader_password': [PLAIN_TEXT]},
     'mailfleet_database_reader_password must be a single string, not a list'),
    ({'mailfleet_database_bind_address': '127.0.0.1 10.0.0.5'},
     "mailfleet_database_bind_address: '127.0.0.1 10.0.0.5' contains a blank"),
    ({'mailfleet_database_replication_role': 'primary', 'mailfleet_database_replication_hosts': ['10.0.0.12']},
     'mailfleet_database_replication_password is empty; replication needs a password'),
    ({'mailfleet_database_reader_user': 'root'},
     "mailfleet_database_reader_user: 'root' is an account of the database server itself"),
    ({'mailfleet_database_reader_user': 'debian-sys-maint'},
     "mailfleet_database_reader_user: 'debian-sys-maint' is an account of the database server itself"),
    ({'mailfleet_database_reader_standby_user': 'replicator'},
     "mailfleet_database_reader_standby_user: 'replicator' is also mailfleet_database_replication_user"),
    ({'mailfleet_database_name': 'mail%server'},
     "mailfleet_database_name: 'mail%server' must be 1 to 64 letters, digits or _"),
    ({'mailfleet_database_reader_password': u'Reader\u2028pass-word'},
     'mailfleet_database_reader_password contains a control character or a line separator'),
], ids=['domain-blank-and-double-dot', 'domain-empty', 'alias-destination-empty', 'reader-password-empty',
        'reader-password-one-character', 'password-hash-plain-text', 'reader-password-list', 'bind-address-two',
        'primary-without-replication-password', 'reader-root', 'reader-debian-sys-maint', 'standby-replication',
        'database-name-percent', 'reader-password-line-separator'])
def test_bad_data_fails_first_with_a_readable_message(extra_vars, message):
    """Refused by the role's first task, on the controller: nothing installed, nothing changed."""
    before = [content_and_reader(host) for host in all_hosts()]
    rc, output, recap = run_playbook(PLAYBOOK, '--diff', '-e', json.dumps(extra_vars))
    assert rc != 0
    assert message in output, output
    assert 'Traceback' not in output
    assert reader_password() not in output and PLAIN_TEXT not in output
    assert recap and all(counts['changed'] == 0 for counts in recap.values()), output
    assert [content_and_reader(host) for host in all_hosts()] == before
    # The server's settings drop-in was not written, and the server was not restarted.
    for host in all_hosts():
        assert not host.file('/etc/mysql/mariadb.conf.d/60-mailfleet.cnf').exists


def test_argument_spec_refuses_bad_input():
    rc, output, _recap = run_playbook(PLAYBOOK, '-e', '{"mf_test_domains": [{"name": "a.example", "state": "gone"}]}')
    assert rc != 0
    assert 'mailfleet_database_domains' in output and 'gone' in output and 'must be one of' in output


def test_a_password_in_use_is_not_changed_in_place_unless_asked():
    """The reader's password differs from the declared one (changed by hand, or a new one in
    the vault): the run stops before changing anything, since Dovecot and the mail hosts log
    in with the current one, and names the rotation playbook. Asked with
    mailfleet_database_reader_update_password: always, it is set: one module call."""
    for host in all_hosts():
        sql(host, "ALTER USER '%s'@'127.0.0.1' IDENTIFIED BY 'changed-by-hand'" % READER)
    before = [content_and_reader(host) for host in all_hosts()]
    rc, output, recap = run_playbook(PLAYBOOK, '--diff', '-v')
    assert rc != 0, output
    assert 'the reader %s@127.0.0.1 has another password than the one given' % READER in output, output
    assert 'run the playbook mailfleet.postfix_mysql.rotate_db_password' in output, output
    assert 'mailfleet_database_reader_update_password' in output, output
    assert reader_password() not in output and 'changed-by-hand' not in output
    assert [content_and_reader(host) for host in all_hosts()] == before
    rc, output, recap = run_playbook(PLAYBOOK, '--diff', '-v', '-e', 'mailfleet_database_reader_update_password=always')
    assert rc == 0, output
    assert all(counts['changed'] == 1 for counts in recap.values()), output
    assert 'update reader %s@127.0.0.1 password' % READER in output
    assert reader_password() not in output and 'changed-by-hand' not in output
    for host in all_hosts():
        assert sql(host, 'SELECT COUNT(*) FROM virtual_domains', user=READER, password=reader_password(host),
                   database=DB)
    rc, output, recap = run_playbook(PLAYBOOK)
    assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output


def test_a_host_entry_made_by_hand_is_named_in_check_mode_and_the_diff_before_it_goes():
    """A host entry of the reader that is not in mailfleet_database_reader_hosts: check mode
    names it and leaves it; the real run names it in its changes and its diff, then removes it."""
    entry = "'%s'@'10.9.9.9'" % READER
    exists = "SELECT COUNT(*) FROM mysql.user WHERE User = '%s' AND Host = '10.9.9.9'" % READER
    for host in all_hosts():
        sql(host, "CREATE USER %s IDENTIFIED BY 'made-by-hand'; GRANT SELECT ON %s.* TO %s" % (entry, DB, entry))
    try:
        for args, left in ((('--check', '--diff', '-v'), '1'), (('--diff', '-v'), '0')):
            rc, output, recap = run_playbook(PLAYBOOK, *args)
            assert rc == 0 and all(counts['changed'] == 1 for counts in recap.values()), output
            assert 'remove reader %s@10.9.9.9' % READER in output, output
            assert '-reader %s@10.9.9.9\n' % READER in output.replace('\r', ''), output
            assert 'made-by-hand' not in output and reader_password() not in output
            assert all(sql(host, exists) == [[left]] for host in all_hosts())
    finally:
        for host in all_hosts():
            sql(host, 'DROP USER IF EXISTS %s' % entry)


DECLARED_HASH = '{BLF-CRYPT}$2y$05$.WedBCNZiwxY1CG3aleIleu6lYjup2CIg0BP4M4YCZsO204Czz07W'
# What Roundcube's password plugin writes when John changes his password in the webmail.
WEBMAIL_HASH = '{BLF-CRYPT}$2y$05$ChangedInTheWebmail.by.John.himself.0123456789abcdefghi'


def test_a_password_changed_in_the_webmail_and_a_quota_set_by_hand_are_kept():
    """The password of an existing mailbox is its user's, and a quota that is not declared the
    admin's: a run writes neither (mailfleet_database_update_password: on_create), in check mode
    or for real. Asked for with always, the declared hash goes back, is named as a change
    without being shown, and the undeclared quota still stays."""
    john = "SELECT password, quota FROM virtual_users WHERE email = 'john@example.org'"
    for host in all_hosts():
        sql(host, "UPDATE virtual_users SET password = '%s', quota = 5000 WHERE email = 'john@example.org'"
            % WEBMAIL_HASH, database=DB)
    try:
        for args in (('--check', '--diff'), ('--diff',)):
            rc, output, recap = run_playbook(PLAYBOOK, *args)
            assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output
            for host in all_hosts():
                assert sql(host, john, database=DB) == [[WEBMAIL_HASH, '5000']]
        rc, output, recap = run_playbook(PLAYBOOK, '--diff', '-v', '-e', 'mailfleet_database_update_password=always')
        assert rc == 0 and all(counts['changed'] == 1 for counts in recap.values()), output
        assert 'update user john@example.org (password)' in output, output
        assert WEBMAIL_HASH not in output and '$2y$05$' not in output
        for host in all_hosts():
            assert sql(host, john, database=DB) == [[DECLARED_HASH, '5000']]
    finally:
        for host in all_hosts():
            sql(host, "UPDATE virtual_users SET password = '%s', quota = 0 WHERE email = 'john@example.org'"
                % DECLARED_HASH, database=DB)


def test_extra_privileges_stop_the_run_and_are_named_not_taken_away():
    """More than SELECT on the mail database was given on purpose, or the name is another
    account's: the role does not take it away, it stops before changing anything, names the
    account and the privileges, and says what to do."""
    for host in all_hosts():
        sql(host, "GRANT INSERT ON %s.* TO '%s'@'127.0.0.1'" % (DB, READER))
    try:
        before = [content_and_reader(host) for host in all_hosts()]
        rc, output, recap = run_playbook(PLAYBOOK, '--diff', '-v')
        assert rc != 0, output
        assert ('the account %s@127.0.0.1 has more than SELECT on %s: INSERT ON %s.*' % (READER, DB, DB)) in output, output
        assert "revoke them yourself (REVOKE ... FROM '%s'@'127.0.0.1')" % READER in output, output
        assert reader_password() not in output
        assert [content_and_reader(host) for host in all_hosts()] == before
        for host in all_hosts():
            grants = sql(host, "SHOW GRANTS FOR '%s'@'127.0.0.1'" % READER)
            assert any('INSERT' in row[0] for row in grants), grants
    finally:
        for host in all_hosts():
            sql(host, "REVOKE INSERT ON %s.* FROM '%s'@'127.0.0.1'" % (DB, READER))
    rc, output, recap = run_playbook(PLAYBOOK)
    assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output


DOVECOT_PASSWORD = 'Dove#cot test-pw'


def reads(host, user, password, query):
    result = sql(host, query, user=user, password=password, database=DB, check=False)
    return result.rc == 0, result.stderr


def test_a_reader_on_the_columns_postfix_reads_and_dovecot_with_an_account_of_its_own():
    """mailfleet_database_reader_columns_only: the reader reads what Postfix's maps need and not
    the password hashes; Dovecot's own account reads them. Unchanged on the next run; back to
    the guide's set-up when the option is dropped."""
    least = json.dumps({'mailfleet_database_reader_columns_only': True, 'mailfleet_database_dovecot_user': 'dovecot_test',
                        'mailfleet_database_dovecot_password': DOVECOT_PASSWORD})
    try:
        rc, output, recap = run_playbook(PLAYBOOK, '--diff', '-e', least)
        assert rc == 0 and all(counts['changed'] == 1 for counts in recap.values()), output
        assert DOVECOT_PASSWORD not in output and reader_password() not in output
        for host in all_hosts():
            for query in ("SELECT id, name FROM virtual_domains WHERE name = 'example.org'",
                          "SELECT email FROM virtual_users WHERE email = 'john@example.org'",
                          "SELECT destination FROM virtual_aliases WHERE source = 'jack@example.org'"):
                assert reads(host, READER, reader_password(), query)[0], query
            allowed, message = reads(host, READER, reader_password(), 'SELECT password FROM virtual_users')
            assert not allowed and 'denied' in message, message
            assert reads(host, 'dovecot_test', DOVECOT_PASSWORD, 'SELECT email, password, quota FROM virtual_users')[0]
        rc, output, recap = run_playbook(PLAYBOOK, '-e', least)
        assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output
    finally:
        rc, output, recap = run_playbook(PLAYBOOK)
        for host in all_hosts():
            sql(host, "DROP USER IF EXISTS 'dovecot_test'@'127.0.0.1'")
    assert rc == 0, output
    for host in all_hosts():
        assert reads(host, READER, reader_password(), 'SELECT password FROM virtual_users')[0]
    rc, output, recap = run_playbook(PLAYBOOK)
    assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output


def test_max_connections_grows_with_the_mail_hosts_served():
    """Debian's 151 stays (nothing written) for a few mail hosts; 12 get 12 x 16 + 25."""
    many = json.dumps({'mailfleet_database_reader_hosts': ['10.0.7.%d' % i for i in range(1, 13)],
                       'mailfleet_database_reader_revoke_other_hosts': False})
    rc, output, recap = run_playbook(PLAYBOOK, '--check', '--diff', '-e', many)
    assert rc == 0, output
    assert '+max_connections = 217' in output, output[-3000:]
    rc, output, recap = run_playbook(PLAYBOOK, '--check', '--diff')
    assert rc == 0 and 'max_connections' not in output, output[-3000:]
