# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one validator of the maps: a table of inputs and the problem each must be refused with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import maps as m

PASSWORD = 'S3cr3t pw#1'
TUTORIAL = [
    {'name': 'virtual-mailbox-domains', 'parameter': 'virtual_mailbox_domains', 'state': 'present',
     'query': "SELECT 1 FROM virtual_domains WHERE name='%s'"},
    {'name': 'virtual-mailbox-maps', 'parameter': 'virtual_mailbox_maps', 'state': 'present',
     'query': "SELECT 1 FROM virtual_users WHERE email='%s'"},
    {'name': 'virtual-alias-maps', 'parameter': 'virtual_alias_maps', 'state': 'present',
     'query': "SELECT destination FROM virtual_aliases WHERE source='%s'"},
    {'name': 'email2email', 'parameter': 'virtual_alias_maps', 'state': 'present',
     'query': "SELECT email FROM virtual_users WHERE email='%s'"},
]
VALID = dict(maps=TUTORIAL, hosts=['127.0.0.1'], user='mailuser', password=PASSWORD, dbname='mailserver',
             options={}, union_parameters=[], sender_login_maps=[], settings={})


def with_map(index, **change):
    maps = copy.deepcopy(TUTORIAL)
    maps[index].update(change)
    return dict(maps=maps)


# (id, change to VALID, fragment every refusal must contain)
REFUSED = [
    ('name-with-slash', with_map(0, name='../x'), "maps[0] ('../x'): the name must be letters, digits"),
    ('name-empty', with_map(0, name=''), "maps[0] (''): the name must be letters"),
    ('name-starts-with-dot', with_map(0, name='.hidden'), "the name must be letters"),
    ('name-twice', with_map(1, name='virtual-mailbox-domains'), "map 'virtual-mailbox-domains' is listed twice"),
    ('unknown-key', with_map(0, paramter='x'), "map 'virtual-mailbox-domains': unknown key(s) paramter"),
    ('bad-state', with_map(0, state='gone'), "state must be present or absent, not 'gone'"),
    ('bad-parameter', with_map(0, parameter='virtual maps'), "parameter 'virtual maps' is not a main.cf parameter"),
    ('query-missing', with_map(2, query=None), "map 'virtual-alias-maps': the query must not be empty"),
    ('query-empty', with_map(2, query=''), "the query must not be empty (a present map needs one)"),
    ('query-newline', with_map(2, query='SELECT 1\nFROM x'), "map 'virtual-alias-maps': the query must be one line"),
    ('query-blank-around', with_map(2, query=' SELECT 1'), "the query must not start or end with a blank"),
    ('file-with-slash', with_map(0, file='../mysql-x.cf'), "map 'virtual-mailbox-domains': file '../mysql-x.cf' must be "
     "a file name in the configuration directory"),
    ('file-hidden', with_map(0, file='.mariadb-x.cf'), "file '.mariadb-x.cf' must be a file name"),
    ('file-not-cf', with_map(0, file='mariadb-x.conf'), "ending in .cf, such as mariadb-virtual-alias-maps.cf"),
    ('file-not-a-string', with_map(0, file=['a.cf']), "file ['a.cf'] must be a file name"),
    ('file-main-cf', with_map(0, file='main.cf'), "file 'main.cf' is Postfix's own configuration file"),
    ('file-master-cf', with_map(1, file='master.cf'), "map 'virtual-mailbox-maps': file 'master.cf' is Postfix's own"),
    ('file-shared', with_map(1, file='mysql-virtual-mailbox-domains.cf'),
     "maps: maps 'virtual-mailbox-domains' and 'virtual-mailbox-maps' would share the client file "
     "mysql-virtual-mailbox-domains.cf; give each a file of its own"),
    ('file-shared-by-a-retired-map', dict(maps=TUTORIAL + [{'name': 'old', 'state': 'absent', 'file': 'mysql-email2email.cf'}]),
     "maps 'email2email' and 'old' would share the client file mysql-email2email.cf"),
    ('map-option-reserved', with_map(3, options={'query': 'x'}),
     "map 'email2email': options: query is written from its own variable"),
    ('map-option-unknown', with_map(3, options={'tls_verify': 'yes'}), "'tls_verify' is not a mysql_table(5) option"),
    ('map-option-list', with_map(3, options={'domain': ['a', 'b']}), "options: domain must be a single value"),
    ('options-not-a-dict', with_map(3, options='x'), "options must be a mapping"),
    ('option-reserved', dict(options={'password': 'x'}), "options: password is written from its own variable"),
    ('option-unknown', dict(options={'bad name': 'x'}), "options: 'bad name' is not a mysql_table(5) option"),
    ('option-newline', dict(options={'domain': 'a\nb'}), "options: domain must be one line"),
    ('option-empty', dict(options={'domain': ''}), "options: domain must not be empty"),
    ('password-empty', dict(password=''), "password is empty"),
    ('password-one-character', dict(password='x'), "password is shorter than 2 characters"),
    ('password-blank-around', dict(password=PASSWORD + ' '), "password starts or ends with a blank"),
    ('password-newline', dict(password='a\nb'), "password contains a control character or a line separator"),
    ('password-tab', dict(password='a\tb'), "password contains a control character or a line separator"),
    ('password-vertical-tab', dict(password='a\x0bb'), "password contains a control character or a line separator"),
    ('password-u2028', dict(password=u'ab\u2028cd'), "password contains a control character or a line separator"),
    ('password-u2029', dict(password=u'ab\u2029cd'), "password contains a control character or a line separator"),
    ('password-nel', dict(password=u'ab\x85cd'), "password contains a control character or a line separator"),
    ('password-list', dict(password=[PASSWORD]), "password must be a single string, not a list"),
    ('password-number', dict(password=1234), "password must be a single string, not a number"),
    # What Ansible hands a module or action: subclasses of list and dict, named in the user's words.
    ('password-tagged-list', dict(password=type('_TaggedList', (list,), {})([PASSWORD])),
     "password must be a single string, not a list"),
    ('hosts-empty', dict(hosts=[]), "hosts: give at least one database host"),
    ('host-two-in-one', dict(hosts=['10.0.0.1 10.0.0.2']), "is not one host"),
    ('host-comma', dict(hosts=['10.0.0.1,10.0.0.2']), "is not one host"),
    ('host-empty', dict(hosts=['']), "'' is not a host"),
    ('host-bad-port', dict(hosts=['db1:port']), "the port must be a number from 1 to 65535"),
    ('host-port-zero', dict(hosts=['inet:db1:0']), "the port must be a number"),
    ('host-port-too-big', dict(hosts=['db1:70000']), "the port must be a number"),
    ('host-relative-socket', dict(hosts=['unix:mysqld.sock']), "unix:/absolute/path"),
    ('host-bad-ipv6', dict(hosts=['[:3306']), "an IPv6 address is written"),
    ('host-no-name', dict(hosts=[':3306']), "has no host name or address"),
    ('user-empty', dict(user=''), "user: '' is empty"),
    ('user-newline', dict(user='mail\nuser'), "contains a control character or a line separator"),
    ('user-81', dict(user='u' * 81), "is 81 characters long; MariaDB account names hold at most 80"),
    ('user-root', dict(user='root'), "user: 'root' is an account of the database server itself"),
    ('user-debian-sys-maint', dict(user='debian-sys-maint'), "is an account of the database server itself"),
    ('standby-is-user', dict(standby_user='mailuser'), "standby_user: 'mailuser' is also user"),
    ('standby-mariadb-sys', dict(standby_user='mariadb.sys'), "is an account of the database server itself"),
    ('dbname-blank', dict(dbname=' mailserver'), "dbname: ' mailserver' must be 1 to 64 letters, digits or _"),
    ('dbname-percent', dict(dbname='mail%server'), "dbname: 'mail%server' must be 1 to 64 letters, digits or _"),
    ('dbname-dash', dict(dbname='mail-server'), "must be 1 to 64 letters, digits or _"),
    ('dbname-65', dict(dbname='d' * 65), "must be 1 to 64 letters, digits or _"),
    ('union-not-served', dict(union_parameters=['smtpd_sender_login_maps']),
     "union_parameters: smtpd_sender_login_maps is served by no present map"),
    ('sender-login-unknown', dict(sender_login_maps=['senders']), "sender_login_maps: 'senders' is not a present map"),
    ('sender-login-retired', dict(sender_login_maps=['email2email'], **with_map(3, state='absent')),
     "sender_login_maps: 'email2email' is not a present map"),
    ('settings-fight-the-maps', dict(settings={'virtual_alias_maps': 'hash:/etc/postfix/virtual'}),
     "settings sets virtual_alias_maps, which the maps set"),
    ('settings-bad-name', dict(settings={'bad name': 'x'}), "settings: invalid Postfix parameter name"),
    ('settings-newline', dict(settings={'relayhost': 'a\nb'}), "settings: relayhost: a main.cf value cannot contain"),
    ('check-of-a-retired-map', dict(checks=[{'parameter': 'virtual_alias_maps', 'expect': {}},
                                            {'map': 'email2email', 'expect': {}}], **with_map(3, state='absent')),
     "checks[1]: map 'email2email' is not a present map (retired, or not defined)"),
    ('check-of-an-unknown-map', dict(checks=[{'map': 'aliases', 'expect': {}}]), "checks[0]: map 'aliases' is not"),
]


@pytest.mark.parametrize('change, fragment', [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_every_rule_refuses_with_the_variable_and_the_problem(change, fragment):
    args = dict(VALID)
    args.update(change)
    with pytest.raises(m.MapsError) as info:
        m.check_all(**args)
    assert fragment in str(info.value)
    assert PASSWORD not in str(info.value)


def test_messages_name_the_users_variables():
    labels = dict(maps='mailfleet_postfix_maps', hosts='mailfleet_postfix_db_hosts',
                  password='mailfleet_postfix_db_password')
    args = dict(VALID)
    args.update(with_map(2, query=''))
    args.update(password='', hosts=[], labels=labels)
    with pytest.raises(m.MapsError) as info:
        m.check_all(**args)
    assert info.value.problems == [
        "mailfleet_postfix_maps: map 'virtual-alias-maps': the query must not be empty (a present map needs one)",
        'mailfleet_postfix_db_hosts: give at least one database host',
        'mailfleet_postfix_db_password is empty; the reader account needs a password',
    ]


@pytest.mark.parametrize('change', [
    {},
    dict(hosts=['10.0.0.1', 'inet:db2.example.org:3307', 'unix:/run/mysqld/mysqld.sock', '[2001:db8::1]:3306',
                'localhost']),
    dict(options={'tls_verify_cert': True, 'expansion_limit': 100, 'retry_interval': 30}),
    dict(union_parameters=['virtual_alias_maps'], sender_login_maps=['email2email']),
    dict(settings={'smtpd_banner': '$myhostname ESMTP', 'relayhost': ''}),
    dict(maps=[dict(e, file='mariadb-%s.cf' % e['name']) for e in TUTORIAL]),
    # Everything retired: no password needed to take the maps away.
    dict(maps=[dict(e, state='absent', query=None) for e in TUTORIAL], password='', hosts=[]),
], ids=['tutorial', 'host-forms', 'options', 'union-and-sender-login', 'settings', 'own-file-names', 'all-retired'])
def test_valid_input_passes(change):
    args = dict(VALID)
    args.update(change)
    m.check_all(**args)


# ---------------------------------------------------------------- rules that need the host

@pytest.mark.parametrize('options, maps, version, fragment', [
    ({'retry_interval': 30}, TUTORIAL, '3.7.11',
     'options: retry_interval needs Postfix 3.9 or later, and this host has Postfix 3.7.11'),
    ({}, with_map(1, options={'charset': 'utf8mb4'})['maps'], '3.8.0', "map 'virtual-mailbox-maps': options: charset"),
    ({'require_result_set': 'no'}, TUTORIAL, '3.1.4', 'require_result_set needs Postfix 3.2'),
], ids=['shared-option-too-new', 'map-option-too-new', 'require-result-set'])
def test_options_the_release_does_not_know_are_refused(options, maps, version, fragment):
    with pytest.raises(m.MapsError) as info:
        m.check_for_host(maps, ['127.0.0.1'], options, False, version, [])
    assert fragment in str(info.value)


@pytest.mark.parametrize('version', ['3.9.0', '3.10.5', '3.10'])
def test_options_of_newer_releases_pass_there(version):
    m.check_for_host(TUTORIAL, ['127.0.0.1'], {'retry_interval': 30, 'idle_interval': 60}, False, version, [])


CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2E=\n-----END CERTIFICATE-----\n'
ROLE_LABELS = dict(proxy='mailfleet_postfix_proxy', options='mailfleet_postfix_map_options',
                   tls_ca_certificate='mailfleet_postfix_db_tls_ca_certificate', maps='mailfleet_postfix_maps')


@pytest.mark.parametrize('options, ca, per_map, named', [
    ({}, CA, {}, 'mailfleet_postfix_db_tls_ca_certificate'),
    ({'tls_CAfile': '/etc/ssl/ca.pem', 'tls_verify_cert': 'yes'}, None, {}, 'mailfleet_postfix_map_options: tls_CAfile'),
    ({}, None, {'tls_cert_file': '/etc/postfix/client.pem'},
     "mailfleet_postfix_maps: map 'email2email': options: tls_cert_file"),
])
def test_tls_files_with_chrooted_readers_need_proxymap(options, ca, per_map, named):
    maps = [dict(entry, options=per_map) if entry['name'] == 'email2email' else entry for entry in TUTORIAL]
    with pytest.raises(m.MapsError) as info:
        m.check_for_host(maps, ['10.0.0.11'], options, False, '3.10.5', ['smtp/inet', 'cleanup/unix'],
                         ROLE_LABELS, tls_ca_certificate=ca)
    message = str(info.value)
    assert named in message and 'smtp/inet, cleanup/unix' in message and 'mailfleet_postfix_proxy' in message
    assert 'every lookup would fail' in message
    # Through proxymap, or with no chrooted reader, the same input passes.
    m.check_for_host(maps, ['10.0.0.11'], options, True, '3.10.5', ['smtp/inet'], ROLE_LABELS, tls_ca_certificate=ca)
    m.check_for_host(maps, ['10.0.0.11'], options, False, '3.10.5', [], ROLE_LABELS, tls_ca_certificate=ca)


def test_the_ca_file_is_named_by_its_content_and_the_options_verify_the_server():
    path = m.ca_file_path('/etc/postfix/', CA)
    assert path.startswith('/etc/postfix/mysql-ca-') and path.endswith('.pem')
    assert m.ca_file_path('/etc/postfix', CA + '\n') == path != m.ca_file_path('/etc/postfix', CA.replace('Q2E', 'Q2F'))
    assert m.tls_options({'expansion_limit': 10}, path) == {'expansion_limit': 10, 'tls_CAfile': path,
                                                            'tls_verify_cert': True}
    assert m.tls_options({'expansion_limit': 10}, None) == {'expansion_limit': 10}


@pytest.mark.parametrize('host', ['localhost', 'inet:localhost', 'LOCALHOST:3306', 'unix:/run/mysqld/mysqld.sock'])
def test_a_socket_with_chrooted_readers_is_refused_unless_proxy(host):
    with pytest.raises(m.MapsError) as info:
        m.check_for_host(TUTORIAL, [host], {}, False, '3.7.11', ['smtp/inet'])
    assert 'Use 127.0.0.1 (TCP) instead, or set proxy' in str(info.value) and 'smtp/inet' in str(info.value)
    m.check_for_host(TUTORIAL, [host], {}, True, '3.7.11', ['smtp/inet'])
    m.check_for_host(TUTORIAL, [host], {}, False, '3.7.11', [])


def test_a_socket_host_is_fine_when_every_map_is_retired():
    retired = [dict(e, state='absent') for e in TUTORIAL]
    m.check_for_host(retired, ['localhost'], {}, False, '3.7.11', ['smtp/inet'])


# ---------------------------------------------------------------- combining by name

def test_merge_overrides_one_map_by_name_and_keeps_the_order():
    merged, problems = m.merge_maps([
        ('default_maps', copy.deepcopy(TUTORIAL)),
        ('maps', [{'name': 'virtual-alias-maps', 'query': 'SELECT 2'},
                  {'name': 'email2email', 'state': 'absent'},
                  {'name': 'senders', 'query': 'SELECT 3'}]),
    ])
    assert problems == []
    assert [(e['name'], e.get('state'), e.get('parameter'), e.get('query')) for e in merged] == [
        ('virtual-mailbox-domains', 'present', 'virtual_mailbox_domains', TUTORIAL[0]['query']),
        ('virtual-mailbox-maps', 'present', 'virtual_mailbox_maps', TUTORIAL[1]['query']),
        ('virtual-alias-maps', 'present', 'virtual_alias_maps', 'SELECT 2'),
        ('email2email', 'absent', 'virtual_alias_maps', TUTORIAL[3]['query']),
        ('senders', None, None, 'SELECT 3'),
    ]


@pytest.mark.parametrize('lists, fragment', [
    ([('maps', 'x')], 'maps must be a list of maps, not str'),
    ([('maps', ['x'])], 'maps[0] must be a mapping with at least a name'),
    ([('maps', [{'query': 'x'}])], 'maps[0] has no name'),
    ([('maps', [{'name': 'a'}, {'name': 'a'}])], "maps[1]: map 'a' is listed twice in maps"),
])
def test_merge_refuses_what_cannot_be_combined(lists, fragment):
    _merged, problems = m.merge_maps(lists)
    assert any(fragment in problem for problem in problems), problems


# ---------------------------------------------------------------- main.cf

def test_main_cf_settings_follow_the_maps_in_order():
    present, absent = m.main_cf_settings(TUTORIAL)
    assert present == [
        ('virtual_mailbox_domains', ['mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf']),
        ('virtual_mailbox_maps', ['mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf']),
        ('virtual_alias_maps', ['mysql:/etc/postfix/mysql-virtual-alias-maps.cf',
                                'mysql:/etc/postfix/mysql-email2email.cf']),
    ]
    assert absent == []


def test_main_cf_settings_proxy_union_and_sender_login():
    present, _absent = m.main_cf_settings(TUTORIAL, '/etc/postfix-out/', proxy=True,
                                          union_parameters=['virtual_alias_maps'], sender_login_maps=['email2email'])
    assert dict(present)['virtual_alias_maps'] == [
        'unionmap:{proxy:mysql:/etc/postfix-out/mysql-virtual-alias-maps.cf, '
        'proxy:mysql:/etc/postfix-out/mysql-email2email.cf}']
    assert dict(present)['smtpd_sender_login_maps'] == ['proxy:mysql:/etc/postfix-out/mysql-email2email.cf']


def test_a_retired_map_leaves_its_parameter_and_a_parameter_of_retired_maps_only_goes():
    maps = copy.deepcopy(TUTORIAL)
    maps[3]['state'] = 'absent'
    maps[0]['state'] = 'absent'
    present, absent = m.main_cf_settings(maps)
    assert dict(present)['virtual_alias_maps'] == ['mysql:/etc/postfix/mysql-virtual-alias-maps.cf']
    assert absent == ['virtual_mailbox_domains']


@pytest.mark.parametrize('text, found', [
    ('mysql:/etc/postfix/mysql-a.cf', True),
    ('proxy:mysql:/etc/postfix/mysql-a.cf, hash:/x', True),
    ('unionmap:{mysql:/etc/postfix/mysql-a.cf,mysql:/b}', True),
    ('smtpd -o x=check_recipient_access mysql:/etc/postfix/mysql-a.cf', True),
    ('mysql:/etc/postfix/mysql-a.cf.old', False),
    ('mysql:/etc/postfix/mysql-ab.cf', False),
])
def test_references_find_a_table_path_as_a_whole_word(text, found):
    assert m.references(text, '/etc/postfix/mysql-a.cf') is found


@pytest.mark.parametrize('version, expected', [('3.7.11', (3, 7, 11)), ('3.10', (3, 10)), ('3.11-20250101', (3, 11))])
def test_version_tuple(version, expected):
    assert m.version_tuple(version) == expected


# ------------------------------------------------------------ recovery after a database outage

@pytest.mark.parametrize('version, hosts, options, expected_hosts, expected_options', [
    # Debian 12: no retry_interval option, and a single host would be out for 60 s.
    ('3.7.11', ['127.0.0.1'], {}, ['127.0.0.1', '127.0.0.1'], {}),
    ('3.7.13', ['127.0.0.1'], {}, ['127.0.0.1'], {}),
    ('3.8.7', ['db1'], {}, ['db1', 'db1'], {}),
    ('3.9.1', ['db1'], {}, ['db1', 'db1'], {'retry_interval': 2}),
    ('3.9.2', ['db1'], {}, ['db1'], {'retry_interval': 2}),
    # Debian 13.
    ('3.10.5', ['127.0.0.1'], {}, ['127.0.0.1'], {'retry_interval': 2}),
    ('3.7.11', ['db1', 'db2'], {}, ['db1', 'db2'], {}),
    # The user's own retry_interval wins.
    ('3.10.5', ['db1', 'db2'], {'retry_interval': 30}, ['db1', 'db2'], {'retry_interval': 30}),
])
def test_recovery_settings_by_release(version, hosts, options, expected_hosts, expected_options):
    assert m.recovery_settings(hosts, options, version, 2) == (expected_hosts, expected_options)


@pytest.mark.parametrize('value', [0, -5, True, '2'])
def test_retry_interval_must_be_at_least_one_second(value):
    with pytest.raises(m.MapsError) as info:
        m.check_all(TUTORIAL, ['127.0.0.1'], 'mailuser', PASSWORD, 'mailserver', {},
                    labels={'retry_interval': 'mailfleet_postfix_db_retry_interval'}, retry_interval=value)
    assert info.value.problems == [
        'mailfleet_postfix_db_retry_interval: %r is not a whole number of seconds of at least 1 (Postfix refuses 0)'
        % (value,)]


def test_proxy_read_maps_counts_only_tables_listed_by_themselves():
    """Split as proxymap splits it: a table inside unionmap:{...} or reached through
    $virtual_alias_maps is not served, one listed by itself is; retired ones leave."""
    alias = m.map_table('virtual-alias-maps', '/etc/postfix', proxy=True)
    listed = ' '.join(m.map_table(e['name'], '/etc/postfix', proxy=True) for e in TUTORIAL if e is not TUTORIAL[2])
    hidden = '$virtual_alias_maps unionmap:{%s, %s}' % (alias, alias)
    assert m.proxy_read_maps_value(TUTORIAL, '/etc/postfix', hidden + ' ' + listed) == hidden + ' ' + listed + ' ' + alias
    assert m.proxy_read_maps_value(TUTORIAL, '/etc/postfix', listed + ', ' + alias) is None
    retired = [dict(e, state='absent') if e is TUTORIAL[2] else e for e in TUTORIAL]
    assert m.proxy_read_maps_without_retired(retired, '/etc/postfix', '$x, %s %s' % (alias, listed)) == '$x ' + listed
    assert m.proxy_read_maps_without_retired(retired, '/etc/postfix', listed) is None


def test_a_map_with_a_file_of_its_own_is_named_by_that_file_everywhere():
    maps = copy.deepcopy(TUTORIAL)
    maps[3]['file'] = 'mariadb-email2email.cf'
    present, _absent = m.main_cf_settings(maps, '/etc/postfix', proxy=True, sender_login_maps=['email2email'])
    assert dict(present)['virtual_alias_maps'] == ['proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf',
                                                   'proxy:mysql:/etc/postfix/mariadb-email2email.cf']
    assert dict(present)['smtpd_sender_login_maps'] == ['proxy:mysql:/etc/postfix/mariadb-email2email.cf']
    assert 'proxy:mysql:/etc/postfix/mariadb-email2email.cf' in m.proxy_read_maps_value(maps, '/etc/postfix', '')
    assert m.client_file_path('/etc/postfix/', maps[3]) == '/etc/postfix/mariadb-email2email.cf'
    assert m.client_file_path('/etc/postfix', maps[2]) == '/etc/postfix/mysql-virtual-alias-maps.cf'
    retired = [dict(maps[3], state='absent')]
    listed = 'proxy:mysql:/etc/postfix/mariadb-email2email.cf proxy:mysql:/etc/postfix/other.cf'
    assert m.proxy_read_maps_without_retired(retired, '/etc/postfix', listed) == 'proxy:mysql:/etc/postfix/other.cf'


def test_map_table_takes_the_last_file_given_for_the_map_as_merging_does():
    lists = [('default_maps', [{'name': 'email2email', 'file': 'a.cf'}, {'name': 'other', 'file': 'b.cf'}]),
             ('maps', [{'name': 'email2email'}]),
             ('more_maps', [{'name': 'email2email', 'file': 'mariadb-email2email.cf'}])]
    maps = [entry for _label, entries in lists for entry in entries]
    for count in (2, 3):
        merged, problems = m.merge_maps(lists[:count])
        assert problems == []
        assert m.map_table('email2email', maps=maps[:count + 1]) == m.entry_table(merged[0], '/etc/postfix')
    assert m.map_table('email2email', maps=maps) == 'mysql:/etc/postfix/mariadb-email2email.cf'
    assert m.map_table('email2email', maps=maps[:3]) == 'mysql:/etc/postfix/a.cf'
    assert m.map_table('email2email') == 'mysql:/etc/postfix/mysql-email2email.cf'
