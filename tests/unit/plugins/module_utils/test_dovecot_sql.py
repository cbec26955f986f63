# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import dovecot_sql as ds

# The ISPmail guide's bookworm edition, as an admin writes it (Dovecot 2.3).
BOOKWORM = '''\
# Written by hand from the guide.
driver = mysql
connect = "host=127.0.0.1 dbname=mailserver user=mailuser password=Old-S3cret"
user_query = SELECT email as user, \\
  concat('*:bytes=', quota) AS quota_rule, \\
  '/var/vmail/%d/%n' AS home, \\
  5000 AS uid, 5000 AS gid \\
  FROM virtual_users WHERE email='%u'
password_query = SELECT password FROM virtual_users WHERE email='%u'
iterate_query = SELECT email AS user FROM virtual_users
'''

# The trixie edition's layout (Dovecot 2.4): inline settings, the socket.
TRIXIE = '''\
sql_driver = mysql

mysql localhost {
  user = mailserver
  password = "Old S3cret#1"
  dbname = mailserver
}

passdb sql {
  default_password_scheme = BLF-CRYPT
  query = SELECT email AS user, password FROM virtual_users WHERE email='%{user}'
}

userdb sql {
  query = SELECT email AS user, quota AS quota_storage_size FROM virtual_users WHERE email='%{user}'
  iterate_query = SELECT email AS user FROM virtual_users
}
'''


def test_the_bookworm_file_names_its_account_host_database_and_queries():
    config = ds.read('/etc/dovecot/dovecot-sql.conf.ext', BOOKWORM)
    assert config.layout == '2.3'
    assert config.users == ['mailuser']
    assert config.connections[0].as_dict() == dict(hosts=['127.0.0.1'], user='mailuser', dbname='mailserver',
                                                   line=3, port=None)
    assert config.queries['password_query'] == "SELECT password FROM virtual_users WHERE email='%u'"
    # The continued lines are one query, as Dovecot reads it.
    assert config.queries['user_query'].startswith("SELECT email as user, concat('*:bytes=', quota)")
    assert config.queries['user_query'].endswith("FROM virtual_users WHERE email='%u'")


def test_the_trixie_file_names_the_socket_account_and_both_queries():
    config = ds.read('/etc/dovecot/conf.d/auth-sql.conf.ext', TRIXIE)
    assert config.layout == '2.4'
    assert config.connections[0].as_dict() == dict(hosts=['localhost'], user='mailserver', dbname='mailserver',
                                                   line=4, port=None)
    assert config.queries['passdb_query'].endswith("email='%{user}'")
    assert config.queries['userdb_iterate_query'] == 'SELECT email AS user FROM virtual_users'


def test_a_2_3_rewrite_changes_only_the_connect_line_and_keeps_the_other_pairs():
    config = ds.read('/x.conf', BOOKWORM)
    text = ds.with_account(config, 'mailuser_b', 'New#S3cret"x')
    old, new = BOOKWORM.split('\n'), text.split('\n')
    assert [i for i, (a, b) in enumerate(zip(old, new)) if a != b] == [2]
    assert new[2] == 'connect = "host=127.0.0.1 dbname=mailserver user=mailuser_b password=New#S3cret\\"x"'
    again = ds.read('/x.conf', text)
    assert again.users == ['mailuser_b']
    assert dict(ds.parse_connect([s for s in again.settings if s.key == 'connect'][0].value, '/x', 3))[
        'password'] == 'New#S3cret"x'


def test_a_2_4_rewrite_quotes_the_password_and_keeps_every_other_line():
    config = ds.read('/x.conf', TRIXIE)
    text = ds.with_account(config, 'mailserver_b', 'New S3cret # \\ "q"')
    old, new = TRIXIE.split('\n'), text.split('\n')
    assert [i for i, (a, b) in enumerate(zip(old, new)) if a != b] == [3, 4]
    assert new[4] == '  password = "New S3cret # \\\\ \\"q\\""'
    again = ds.read('/x.conf', text)
    assert again.users == ['mailserver_b']
    assert [s.value for s in again.settings if s.key == 'password'] == ['New S3cret # \\ "q"']


def test_a_2_4_block_without_a_password_line_gets_one_after_its_user():
    text = 'mysql 10.0.0.5 {\n  user = mailuser\n  dbname = mailserver\n}\n'
    new = ds.with_account(ds.read('/x', text), 'mailuser_b', 'pw')
    assert new == 'mysql 10.0.0.5 {\n  user = "mailuser_b"\n  password = "pw"\n  dbname = mailserver\n}\n'


def test_a_2_3_password_with_a_blank_is_refused_without_showing_it():
    with pytest.raises(ds.DovecotSqlError) as error:
        ds.with_account(ds.read('/etc/dovecot/dovecot-sql.conf.ext', BOOKWORM), 'mailuser_b', 'two words')
    assert 'blank' in str(error.value)
    assert 'two words' not in str(error.value)


@pytest.mark.parametrize('text, line, words', [
    ('driver = mysql\nconnect = "host=x user=a\n', 2, 'quote is not closed'),
    ('driver = mysql\nconnect = host=x user=a pass=b\n', 2, 'does not know'),
    ('driver = mysql\nconnect = host=x dbname=m\n', 2, 'names no user'),
    ('driver = mysql\nconnect = user=a dbname=m\n', 2, 'names no host'),
    ('driver = pgsql\nconnect = host=x user=a\n', 1, 'only mysql'),
    ('sql_driver = mysql\nmysql localhost {\n  dbname = m\n', 2, 'never closed'),
    ('sql_driver = mysql\nmysql localhost {\n  dbname = m\n}\n', 3, 'names no user'),
    ('sql_driver = mysql\n}\n', 2, 'closes no block'),
    ('driver = mysql\nthis is not a setting\n', 2, 'cannot read'),
])
def test_a_file_dovecot_could_not_use_is_refused_with_its_line(text, line, words):
    with pytest.raises(ds.DovecotSqlError) as error:
        ds.read('/etc/dovecot/x.conf', text)
    assert error.value.line == line
    assert str(error.value).startswith('/etc/dovecot/x.conf line %d: ' % line)
    assert words in str(error.value)


def test_a_password_in_a_broken_connect_string_is_not_shown():
    with pytest.raises(ds.DovecotSqlError) as error:
        ds.read('/x', 'driver = mysql\nconnect = "host=x user=a password=two words"\n')
    assert 'words' not in str(error.value) and 'two' not in str(error.value)


def test_a_file_without_sql_settings_is_none():
    assert ds.read('/x', '# nothing here\npassdb {\n  driver = pam\n}\n') is None


def test_a_2_4_password_with_a_variable_mark_is_written_so_that_dovecot_reads_it_literally():
    """Dovecot 2.4 expands %{name} in its settings and reads %%{ as %{ (tried on Debian 13)."""
    password = 'p%{x}%%{y}%u%'
    text = ds.with_account(ds.read('/x', TRIXIE), 'mailserver', password)
    assert '  password = "p%%{x}%%%{y}%u%"' in text.split('\n')
    assert [(c.user, c.password) for c in ds.read('/x', text).connections] == [('mailserver', password)]


def test_a_2_3_password_keeps_its_marks_dovecot_2_3_expands_none_there():
    text = ds.with_account(ds.read('/x', BOOKWORM), 'mailuser', 'p%{x}%u')
    assert 'password=p%{x}%u"' in text
    assert ds.read('/x', text).connections[0].password == 'p%{x}%u'


def test_a_file_that_exists_but_cannot_be_read_is_an_error_not_an_absent_file(tmp_path):
    assert ds.read_file(str(tmp_path / 'absent')) is None
    with pytest.raises(ds.DovecotSqlError) as error:
        ds.read_file(str(tmp_path))     # a directory: it exists, and cannot be read as a file
    assert str(error.value).startswith('%s: cannot be read (' % tmp_path)


def test_a_2_4_block_of_another_account_stays_as_it_is():
    text = ('mysql 10.0.0.5 {\n  user = mailuser\n  password = old\n}\n'
            'mysql 10.0.0.6 {\n  user = dovecot\n  password = its-own\n}\n')
    moves, left = ds.plan_moves([ds.read('/x', text)], 'mailuser_b', 'new', ['mailuser', 'mailuser_b'])
    assert left == [] and len(moves) == 1
    assert moves[0].text == ('mysql 10.0.0.5 {\n  user = "mailuser_b"\n  password = "new"\n}\n'
                             'mysql 10.0.0.6 {\n  user = dovecot\n  password = its-own\n}\n')
    # Moved, it has nothing more to move.
    again, _left = ds.plan_moves([ds.read('/x', moves[0].text)], 'mailuser_b', 'new', ['mailuser', 'mailuser_b'])
    assert again == []
