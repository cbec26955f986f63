# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

import pytest

from ansible.module_utils import basic

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import postmap_query
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postconf import KNOWN, FakePostconf
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postmap import FakePostfix
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import run_main

PASSWORD = 'S3cr3t-pw#1'
POSTMAP = '/usr/sbin/postmap'
ALIASES = {
    'postmaster@example.org': 'john@example.org',
    'team@example.org': 'john@example.org,jane@example.org',
    '@example.org': 'jane@example.org',
}
IDENTITY = {'john@example.org': 'john@example.org', 'jane@example.org': 'jane@example.org'}


@pytest.fixture
def files(tmp_path):
    """Two client files with a password, as the ISPmail tutorial writes them."""
    out = {}
    for name in ('aliases', 'email2email'):
        path = tmp_path / ('mysql-%s.cf' % name)
        path.write_text('user = mailuser\npassword = %s\nhosts = 127.0.0.1\ndbname = mailserver\n'
                        "query = SELECT 1 FROM x WHERE y='%%s'\n" % PASSWORD)
        out[name] = 'mysql:%s' % path
    return out


@pytest.fixture
def run_module(monkeypatch):
    """Run main() with args and a fake postmap; return (kind, result, module, fake)."""

    def run(args, fake):
        monkeypatch.setattr(postmap_query, 'PostmapRunner', fake)
        kind, result, module = run_main(monkeypatch, postmap_query.main, args, bin_dir='/usr/sbin')
        return kind, result, module, fake

    return run


def test_found_and_not_found(run_module, files):
    fake = FakePostfix({files['aliases']: ALIASES})
    kind, result, module, fake = run_module(
        {'table': files['aliases'], 'keys': ['postmaster@example.org', 'nobody@example.org', 'team@example.org']},
        fake)
    assert kind == 'exit'
    assert result['changed'] is False
    assert result['answers'] == {'postmaster@example.org': 'john@example.org', 'nobody@example.org': None,
                                 'team@example.org': 'john@example.org,jane@example.org'}
    assert (result['found'], result['missing'], result['processes']) == (2, 1, 1)
    assert result['tables'] == [files['aliases']]
    assert fake.jobs == [([POSTMAP, '-q', '-', files['aliases']],
                          'postmaster@example.org\nnobody@example.org\nteam@example.org\n')]
    assert fake.timeout == 120
    # The client file's password is scrubbed by AnsibleModule from all output too.
    assert PASSWORD in module.no_log_values


def test_check_mode_same_answers(run_module, files):
    fake = FakePostfix({files['aliases']: ALIASES})
    kind, result, module, fake = run_module(
        {'table': files['aliases'], 'keys': 'postmaster@example.org', '_ansible_check_mode': True}, fake)
    assert kind == 'exit' and result['changed'] is False
    assert result['answers'] == {'postmaster@example.org': 'john@example.org'}


def test_tables_first_hit_wins(run_module, files):
    fake = FakePostfix({files['aliases']: dict(ALIASES, **{'john@example.org': 'other@example.net'}),
                        files['email2email']: IDENTITY})
    kind, result, module, fake = run_module(
        {'tables': [files['aliases'], files['email2email']],
         'keys': ['john@example.org', 'jane@example.org', 'nobody@example.org'],
         'config_dir': '/etc/postfix-out', 'parallel': 1, 'timeout': 7}, fake)
    assert kind == 'exit'
    assert result['answers'] == {'john@example.org': 'other@example.net', 'jane@example.org': 'jane@example.org',
                                 'nobody@example.org': None}
    assert result['answered_by'] == {'john@example.org': files['aliases'], 'jane@example.org': files['email2email']}
    assert fake.jobs == [
        ([POSTMAP, '-c', '/etc/postfix-out', '-q', '-', files['aliases']],
         'john@example.org\njane@example.org\nnobody@example.org\n'),
        ([POSTMAP, '-c', '/etc/postfix-out', '-q', '-', files['email2email']], 'jane@example.org\nnobody@example.org\n'),
    ]
    assert fake.timeout == 7


def test_parallel_chunks(run_module, files):
    keys = ['user%d@example.org' % i for i in range(600)]
    values = dict((k, 'd%d' % i) for i, k in enumerate(keys) if i % 2)
    kind, result, module, fake = run_module(
        {'table': files['aliases'], 'keys': keys, 'parallel': 3}, FakePostfix({files['aliases']: values}))
    assert kind == 'exit'
    assert result['processes'] == 3
    assert [data.count('\n') for argv, data in fake.jobs] == [200, 200, 200]
    assert result['answers'] == dict((k, values.get(k)) for k in keys)


@pytest.mark.parametrize('expect, answers_ok, table', [
    ({'postmaster@example.org': 'john@example.org', 'nobody@example.org': None,
      'team@example.org': ['jane@example.org', 'john@example.org']}, True, None),
    ({'postmaster@example.org': 'jane@example.org', 'nobody@example.org': 'x@example.org',
      'team@example.org': ['jane@example.org'], '@example.org': None, 'k@example.org': None}, False,
     '4 of 5 expected answers differ:\n'
     'key                     expected                     got\n'
     '----------------------  ---------------------------  ---------------------------------\n'
     'postmaster@example.org  jane@example.org             john@example.org\n'
     'nobody@example.org      x@example.org                (not found)\n'
     'team@example.org        any order: jane@example.org  john@example.org,jane@example.org\n'
     '@example.org            (not found)                  jane@example.org'),
], ids=['match', 'mismatch'])
def test_expect(run_module, files, expect, answers_ok, table):
    kind, result, module, fake = run_module(
        {'table': files['aliases'], 'keys': ['k@example.org'], 'expect': expect},
        FakePostfix({files['aliases']: ALIASES}))
    assert set(result['answers']) == set(expect) | {'k@example.org'}
    if answers_ok:
        assert kind == 'exit'
    else:
        assert kind == 'fail'
        assert result['msg'] == table
        assert result['mismatches'][0] == {'key': 'postmaster@example.org', 'expected': 'jane@example.org',
                                           'got': 'john@example.org'}
        assert len(result['mismatches']) == 4


def test_expect_numbers_compare_as_text(run_module, files):
    kind, result, module, fake = run_module(
        {'table': files['aliases'], 'expect': {'example.org': 1, 'example.net': None}},
        FakePostfix({files['aliases']: {'example.org': '1'}}))
    assert kind == 'exit'
    assert result['answers'] == {'example.org': '1', 'example.net': None}


# Real stderr of postmap 3.7.11 (Debian 12) / MariaDB 10.11, see module_utils tests.
ERRORS = [
    ('access_denied', "postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
                      "'mailuser'@'localhost' (using password: YES)\n"
                      "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n"),
    ('connect', "postmap: warning: connect to mysql server 127.0.0.1: Can't connect to server on '127.0.0.1' (115)\n"
                "postmap: fatal: table {table}: query error: Operation now in progress\n"),
    ('query', "postmap: warning: {table}: query failed: Unknown column 'sourcex' in 'WHERE'\n"
              "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n"),
    ('unreadable', 'postmap: fatal: open {path}: Permission denied\n'),
    ('missing_file', 'postmap: fatal: open {path}: No such file or directory\n'),
    ('unsupported_type', 'postmap: fatal: unsupported dictionary type: mysql\n'),
    # Postfix itself echoing the password (an indented password line glued to user).
    ('access_denied', "postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
                      "'mailuser  password = %s'@'localhost' (using password: NO)\n"
                      "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n" % PASSWORD),
]


@pytest.mark.parametrize('error_kind, stderr', ERRORS)
def test_table_errors(run_module, files, error_kind, stderr):
    table = files['aliases']
    stderr = stderr.format(table=table, path=table.split(':', 1)[1])
    kind, result, module, fake = run_module(
        {'table': table, 'keys': ['postmaster@example.org'], 'expect': {'x@example.org': PASSWORD}},
        FakePostfix(errors={table: stderr}))
    assert kind == 'fail'
    assert result['error_kind'] == error_kind
    assert result['failed_table'] == table
    assert result['hosts'] == ['127.0.0.1']
    assert result['msg'].startswith('postmap cannot query table %s (database host(s): 127.0.0.1): ' % table)
    assert result['postfix_messages'][-1].startswith('fatal: ')
    assert PASSWORD not in json.dumps(result)
    assert PASSWORD in module.no_log_values


def test_password_not_in_answers_or_mismatches(run_module, files):
    kind, result, module, fake = run_module(
        {'table': files['aliases'], 'expect': {'a@x': 'b@x', 'c@x': PASSWORD}},
        FakePostfix({files['aliases']: {'a@x': 'pw=' + PASSWORD}}))
    assert kind == 'fail'
    assert result['answers'] == {'a@x': 'pw=********', 'c@x': None}
    assert PASSWORD not in json.dumps(result)


@pytest.mark.parametrize('args, words', [
    ({'keys': ['a@x', '']}, "refused key(s) ''"),
    ({'keys': ['a\nb@x']}, "refused key(s) 'a\\nb@x'"),
    ({'keys': []}, 'nothing to look up'),
    ({'keys': ['a@x'], 'parallel': -1}, 'parallel must be'),
    ({'keys': ['a@x'], 'timeout': 0}, 'timeout must be'),
])
def test_refused(run_module, files, args, words):
    args = dict(args, table=files['aliases'])
    kind, result, module, fake = run_module(args, FakePostfix())
    assert kind == 'fail'
    assert words in result['msg']
    assert result['error_kind'] == 'refused'
    assert fake.jobs == []


@pytest.mark.parametrize('args, words', [
    ({'keys': ['a@x']}, 'one of the following is required: table, tables, parameter'),
    ({'table': 'hash:/a', 'tables': ['hash:/b'], 'keys': ['a@x']}, 'mutually exclusive: table|tables|parameter'),
    ({'table': 'hash:/a', 'parameter': 'virtual_alias_maps', 'keys': ['a@x']},
     'mutually exclusive: table|tables|parameter'),
    ({'tables': ['hash:/a'], 'parameter': 'virtual_alias_maps', 'keys': ['a@x']},
     'mutually exclusive: table|tables|parameter'),
    ({'table': 'hash:/a'}, 'one of the following is required: keys, expect'),
])
def test_argument_errors(run_module, args, words):
    kind, result, module, fake = run_module(args, FakePostfix())
    assert kind == 'fail'
    assert words in result['msg']
    assert fake.jobs == []


# ---------------------------------------------------------------- parameter: the host's main.cf

POSTCONF = '/usr/sbin/postconf'
# What postconf prints on every display run of a real mail server about OTHER keys,
# values included: none of it may reach the result.
POSTCONF_NOISE = ('postconf: warning: mysql:/etc/postfix/mysql-old.cf: unused parameter: passwrd=%s\n'
                  'postconf: warning: /etc/postfix/main.cf: unused parameter: my_note=hello\n' % PASSWORD)


class LiveMainCf(FakePostconf):
    """The shared fake postconf, also answering ``postconf [-c DIR] [-x] -h NAME`` like the
    real one (postconf_main.c): the value raw with -h alone, $name references expanded
    with -x, the default (here "") when main.cf does not set it, and for a name it does
    not know a warning and exit status 0. Display runs also print POSTCONF_NOISE.
    ``answer`` replaces every answer (rc, stdout, stderr)."""

    REFERENCE = re.compile(r'\$(?:\{(\w+)\}|\((\w+)\)|(\w+))')

    def __init__(self, main_cf=None, answer=None):
        super(LiveMainCf, self).__init__(main_cf)
        self.answer = answer

    def expand(self, value, depth=0):
        assert depth < 10
        return self.REFERENCE.sub(
            lambda m: self.expand(self.main_cf.get(m.group(1) or m.group(2) or m.group(3), ''), depth + 1), value)

    def __call__(self, argv):
        args = list(argv[1:])
        if args[:1] == ['-c']:
            args = args[2:]
        if args[:-1] not in (['-h'], ['-x', '-h']) or args == ['-h', 'mail_version']:
            return super(LiveMainCf, self).__call__(argv)
        self.calls.append(list(argv))
        if self.answer is not None:
            return self.answer
        name = args[-1]
        if name not in self.main_cf and name not in KNOWN:
            return 0, '', POSTCONF_NOISE + 'postconf: warning: %s: unknown parameter\n' % name
        value = self.main_cf.get(name, '')
        if '-x' in args:
            value = self.expand(value)
        return 0, ' '.join(value.split()) + '\n', POSTCONF_NOISE


@pytest.fixture
def run_parameter(monkeypatch, run_module):
    """run_module with postconf faked too; returns (kind, result, module, fake postmap).
    Every postconf call must ask for the C locale."""

    def run(args, postconf, fake):
        def run_command(self, argv, **kwargs):
            assert kwargs.get('environ_update') == C_LOCALE_ENV, argv
            return postconf(argv)

        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        return run_module(args, fake)

    return run


def test_parameter_asks_the_tables_of_the_hosts_main_cf(run_parameter, files):
    postconf = LiveMainCf({'virtual_alias_maps': '%s,\n    %s' % (files['aliases'], files['email2email'])})
    fake = FakePostfix({files['aliases']: ALIASES, files['email2email']: IDENTITY})
    kind, result, module, fake = run_parameter(
        {'parameter': 'virtual_alias_maps', 'expect': {'postmaster@example.org': 'john@example.org',
                                                       'jane@example.org': 'jane@example.org'}},
        postconf, fake)
    assert kind == 'exit', result
    assert postconf.calls == [[POSTCONF, '-x', '-h', 'virtual_alias_maps']]
    assert result['tables'] == [files['aliases'], files['email2email']]
    assert result['answered_by'] == {'postmaster@example.org': files['aliases'], 'jane@example.org': files['email2email']}
    assert [argv for argv, data in fake.jobs] == [[POSTMAP, '-q', '-', files['aliases']],
                                                  [POSTMAP, '-q', '-', files['email2email']]]
    assert PASSWORD in module.no_log_values
    assert PASSWORD not in json.dumps(result)


def test_parameter_uses_the_config_dir_for_postconf_and_postmap(run_parameter, files):
    postconf = LiveMainCf({'virtual_alias_maps': files['aliases']})
    kind, result, module, fake = run_parameter(
        {'parameter': 'virtual_alias_maps', 'keys': ['postmaster@example.org'], 'config_dir': '/etc/postfix-out'},
        postconf, FakePostfix({files['aliases']: ALIASES}))
    assert kind == 'exit', result
    assert postconf.calls == [[POSTCONF, '-c', '/etc/postfix-out', '-x', '-h', 'virtual_alias_maps']]
    assert fake.jobs == [([POSTMAP, '-c', '/etc/postfix-out', '-q', '-', files['aliases']], 'postmaster@example.org\n')]


def test_parameter_keeps_a_unionmap_whole(run_parameter, files):
    # postconf prints the value with runs of blanks collapsed; the group stays one table.
    union = 'unionmap:{ %s, %s }' % (files['aliases'], files['email2email'])
    postconf = LiveMainCf({'virtual_alias_maps': 'unionmap:{ %s,\n  %s } hash:/etc/postfix/virtual'
                                                 % (files['aliases'], files['email2email'])})
    fake = FakePostfix({union: {'john@example.org': 'john@example.org,other@example.net'},
                        'hash:/etc/postfix/virtual': {'x@example.org': 'y@example.org'}})
    kind, result, module, fake = run_parameter(
        {'parameter': 'virtual_alias_maps', 'keys': ['john@example.org', 'x@example.org']}, postconf, fake)
    assert kind == 'exit', result
    assert result['tables'] == [union, 'hash:/etc/postfix/virtual']
    assert [argv[-1] for argv, data in fake.jobs] == result['tables']
    assert result['answered_by'] == {'john@example.org': union, 'x@example.org': 'hash:/etc/postfix/virtual'}
    # The client files inside the unionmap were read: their password is hidden too.
    assert PASSWORD in module.no_log_values


def test_parameter_references_are_expanded(run_parameter, files):
    """virtual_mailbox_domains = $virtual_mailbox_maps: postconf -h alone would print the
    reference itself; the module asks with -x and gets the tables."""
    main_cf = {'virtual_mailbox_domains': '$virtual_mailbox_maps, ${extra_domains}',
               'virtual_mailbox_maps': files['aliases'], 'extra_domains': 'hash:/etc/postfix/domains'}
    postconf = LiveMainCf(main_cf)
    assert postconf([POSTCONF, '-h', 'virtual_mailbox_domains'])[1] == '$virtual_mailbox_maps, ${extra_domains}\n'
    postconf.calls = []
    kind, result, module, fake = run_parameter(
        {'parameter': 'virtual_mailbox_domains', 'expect': {'example.org': '1'}},
        postconf, FakePostfix({files['aliases']: {'example.org': '1'}}))
    assert kind == 'exit', result
    assert postconf.calls == [[POSTCONF, '-x', '-h', 'virtual_mailbox_domains']]
    assert result['tables'] == [files['aliases'], 'hash:/etc/postfix/domains']


@pytest.mark.parametrize('main_cf, answer, error_kind, words', [
    ({}, None, 'unknown_parameter',
     'virtual_alias_mapz is not a parameter the Postfix of this host knows (postconf: "virtual_alias_mapz: '
     'unknown parameter")'),
    ({'virtual_alias_mapz': ''}, None, 'empty_parameter',
     'virtual_alias_mapz is empty on this host (/etc/postfix/main.cf, $name references expanded): '
     'it lists no table to ask'),
    ({'virtual_alias_mapz': '$never_set'}, None, 'empty_parameter', 'is empty on this host'),
    ({'virtual_alias_mapz': 'example.org, hash:/etc/postfix/virtual'}, None, 'not_a_table',
     'virtual_alias_mapz on this host is example.org, hash:/etc/postfix/virtual: example.org is not a table '
     '(type:name) that postmap can ask'),
    (None, (1, '', 'postconf: fatal: open /etc/postfix/main.cf: No such file or directory\n'), 'postconf',
     'postconf cannot read virtual_alias_mapz from /etc/postfix/main.cf (exit status 1)\nPostfix said:\n'
     '  fatal: open /etc/postfix/main.cf: No such file or directory'),
], ids=['unknown', 'empty', 'empty-reference', 'not-a-table', 'postconf-fails'])
def test_parameter_that_gives_no_tables_fails_clearly(run_parameter, main_cf, answer, error_kind, words):
    postconf = LiveMainCf(main_cf, answer=answer)
    kind, result, module, fake = run_parameter(
        {'parameter': 'virtual_alias_mapz', 'keys': ['a@example.org']}, postconf, FakePostfix())
    assert kind == 'fail'
    assert result['error_kind'] == error_kind
    assert words in result['msg']
    assert result['tables'] == []
    assert fake.jobs == []
    assert PASSWORD not in json.dumps(result)


@pytest.mark.parametrize('name', ['virtual_alias_maps=hash:/x', '-e', 'virtual alias maps', ''])
def test_parameter_name_is_refused_before_postconf_runs(run_parameter, name):
    postconf = LiveMainCf()
    kind, result, module, fake = run_parameter({'parameter': name, 'keys': ['a@x']}, postconf, FakePostfix())
    assert kind == 'fail'
    assert result['error_kind'] == 'refused'
    assert result['msg'].startswith('refused parameter: invalid Postfix parameter name')
    assert postconf.calls == [] and fake.jobs == []


# ---------------------------------------------------------------- checks: several lookups, one run

def test_checks_are_answered_in_one_run_each_with_its_item(run_module, files):
    fake = FakePostfix({files['aliases']: ALIASES, files['email2email']: IDENTITY})
    checks = [
        {'table': files['aliases'], 'expect': {'postmaster@example.org': 'john@example.org'}, 'item': {'map': 'a'}},
        {'tables': [files['aliases'], files['email2email']], 'keys': ['jane@example.org'], 'item': 'second'},
    ]
    kind, result, module, fake = run_module({'checks': checks, 'config_dir': '/etc/postfix'}, fake)
    assert kind == 'exit' and result['changed'] is False
    assert [r['item'] for r in result['results']] == [{'map': 'a'}, 'second']
    assert [r['failed'] for r in result['results']] == [False, False]
    assert result['results'][0]['answers'] == {'postmaster@example.org': 'john@example.org'}
    assert result['results'][1]['answered_by'] == {'jane@example.org': files['email2email']}
    assert len(fake.jobs) == 3
    assert PASSWORD in module.no_log_values


def test_a_failed_check_fails_the_run_after_every_check_was_answered(run_module, files):
    fake = FakePostfix({files['aliases']: ALIASES, files['email2email']: IDENTITY})
    checks = [
        {'table': files['aliases'], 'expect': {'postmaster@example.org': 'jane@example.org'}, 'item': 'wrong'},
        {'table': files['email2email'], 'expect': {'jane@example.org': 'jane@example.org'}, 'item': 'right'},
        {'table': files['email2email'], 'keys': [], 'item': 'nothing'},
    ]
    kind, result, module, fake = run_module({'checks': checks}, fake)
    assert kind == 'fail'
    assert result['msg'].startswith('2 of 3 checks failed: check 1: 1 of 1 expected answers differ:\n')
    assert 'check 3: nothing to look up' in result['msg']
    assert [r['failed'] for r in result['results']] == [True, False, True]
    assert result['results'][0]['mismatches'] == [dict(key='postmaster@example.org', expected='jane@example.org',
                                                       got='john@example.org')]
    assert result['results'][1]['answers'] == {'jane@example.org': 'jane@example.org'}


@pytest.mark.parametrize('args, words', [
    ({'checks': [{'keys': ['a@x']}]}, 'one of the following is required: table, tables, parameter'),
    ({'checks': [{'table': 'hash:/a', 'parameter': 'x', 'keys': ['a@x']}]}, 'mutually exclusive: table|tables|parameter found in checks'),
    ({'checks': [{'table': 'hash:/a', 'keys': ['a@x']}], 'table': 'hash:/b'}, 'mutually exclusive'),
    ({'checks': [{'table': 'hash:/a', 'keys': ['a@x']}], 'keys': ['b@x']}, 'mutually exclusive: checks|keys'),
])
def test_checks_argument_errors(run_module, args, words):
    kind, result, module, fake = run_module(args, FakePostfix())
    assert kind == 'fail'
    assert words in result['msg'], result['msg']
    assert fake.jobs == []
