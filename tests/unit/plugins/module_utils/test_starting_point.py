# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.mailfleet.postfix_mysql.plugins.filter.postfix_mysql import starting_vars
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import maps as m
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.starting_point import map_name, starting_point

DEFAULTS_FILE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'mailfleet_postfix',
                             'defaults', 'main.yml')
with open(DEFAULTS_FILE) as _handle:
    DEFAULT_MAPS = yaml.safe_load(_handle)['mailfleet_postfix_default_maps']
QUERIES = dict((entry['name'], entry['query']) for entry in DEFAULT_MAPS)


def client_file(path, parameters, query, proxied=False, user='mailuser', hosts='127.0.0.1', **options):
    settings = dict(user=user, hosts=hosts, dbname='mailserver', query=query)
    settings.update(options)
    return dict(path=path, parameters=parameters, proxied=proxied, managed=False, settings=settings)


def guide_files(prefix, **kwargs):
    """The four client files of the ISPmail guide, as main.cf names them."""
    return [
        client_file('/etc/postfix/%s-virtual-mailbox-domains.cf' % prefix, ['virtual_mailbox_domains'],
                    QUERIES['virtual-mailbox-domains'], **kwargs),
        client_file('/etc/postfix/%s-virtual-mailbox-maps.cf' % prefix, ['virtual_mailbox_maps'],
                    QUERIES['virtual-mailbox-maps'], **kwargs),
        client_file('/etc/postfix/%s-virtual-alias-maps.cf' % prefix, ['virtual_alias_maps'],
                    QUERIES['virtual-alias-maps'], **kwargs),
        client_file('/etc/postfix/%s-email2email.cf' % prefix, ['virtual_alias_maps'], QUERIES['email2email'], **kwargs),
    ]


def test_the_bookworm_edition_needs_only_its_connection():
    files = guide_files('mysql')
    # proxy_read_maps only lists tables for proxymap: it does not make a map serve it.
    files[0]['parameters'].append('proxy_read_maps')
    files.append(client_file('/etc/postfix/mysql-stale.cf', ['proxy_read_maps'], 'SELECT 1'))
    variables, notes = starting_point(files, [], DEFAULT_MAPS)
    assert variables == dict(mailfleet_postfix_db_user='mailuser',
                             mailfleet_postfix_db_password='{{ vault_mailfleet_postfix_db_password }}',
                             mailfleet_postfix_db_hosts=['127.0.0.1'], mailfleet_postfix_db_name='mailserver',
                             mailfleet_postfix_proxy=False)
    assert notes == ['/etc/postfix/mysql-stale.cf is named by no main.cf parameter: left out',
                     'put the password of mailuser, as the client files have it, in the vault as '
                     'vault_mailfleet_postfix_db_password']


def test_the_trixie_edition_keeps_its_file_names_and_its_socket():
    variables, _notes = starting_point(guide_files('mariadb', user='mailserver', hosts='localhost'), [], DEFAULT_MAPS)
    assert variables['mailfleet_postfix_db_user'] == 'mailserver'
    assert variables['mailfleet_postfix_db_hosts'] == ['localhost']
    assert variables['mailfleet_postfix_maps'] == [
        {'name': 'virtual-mailbox-domains', 'file': 'mariadb-virtual-mailbox-domains.cf'},
        {'name': 'virtual-mailbox-maps', 'file': 'mariadb-virtual-mailbox-maps.cf'},
        {'name': 'virtual-alias-maps', 'file': 'mariadb-virtual-alias-maps.cf'},
        {'name': 'email2email', 'file': 'mariadb-email2email.cf'},
    ]
    # Given back to the role, the maps name exactly the server's files.
    merged, problems = m.merge_maps([('default_maps', DEFAULT_MAPS), ('maps', variables['mailfleet_postfix_maps'])])
    assert problems == [] and m.check_maps(merged) == [] and m.client_file_problems(merged) == []
    present, _absent = m.main_cf_settings(merged, '/etc/postfix')
    assert dict(present) == {
        'virtual_mailbox_domains': ['mysql:/etc/postfix/mariadb-virtual-mailbox-domains.cf'],
        'virtual_mailbox_maps': ['mysql:/etc/postfix/mariadb-virtual-mailbox-maps.cf'],
        'virtual_alias_maps': ['mysql:/etc/postfix/mariadb-virtual-alias-maps.cf',
                               'mysql:/etc/postfix/mariadb-email2email.cf'],
    }


def test_what_differs_from_the_defaults_is_kept_and_what_needs_a_look_is_said():
    files = guide_files('mysql', proxied=True)
    files[2]['settings']['query'] = "SELECT destination FROM virtual_aliases WHERE source='%s' AND active = 1"
    files[1]['settings']['user'] = 'someone'
    files[3]['parameters'] = ['smtpd_sender_login_maps', 'virtual_alias_maps']
    del files[0]
    files.append(client_file('/etc/postfix/senders.cf', ['smtpd_sender_login_maps'], 'SELECT email FROM x',
                             proxied=True, expansion_limit='1'))
    files.append(client_file('/etc/postfix/mysql-old.cf', [], 'SELECT 1'))
    files.append(client_file('/etc/postfix/sql/relay.cf', ['relay_domains'], 'SELECT 1'))
    variables, notes = starting_point(files, [], DEFAULT_MAPS)
    assert variables['mailfleet_postfix_db_user'] == 'mailuser' and variables['mailfleet_postfix_proxy'] is True
    assert variables['mailfleet_postfix_maps'] == [
        {'name': 'virtual-alias-maps', 'query': "SELECT destination FROM virtual_aliases WHERE source='%s' AND active = 1"},
        {'name': 'senders', 'file': 'senders.cf', 'query': 'SELECT email FROM x',
         'options': {'expansion_limit': '1'}},
    ]
    assert variables['mailfleet_postfix_sender_login_maps'] == ['email2email', 'senders']
    assert ('/etc/postfix/mysql-virtual-mailbox-maps.cf logs in as someone to 127.0.0.1, database mailserver, where '
            'the other files use mailuser to 127.0.0.1, database mailserver; the role writes one account, hosts and '
            'database into every file') in notes
    assert '/etc/postfix/mysql-old.cf is named by no main.cf parameter: left out' in notes
    assert ('/etc/postfix/sql/relay.cf is not in /etc/postfix, where the role keeps the client files: left out. '
            'Move it there first; otherwise relay_domains no longer names it after the first run if the role\'s '
            'maps set it too, as --check --diff shows') in notes
    assert ('the role adds the map virtual-mailbox-domains (virtual_mailbox_domains), which main.cf does not name '
            'here; to leave it out, add {name: virtual-mailbox-domains, state: absent} to mailfleet_postfix_maps') in notes


def test_dovecot_with_an_account_of_its_own_is_named_with_a_vault_variable():
    dovecot = [dict(path='/etc/dovecot/dovecot-sql.conf.ext', layout='2.3', users=['dovecot_reader'])]
    variables, notes = starting_point(guide_files('mysql'), dovecot, DEFAULT_MAPS)
    assert variables['mailfleet_database_dovecot_user'] == 'dovecot_reader'
    assert variables['mailfleet_database_dovecot_password'] == '{{ vault_mailfleet_database_dovecot_password }}'
    assert 'Dovecot (/etc/dovecot/dovecot-sql.conf.ext, 2.3 layout) logs in as dovecot_reader' in notes
    same = [dict(path='/etc/dovecot/conf.d/auth-sql.conf.ext', layout='2.4', users=['mailuser'])]
    variables, notes = starting_point(guide_files('mysql'), same, DEFAULT_MAPS)
    assert 'mailfleet_database_dovecot_user' not in variables
    assert 'Dovecot (/etc/dovecot/conf.d/auth-sql.conf.ext, 2.4 layout) logs in as mailuser' in notes


def test_no_mysql_table_in_main_cf_gives_nothing_to_adopt():
    assert starting_point([], [], DEFAULT_MAPS) == ({}, ['main.cf names no mysql table: there is nothing to adopt'])


@pytest.mark.parametrize('path, name', [
    ('/etc/postfix/mysql-virtual-alias-maps.cf', 'virtual-alias-maps'),
    ('/etc/postfix/mariadb-email2email.cf', 'email2email'),
    ('/etc/postfix/sql/aliases.cf', 'aliases'),
    ('/etc/postfix/mysql-.cf', 'mysql-'),
])
def test_map_names_drop_the_guide_s_prefix(path, name):
    assert map_name(path) == name


def test_the_filter_writes_yaml_with_the_notes_on_top_and_no_password():
    found = dict(client_files=guide_files('mariadb', user='mailserver', hosts='localhost'), dovecot_sql=[])
    text = starting_vars(found, DEFAULT_MAPS, 'mail.example.org')
    head, body = text.split('---\n')
    assert head.startswith("# The postfix role's variables for mail.example.org as it is")
    assert '# - put the password of mailserver' in head
    assert all(line.startswith('#') for line in head.splitlines())
    variables = yaml.safe_load(body)
    assert variables['mailfleet_postfix_db_password'] == '{{ vault_mailfleet_postfix_db_password }}'
    assert variables['mailfleet_postfix_maps'][0] == {'name': 'virtual-mailbox-domains',
                                                      'file': 'mariadb-virtual-mailbox-domains.cf'}


def test_what_the_role_wrote_on_postfix_3_9_and_3_7_comes_back_as_the_variables_it_came_from():
    # Postfix 3.10: retry_interval in every file; 3.7.11: the single host listed twice.
    newer = guide_files('mysql', proxied=True, retry_interval='2', tls_verify_cert='yes')
    newer[0]['settings']['expansion_limit'] = '1'
    variables, _notes = starting_point(newer, [], DEFAULT_MAPS)
    assert variables['mailfleet_postfix_db_retry_interval'] == 2
    assert variables['mailfleet_postfix_map_options'] == {'tls_verify_cert': 'yes'}
    assert variables['mailfleet_postfix_maps'] == [{'name': 'virtual-mailbox-domains', 'options': {'expansion_limit': '1'}}]
    older = guide_files('mysql', proxied=True, hosts='127.0.0.1 127.0.0.1')
    variables, _notes = starting_point(older, [], DEFAULT_MAPS)
    assert variables['mailfleet_postfix_db_hosts'] == ['127.0.0.1']
    assert 'mailfleet_postfix_db_retry_interval' not in variables and 'mailfleet_postfix_map_options' not in variables
    assert 'mailfleet_postfix_maps' not in variables


def test_the_database_side_takes_the_reader_of_the_mail_hosts_with_its_host_entries():
    from ansible_collections.mailfleet.postfix_mysql.plugins.filter.postfix_mysql import database_starting_vars
    from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.starting_point import database_starting_point
    mail = {'mail1': dict(client_files=guide_files('mysql'),
                          dovecot_sql=[dict(path='/etc/dovecot/dovecot-sql.conf.ext', layout='2.3', users=['mailuser'])]),
            'mail2': dict(client_files=guide_files('mariadb', user='mailserver'),
                          dovecot_sql=[dict(path='/etc/dovecot/conf.d/auth-sql.conf.ext', layout='2.4',
                                            users=['dovecot_reader'])])}
    mail['mail3'] = dict(client_files=guide_files('mysql'), dovecot_sql=[])
    accounts = [('mailuser', '127.0.0.1'), ('mailuser', '10.0.0.%'), ('dovecot_reader', 'localhost')]
    variables, notes = database_starting_point(mail, accounts)
    assert variables == dict(mailfleet_database_name='mailserver', mailfleet_database_reader_user='mailuser',
                             mailfleet_database_reader_password='{{ vault_mailfleet_postfix_db_password }}',
                             mailfleet_database_reader_hosts=['10.0.0.%', '127.0.0.1'],
                             mailfleet_database_dovecot_user='dovecot_reader',
                             mailfleet_database_dovecot_password='{{ vault_mailfleet_database_dovecot_password }}',
                             mailfleet_database_dovecot_hosts=['localhost'])
    assert 'mail hosts log in as mailserver too; the role keeps one reader account, mailuser' in notes
    text = database_starting_vars([dict(user=user, host=host) for user, host in accounts], mail, 'db1')
    assert text.startswith("# The database role's variables for db1 as it is")
    assert yaml.safe_load(text.split('---\n', 1)[1]) == variables
    # The same from the mariadb client's --batch lines, among other accounts of the server.
    lines = ['root\tlocalhost', 'mailadmin\tlocalhost'] + ['%s\t%s' % account for account in accounts]
    assert database_starting_vars(lines, mail, 'db1') == text
    variables, notes = database_starting_point(mail, [])
    assert 'mailfleet_database_reader_hosts' not in variables
    assert 'mailuser has no host entry on this database host: the mail hosts cannot log in here' in notes
    assert database_starting_point({}, []) == (
        {}, ['no mail host names a mysql table in main.cf: there is no reader account to adopt'])
