# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure logic behind the postconf module: rendering, comparing, parsing, planning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postconf as pc
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import parse_diagnostics


@pytest.mark.parametrize('value, expected', [
    ('a, b', 'a, b'),
    ('  padded  ', 'padded'),
    ('', ''),
    (True, 'yes'),
    (False, 'no'),
    (52428800, '52428800'),
    (1.5, '1.5'),
    (['a', 'b', 'c'], 'a, b, c'),
    ([' a ', 'b'], 'a, b'),
    ([], ''),
    ([True, 0, 'x'], 'yes, 0, x'),
    (['check_policy_service { inet:127.0.0.1:10023, timeout=10s }'],
     'check_policy_service { inet:127.0.0.1:10023, timeout=10s }'),
])
def test_render_value(value, expected):
    assert pc.render_value('p', value) == expected


@pytest.mark.parametrize('value, message', [
    ('a\nb', 'p: a main.cf value cannot contain a newline or a carriage return'),
    ('a\n', 'p: a main.cf value cannot contain a newline or a carriage return'),
    ('a\rb', 'p: a main.cf value cannot contain a newline or a carriage return'),
    (['ok', 'bad\n'], 'p: a main.cf value cannot contain a newline or a carriage return'),
    (None, 'p: the value is null; use "" for an empty value or state=absent to remove the setting'),
    ({'a': 1}, 'p: a value must be a string, a number, a boolean or a list of those, not dict'),
    ([['nested']], 'p: a value must be a string, a number, a boolean or a list of those, not list'),
])
def test_render_value_refused(value, message):
    with pytest.raises(pc.PostconfError) as excinfo:
        pc.render_value('p', value)
    assert str(excinfo.value) == message


@pytest.mark.parametrize('name', ['biff', '2bounce_notice_recipient', 'smtp-amavis_destination_concurrency_limit',
                                  'relay.example_x', 'A_B'])
def test_valid_names(name):
    assert pc.validate_name(name) == name


@pytest.mark.parametrize('name', ['', 'bad name', 'a=b', '-c', 'x\n', 'ä', 'smtpd_banner ', None, 1])
def test_invalid_names(name):
    with pytest.raises(pc.PostconfError):
        pc.validate_name(name)


@pytest.mark.parametrize('value, items', [
    ('a, b', ['a', 'b']),
    ('a,b', ['a', 'b']),
    ('a b', ['a', 'b']),
    ('  a ,,\t b ,  ', ['a', 'b']),
    ('a,    b   c', ['a', 'b', 'c']),  # continuation lines as postconf joins them
    ('', []),
    ('check_policy_service { inet:127.0.0.1:10023, timeout=10s }, reject',
     ['check_policy_service', '{ inet:127.0.0.1:10023, timeout=10s }', 'reject']),
    ('check_policy_service {  inet:127.0.0.1:10023 ,\ttimeout=10s  }',
     ['check_policy_service', '{ inet:127.0.0.1:10023 , timeout=10s }']),
    ('inline:{ a=b, c=d }, hash:/x', ['inline:{ a=b, c=d }', 'hash:/x']),
    ('inline:{ {a = x, y}, c=d }', ['inline:{ {a = x, y}, c=d }']),
    ('btree:${data_directory}/smtp_scache', ['btree:${data_directory}/smtp_scache']),
    ('${{$compatibility_level} <level {1} ? {yes} : {no}}', ['${{$compatibility_level} <level {1} ? {yes} : {no}}']),
    ('${x?{a, b}} c', ['${x?{a, b}}', 'c']),
    ('a } b', ['a', '}', 'b']),  # a stray closing brace is an ordinary character
    ('{ unclosed, x', ['{ unclosed, x']),
])
def test_split_list(value, items):
    assert pc.split_list(value) == items


@pytest.mark.parametrize('name, extra, expected', [
    ('smtpd_banner', (), True),
    ('postscreen_greet_banner', (), True),
    ('submission_banner', (), True),
    ('smtpd_reject_footer', (), True),
    ('postscreen_reject_footer', (), True),
    ('mailbox_command', (), True),
    ('debugger_command', (), True),
    ('local_command_shell', (), True),
    ('default_rbl_reply', (), True),
    ('smtpd_policy_service_default_action', (), True),
    ('unverified_sender_reject_reason', (), True),
    ('smtpd_expansion_filter', (), True),
    ('message_strip_characters', (), True),
    ('mail_name', (), True),
    ('milter_macro_v', (), True),
    ('undisclosed_recipients_header', (), True),
    ('my_text', ('my_text',), True),
    ('smtpd_recipient_restrictions', (), False),
    ('smtpd_forbidden_commands', (), False),
    ('mynetworks', (), False),
    ('virtual_alias_maps', (), False),
    ('prepend_delivered_header', (), False),
    ('smtpd_sasl_authenticated_header', (), False),
])
def test_is_free_text(name, extra, expected):
    assert pc.is_free_text(name, extra) is expected


@pytest.mark.parametrize('name, first, second, equal', [
    ('mydestination', 'a, b', 'a,b', True),
    ('mydestination', 'a, b', 'a b', True),
    ('mydestination', 'a,\n    b', 'a b', True),
    ('mydestination', 'a, b', 'b, a', False),
    ('mydestination', 'a, b', 'a, b, c', False),
    ('mynetworks', '127.0.0.0/8,,  [::1]/128 ,', '127.0.0.0/8 [::1]/128', True),
    ('smtpd_recipient_restrictions', 'x { a, b }', 'x, { a, b }', True),
    ('smtpd_recipient_restrictions', 'x { a, b }', 'x {  a,  b }', True),
    ('smtpd_recipient_restrictions', 'x { a, b }', 'x { a b }', False),
    ('smtpd_recipient_restrictions', 'x { a, b }', 'x {a, b}', False),
    ('smtpd_recipient_restrictions', 'x { a, b }', 'x, a, b', False),
    ('virtual_alias_maps', 'inline:{ a=b, c=d }', 'inline:{ a=b c=d }', False),
    ('smtpd_banner', '$myhostname ESMTP, hi', '$myhostname ESMTP hi', False),
    ('smtpd_banner', '$myhostname ESMTP, hi', '$myhostname ESMTP,hi', False),
    ('smtpd_banner', '$myhostname   ESMTP,  hi\tthere', '$myhostname ESMTP, hi there', True),
    ('mailbox_command', '/usr/bin/procmail -a "$EXTENSION"', '/usr/bin/procmail, -a, "$EXTENSION"', False),
    ('default_rbl_reply', '$rbl_code a; b', '$rbl_code a, b', False),
    ('relayhost', '', '', True),
    ('relayhost', '', 'x', False),
    ('biff', 'no', 'No', False),
])
def test_values_equal(name, first, second, equal):
    assert pc.values_equal(name, first, second) is equal
    assert pc.values_equal(name, second, first) is equal


def test_values_equal_free_text_names_option():
    assert pc.values_equal('my_notice', 'a, b', 'a b') is True
    assert pc.values_equal('my_notice', 'a, b', 'a b', free_text=frozenset(['my_notice'])) is False


@pytest.mark.parametrize('config_dir, environ, expected', [
    (None, {}, '/etc/postfix/main.cf'),
    ('/etc/postfix-out', {}, '/etc/postfix-out/main.cf'),
    (None, {'MAIL_CONFIG': '/etc/postfix-in'}, '/etc/postfix-in/main.cf'),
    ('/etc/postfix-out', {'MAIL_CONFIG': '/etc/postfix-in'}, '/etc/postfix-out/main.cf'),
])
def test_main_cf_path(config_dir, environ, expected):
    assert pc.main_cf_path(config_dir, environ) == expected


@pytest.mark.parametrize('builder, args, expected', [
    (pc.read_argv, (['a', 'b'],), ['/p', '-n', 'a', 'b']),
    (pc.read_argv, (['a'], '/etc/pf2'), ['/p', '-c', '/etc/pf2', '-n', 'a']),
    (pc.set_argv, ([('a', '1'), ('b', 'x, y')],), ['/p', '-e', 'a=1', 'b=x, y']),
    (pc.set_argv, ([('a', '')], '/etc/pf2'), ['/p', '-c', '/etc/pf2', '-e', 'a=']),
    (pc.remove_argv, (['a', 'b'],), ['/p', '-X', 'a', 'b']),
    (pc.remove_argv, (['a'], '/etc/pf2'), ['/p', '-c', '/etc/pf2', '-X', 'a']),
])
def test_argv(builder, args, expected):
    assert builder('/p', *args) == expected


def test_parse_explicit():
    stdout = ('alias_maps = hash:/etc/aliases\n'
              'relayhost =\n'
              'smtpd_banner = $myhostname ESMTP, hi = there\n'
              'garbage line\n'
              '\n')
    assert pc.parse_explicit(stdout) == {
        'alias_maps': 'hash:/etc/aliases',
        'relayhost': '',
        'smtpd_banner': '$myhostname ESMTP, hi = there',
    }


@pytest.mark.parametrize('text, kind, name, shown', [
    ('postconf: warning: bogus: unknown parameter', 'unknown', 'bogus', 'bogus: unknown parameter'),
    ('postconf: warning: /etc/postfix/master.cf: undefined parameter: mua_x', 'undefined', 'mua_x',
     '/etc/postfix/master.cf: undefined parameter: mua_x'),
    ('postconf: warning: mysql:/etc/postfix/mysql-virtual.cf: unused parameter: passwrd=S3cret!', 'unused',
     'passwrd', 'mysql:/etc/postfix/mysql-virtual.cf: unused parameter: passwrd (value not shown)'),
    ('postconf: warning: /etc/postfix/main.cf: unused parameter: my_unused=a = b', 'unused', 'my_unused',
     '/etc/postfix/main.cf: unused parameter: my_unused (value not shown)'),
    ('postconf: warning: /etc/postfix/main.cf, line 48: overriding earlier entry: smtp_sasl_password=x', 'overriding',
     'smtp_sasl_password', '/etc/postfix/main.cf, line 48: overriding earlier entry: smtp_sasl_password '
     '(value not shown)'),
    ('postconf: warning: /etc/postfix/main.cf: multiple entries for "biff"', 'multiple', 'biff',
     '/etc/postfix/main.cf: multiple entries for "biff"'),
    ("postconf: fatal: /etc/postfix/mysql-virtual.cf, line 3: missing '=' after attribute name: \"password S3cret!\"",
     'other', None, "/etc/postfix/mysql-virtual.cf, line 3: missing '=' after attribute name: \"********\""),
    ('postconf: fatal: missing attribute name: "=S3cret"', 'other', None, 'missing attribute name: "********"'),
    ('postconf: warning: open "mysql" configuration "/etc/postfix/x.cf": No such file or directory', 'other', None,
     'open "mysql" configuration "/etc/postfix/x.cf": No such file or directory'),
])
def test_classify(text, kind, name, shown):
    message = pc.classify(parse_diagnostics(text)[0])
    assert (message.kind, message.name, message.text) == (kind, name, shown)
    assert 'S3cret' not in message.text


def test_sanitize_dedupes_and_hides_values():
    stderr = ('postconf: warning: /etc/postfix/main.cf, line 9: overriding earlier entry: biff=S3cret\n'
              'postconf: warning: /etc/postfix/main.cf, line 9: overriding earlier entry: biff=S3cret\n'
              'postconf: fatal: open /etc/postfix/main.cf.tmp: Permission denied\n')
    assert pc.sanitize(stderr) == [
        'warning: /etc/postfix/main.cf, line 9: overriding earlier entry: biff (value not shown)',
        'fatal: open /etc/postfix/main.cf.tmp: Permission denied',
    ]


@pytest.mark.parametrize('where, expected', [
    ('/etc/postfix/main.cf', True),
    ('/etc/postfix-out/main.cf', True),
    ('mysql:/etc/postfix/main.cf', False),
    ('/etc/postfix/master.cf', False),
    ('/etc/postfix/mysql-virtual.cf', False),
    (None, False),
])
def test_is_main_cf(where, expected):
    assert pc.is_main_cf(where) is expected


PARSE_CASES = [
    dict(
        id='known-explicit-and-unset',
        names=['biff', 'relayhost', 'relay_domains'],
        stdout='biff = no\nrelayhost =\n',
        stderr='',
        values={'biff': 'no', 'relayhost': ''}, unknown=[], duplicates=[], other=[],
    ),
    dict(
        id='unknown-unset-and-unknown-set-in-main-cf',
        names=['a_x', 'b_x', 'c_x'],
        stdout='',
        stderr=('postconf: warning: a_x: unknown parameter\n'
                'postconf: warning: b_x: unknown parameter\n'
                'postconf: warning: /etc/postfix/main.cf: unused parameter: b_x=one,    two\n'
                'postconf: warning: /etc/postfix/main.cf: unused parameter: d_x=other\n'),
        values={'b_x': 'one, two'}, unknown=['a_x', 'b_x'], duplicates=[],
        other=['warning: /etc/postfix/main.cf: unused parameter: d_x (value not shown)'],
    ),
    dict(
        id='referenced-undefined-is-known',
        names=['mua_x'],
        stdout='',
        stderr=('postconf: warning: /etc/postfix/master.cf: undefined parameter: mua_x\n'
                'postconf: warning: mua_x: unknown parameter\n'),
        values={}, unknown=[], duplicates=[], other=[],
    ),
    dict(
        id='duplicates-of-requested-and-other-names',
        names=['biff'],
        stdout='biff = yes\n',
        stderr=('postconf: warning: /etc/postfix/main.cf, line 48: overriding earlier entry: biff=no\n'
                'postconf: warning: /etc/postfix/main.cf, line 41: overriding earlier entry: mynetworks=10.0.0.0/8\n'
                'postconf: warning: /etc/postfix/main.cf, line 48: overriding earlier entry: biff=no\n'
                'postconf: warning: /etc/postfix/main.cf, line 41: overriding earlier entry: mynetworks=10.0.0.0/8\n'),
        values={'biff': 'yes'}, unknown=[], duplicates=['biff'],
        other=['warning: /etc/postfix/main.cf, line 41: overriding earlier entry: mynetworks (value not shown)'],
    ),
    dict(
        id='client-file-key-with-a-requested-name-is-other',
        names=['password'],
        stdout='',
        stderr=('postconf: warning: mysql:/etc/postfix/x.cf: unused parameter: password=S3cret\n'
                'postconf: warning: password: unknown parameter\n'),
        values={}, unknown=['password'], duplicates=[],
        other=['warning: mysql:/etc/postfix/x.cf: unused parameter: password (value not shown)'],
    ),
    dict(
        id='stdout-lines-for-other-names-are-ignored',
        names=['biff'],
        stdout='biff = no\nmyhostname = x\n',
        stderr='',
        values={'biff': 'no'}, unknown=[], duplicates=[], other=[],
    ),
]


@pytest.mark.parametrize('case', PARSE_CASES, ids=[c['id'] for c in PARSE_CASES])
def test_parse_current(case):
    state = pc.parse_current(case['names'], case['stdout'], case['stderr'])
    assert state.values == case['values']
    assert state.unknown == case['unknown']
    assert state.duplicates == case['duplicates']
    assert state.other == case['other']


def test_plan_present():
    current = pc.CurrentState(values={'a_maps': 'x y', 'b': 'no', 'smtpd_banner': 'x y'}, unknown=[],
                              duplicates=[], other=[])
    desired = [('a_maps', 'x, y'), ('b', 'yes'), ('c', ''), ('smtpd_banner', 'x, y')]
    assert pc.plan_present(desired, current) == [
        pc.Change('b', 'no', 'yes'),
        pc.Change('c', None, ''),
        pc.Change('smtpd_banner', 'x y', 'x, y'),
    ]


def test_plan_absent():
    current = pc.CurrentState(values={'a': 'x', 'c': ''}, unknown=[], duplicates=[], other=[])
    assert pc.plan_absent(['a', 'b', 'c'], current) == [pc.Change('a', 'x', None), pc.Change('c', '', None)]


def test_diff_text_and_changes_dict():
    changes = [pc.Change('a', None, '1'), pc.Change('b', 'x', ''), pc.Change('c', 'y', None)]
    assert pc.diff_text(changes) == ('b = x\nc = y\n', 'a = 1\nb =\n')
    assert pc.changes_dict(changes) == {
        'a': {'before': None, 'after': '1'},
        'b': {'before': 'x', 'after': ''},
        'c': {'before': 'y', 'after': None},
    }


@pytest.mark.parametrize('settings, name, value, state, expected', [
    ({'b': 1, 'a': [1, 2]}, None, None, 'present', [('b', '1'), ('a', '1, 2')]),
    (None, 'a', True, 'present', [('a', 'yes')]),
    (None, 'a', '', 'present', [('a', '')]),
    (['a', 'b', 'a'], None, None, 'absent', ['a', 'b']),
    ({'a': None, 'b': 'ignored'}, None, None, 'absent', ['a', 'b']),
    (None, 'a', None, 'absent', ['a']),
    ('a', None, None, 'absent', ['a']),
    ({}, None, None, 'present', []),
])
def test_normalize_request(settings, name, value, state, expected):
    assert pc.normalize_request(settings, name, value, state) == expected


@pytest.mark.parametrize('settings, name, value, state, message', [
    (None, None, None, 'present', 'one of settings or name is required'),
    (None, 'a', None, 'present', 'a: value is required with state=present'),
    (['a'], None, None, 'present', 'settings must be a mapping of parameter name to value with state=present'),
    ('a=b', None, None, 'present', 'settings must be a mapping of parameter name to value with state=present'),
    (5, None, None, 'absent', 'settings must be a mapping or, with state=absent, a list of names'),
    (['bad name'], None, None, 'absent',
     "invalid Postfix parameter name 'bad name': use letters, digits, \"_\", \"-\" and \".\""),
    ({'x': 'a\nb'}, None, None, 'present', 'x: a main.cf value cannot contain a newline or a carriage return'),
])
def test_normalize_request_refused(settings, name, value, state, message):
    with pytest.raises(pc.PostconfError) as excinfo:
        pc.normalize_request(settings, name, value, state)
    assert str(excinfo.value) == message


@pytest.mark.parametrize('config_dir, argv', [
    (None, ['/usr/sbin/postconf', '-x', '-h', 'virtual_alias_maps']),
    ('/etc/postfix-out', ['/usr/sbin/postconf', '-c', '/etc/postfix-out', '-x', '-h', 'virtual_alias_maps']),
])
def test_expanded_value_argv_expands_references(config_dir, argv):
    assert pc.expanded_value_argv('/usr/sbin/postconf', 'virtual_alias_maps', config_dir) == argv


def test_the_client_files_main_cf_names_whatever_their_names():
    values = {
        'virtual_mailbox_maps': 'proxy:mysql:/etc/postfix/mariadb-virtual-mailbox-maps.cf',
        'virtual_alias_maps': 'mysql:/etc/postfix/mariadb-virtual-alias-maps.cf,'
                              'mysql:/etc/postfix/mariadb-email2email.cf hash:/etc/postfix/virtual',
        'smtpd_sender_login_maps': 'proxy:mysql:/etc/postfix/mariadb-email2email.cf',
        'relayhost': '',
        'smtpd_banner': '$myhostname ESMTP no-mysql:here',
    }
    assert pc.mysql_client_files(values) == {
        '/etc/postfix/mariadb-virtual-mailbox-maps.cf': ['virtual_mailbox_maps'],
        '/etc/postfix/mariadb-virtual-alias-maps.cf': ['virtual_alias_maps'],
        '/etc/postfix/mariadb-email2email.cf': ['smtpd_sender_login_maps', 'virtual_alias_maps'],
    }


def test_the_tables_of_a_unionmap_count_and_proxy_is_told_apart():
    values = {
        'virtual_alias_maps': 'unionmap:{proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, '
                              'proxy:mysql:/etc/postfix/mysql-email2email.cf}',
        'virtual_mailbox_domains': 'mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf',
    }
    assert pc.mysql_tables(values) == [
        ('virtual_alias_maps', '/etc/postfix/mysql-virtual-alias-maps.cf', True),
        ('virtual_alias_maps', '/etc/postfix/mysql-email2email.cf', True),
        ('virtual_mailbox_domains', '/etc/postfix/mysql-virtual-mailbox-domains.cf', False),
    ]
    assert sorted(pc.mysql_client_files(values)) == [
        '/etc/postfix/mysql-email2email.cf', '/etc/postfix/mysql-virtual-alias-maps.cf',
        '/etc/postfix/mysql-virtual-mailbox-domains.cf']
