# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailfleet.postfix_mysql.postconf driven through main(), with postconf faked.

Each case of CASES gives the module arguments, every postconf call expected (exact
argv, and the rc/stdout/stderr it answers) and the expected result. The stdout and
stderr texts are what Postfix 3.7 and 3.10 really print.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

import pytest

from ansible.module_utils import basic

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postconf as postconf_utils
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_control import ConfigLock
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import postconf as postconf_module

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    @contextlib.contextmanager
    def patch_module_args(args=None):
        serialized = json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}).encode('utf-8')
        with mock.patch.object(basic, '_ANSIBLE_ARGS', serialized):
            yield


POSTCONF = '/usr/sbin/postconf'

# Warnings that postconf prints on every display run of a real mail server, about keys
# the task does not manage; the password must never reach the result.
NOISE = (
    'postconf: warning: /etc/postfix/master.cf: undefined parameter: never_defined\n'
    'postconf: warning: mysql:/etc/postfix/mysql-virtual.cf: unused parameter: passwrd=S3cret!\n'
    'postconf: warning: /etc/postfix/main.cf: unused parameter: my_unused=hello world\n'
)
NOISE_SUMMARY = [
    'warning: /etc/postfix/master.cf: undefined parameter: never_defined',
    'warning: mysql:/etc/postfix/mysql-virtual.cf: unused parameter: passwrd (value not shown)',
    'warning: /etc/postfix/main.cf: unused parameter: my_unused (value not shown)',
]


def unknown(*names):
    return ''.join('postconf: warning: %s: unknown parameter\n' % name for name in names)


def call(argv, stdout='', stderr='', rc=0):
    return (argv, rc, stdout, stderr)


CASES = [
    dict(
        id='one-name-changed',
        args=dict(name='biff', value=False),
        calls=[
            call([POSTCONF, '-n', 'biff'], 'biff = yes\n'),
            call([POSTCONF, '-e', 'biff=no']),
        ],
        result=dict(changed=True, changes={'biff': {'before': 'yes', 'after': 'no'}}, unknown=[],
                    postconf_warnings=[]),
    ),
    dict(
        id='one-name-unchanged-no-write',
        args=dict(name='biff', value=False),
        calls=[call([POSTCONF, '-n', 'biff'], 'biff = no\n')],
        result=dict(changed=False, changes={}),
    ),
    dict(
        id='several-names-one-read-one-write',
        args=dict(settings={
            'myhostname': 'mx1.example.org',
            'message_size_limit': 52428800,
            'smtpd_sasl_auth_enable': True,
            'relayhost': '',
            'inet_interfaces': 'all',
        }),
        calls=[
            call([POSTCONF, '-n', 'myhostname', 'message_size_limit', 'smtpd_sasl_auth_enable',
                  'relayhost', 'inet_interfaces'],
                 'myhostname = old.example.org\nrelayhost =\ninet_interfaces = all\n'),
            call([POSTCONF, '-e', 'myhostname=mx1.example.org', 'message_size_limit=52428800',
                  'smtpd_sasl_auth_enable=yes']),
        ],
        result=dict(changed=True, changes={
            'myhostname': {'before': 'old.example.org', 'after': 'mx1.example.org'},
            'message_size_limit': {'before': None, 'after': '52428800'},
            'smtpd_sasl_auth_enable': {'before': None, 'after': 'yes'},
        }),
    ),
    dict(
        id='empty-value-set',
        args=dict(name='relayhost', value=''),
        calls=[
            call([POSTCONF, '-n', 'relayhost'], ''),
            call([POSTCONF, '-e', 'relayhost=']),
        ],
        result=dict(changed=True, changes={'relayhost': {'before': None, 'after': ''}}),
    ),
    dict(
        id='check-mode-reports-and-does-not-write',
        args=dict(settings={'biff': False, 'mydestination': ['$myhostname', 'localhost']},
                  _ansible_check_mode=True),
        calls=[call([POSTCONF, '-n', 'biff', 'mydestination'], 'biff = yes\nmydestination = $myhostname\n')],
        result=dict(changed=True, changes={
            'biff': {'before': 'yes', 'after': 'no'},
            'mydestination': {'before': '$myhostname', 'after': '$myhostname, localhost'},
        }),
    ),
    dict(
        id='check-mode-unchanged',
        args=dict(settings={'biff': 'no'}, _ansible_check_mode=True),
        calls=[call([POSTCONF, '-n', 'biff'], 'biff = no\n')],
        result=dict(changed=False, changes={}),
    ),
    dict(
        id='diff-holds-changed-lines-only',
        args=dict(settings={'biff': False, 'mydestination': 'a, b', 'relayhost': '[smtp.example.org]:587'},
                  _ansible_diff=True),
        calls=[
            call([POSTCONF, '-n', 'biff', 'mydestination', 'relayhost'], 'biff = no\nmydestination = a\n'),
            call([POSTCONF, '-e', 'mydestination=a, b', 'relayhost=[smtp.example.org]:587']),
        ],
        result=dict(changed=True, diff={
            'before': 'mydestination = a\n',
            'after': 'mydestination = a, b\nrelayhost = [smtp.example.org]:587\n',
            'before_header': '/etc/postfix/main.cf',
            'after_header': '/etc/postfix/main.cf',
        }),
    ),
    dict(
        id='diff-in-check-mode',
        args=dict(name='relayhost', value='x', _ansible_diff=True, _ansible_check_mode=True),
        calls=[call([POSTCONF, '-n', 'relayhost'], 'relayhost =\n')],
        result=dict(changed=True, diff={
            'before': 'relayhost =\n', 'after': 'relayhost = x\n',
            'before_header': '/etc/postfix/main.cf', 'after_header': '/etc/postfix/main.cf',
        }),
    ),
    dict(
        id='absent-removes-set-names-only',
        args=dict(settings=['relay_domains', 'biff', 'mydestination'], state='absent', _ansible_diff=True),
        calls=[
            call([POSTCONF, '-n', 'relay_domains', 'biff', 'mydestination'], 'relay_domains = example.org\nbiff = no\n'),
            call([POSTCONF, '-X', 'relay_domains', 'biff']),
        ],
        result=dict(changed=True, changes={
            'relay_domains': {'before': 'example.org', 'after': None},
            'biff': {'before': 'no', 'after': None},
        }, diff={'before': 'relay_domains = example.org\nbiff = no\n', 'after': '',
                 'before_header': '/etc/postfix/main.cf', 'after_header': '/etc/postfix/main.cf'}),
    ),
    dict(
        id='absent-nothing-set-no-write',
        args=dict(settings={'relay_domains': 'ignored', 'biff': None}, state='absent'),
        calls=[call([POSTCONF, '-n', 'relay_domains', 'biff'], '')],
        result=dict(changed=False, changes={}),
    ),
    dict(
        id='absent-single-name',
        args=dict(name='relay_domains', state='absent'),
        calls=[
            call([POSTCONF, '-n', 'relay_domains'], 'relay_domains = $mydestination\n'),
            call([POSTCONF, '-X', 'relay_domains']),
        ],
        result=dict(changed=True, changes={'relay_domains': {'before': '$mydestination', 'after': None}}),
    ),
    dict(
        id='absent-unknown-names-never-fail-and-set-ones-are-removed',
        args=dict(settings=['old_custom', 'disable_dns_lookups'], state='absent'),
        calls=[
            call([POSTCONF, '-n', 'old_custom', 'disable_dns_lookups'], '',
                 unknown('old_custom', 'disable_dns_lookups')
                 + 'postconf: warning: /etc/postfix/main.cf: unused parameter: old_custom=a,   b\n'),
            call([POSTCONF, '-X', 'old_custom']),
        ],
        result=dict(changed=True, unknown=['old_custom', 'disable_dns_lookups'],
                    changes={'old_custom': {'before': 'a, b', 'after': None}}, postconf_warnings=[]),
    ),
    dict(
        id='absent-check-mode',
        args=dict(settings=['biff'], state='absent', _ansible_check_mode=True),
        calls=[call([POSTCONF, '-n', 'biff'], 'biff = no\n')],
        result=dict(changed=True, changes={'biff': {'before': 'no', 'after': None}}),
    ),
    dict(
        id='config-dir-in-every-argv',
        args=dict(settings={'inet_interfaces': '192.0.2.25'}, config_dir='/etc/postfix-out', _ansible_diff=True),
        calls=[
            call([POSTCONF, '-c', '/etc/postfix-out', '-n', 'inet_interfaces'], 'inet_interfaces = all\n'),
            call([POSTCONF, '-c', '/etc/postfix-out', '-e', 'inet_interfaces=192.0.2.25']),
        ],
        result=dict(changed=True, diff={
            'before': 'inet_interfaces = all\n', 'after': 'inet_interfaces = 192.0.2.25\n',
            'before_header': '/etc/postfix-out/main.cf', 'after_header': '/etc/postfix-out/main.cf',
        }),
    ),
    dict(
        id='config-dir-absent',
        args=dict(settings=['relay_domains'], state='absent', config_dir='/etc/postfix-out'),
        calls=[
            call([POSTCONF, '-c', '/etc/postfix-out', '-n', 'relay_domains'], 'relay_domains = x\n'),
            call([POSTCONF, '-c', '/etc/postfix-out', '-X', 'relay_domains']),
        ],
        result=dict(changed=True),
    ),
    dict(
        id='unknown-name-fails-before-writing',
        args=dict(settings={'biff': False, 'virtual_alias_mpas': 'hash:/etc/postfix/virtual'}),
        calls=[call([POSTCONF, '-n', 'biff', 'virtual_alias_mpas'], 'biff = yes\n',
                    NOISE + unknown('virtual_alias_mpas'))],
        failed='unknown Postfix parameter: virtual_alias_mpas (postconf: warning: virtual_alias_mpas: '
               'unknown parameter). Check the spelling; for a user-defined parameter set allow_unknown=true.',
        result=dict(unknown=['virtual_alias_mpas']),
    ),
    dict(
        id='several-unknown-names-named',
        args=dict(settings={'foo_x': 1, 'bar_y': 2}),
        calls=[call([POSTCONF, '-n', 'foo_x', 'bar_y'], '', unknown('foo_x', 'bar_y'))],
        failed='unknown Postfix parameters: foo_x, bar_y (postconf: warning: foo_x: unknown parameter; '
               'warning: bar_y: unknown parameter). Check the spelling; for a user-defined parameter set '
               'allow_unknown=true.',
    ),
    dict(
        id='unknown-name-allowed-and-set',
        args=dict(settings={'mua_helo_restrictions': ['permit_sasl_authenticated', 'reject']}, allow_unknown=True),
        calls=[
            call([POSTCONF, '-n', 'mua_helo_restrictions'], '', unknown('mua_helo_restrictions')),
            call([POSTCONF, '-e', 'mua_helo_restrictions=permit_sasl_authenticated, reject']),
        ],
        result=dict(changed=True, unknown=['mua_helo_restrictions'],
                    changes={'mua_helo_restrictions': {'before': None, 'after': 'permit_sasl_authenticated, reject'}}),
    ),
    dict(
        id='unknown-name-allowed-value-read-from-unused-warning-unchanged',
        args=dict(settings={'mua_helo_restrictions': 'permit_sasl_authenticated reject'}, allow_unknown=True),
        calls=[call([POSTCONF, '-n', 'mua_helo_restrictions'], '',
                    unknown('mua_helo_restrictions')
                    + 'postconf: warning: /etc/postfix/main.cf: unused parameter: '
                      'mua_helo_restrictions=permit_sasl_authenticated,    reject\n')],
        result=dict(changed=False, changes={}, unknown=['mua_helo_restrictions'], postconf_warnings=[]),
    ),
    dict(
        id='unused-value-from-a-client-file-is-not-taken-for-main-cf',
        args=dict(settings={'password': 'x'}, allow_unknown=True),
        calls=[
            call([POSTCONF, '-n', 'password'], '',
                 'postconf: warning: mysql:/etc/postfix/main.cf: unused parameter: password=x\n' + unknown('password')),
            call([POSTCONF, '-e', 'password=x']),
        ],
        result=dict(changed=True, changes={'password': {'before': None, 'after': 'x'}},
                    postconf_warnings=['warning: mysql:/etc/postfix/main.cf: unused parameter: password '
                                       '(value not shown)']),
    ),
    dict(
        id='referenced-but-undefined-name-counts-as-known',
        args=dict(settings={'mua_sender_restrictions': 'reject_sender_login_mismatch'}),
        calls=[
            call([POSTCONF, '-n', 'mua_sender_restrictions'], '',
                 'postconf: warning: /etc/postfix/master.cf: undefined parameter: mua_sender_restrictions\n'
                 + unknown('mua_sender_restrictions')),
            call([POSTCONF, '-e', 'mua_sender_restrictions=reject_sender_login_mismatch']),
        ],
        result=dict(changed=True, unknown=[], postconf_warnings=[]),
    ),
    dict(
        id='newline-refused-before-anything-runs',
        args=dict(settings={'biff': 'no', 'smtpd_banner': 'line one\nline two'}),
        calls=[],
        failed='smtpd_banner: a main.cf value cannot contain a newline or a carriage return',
    ),
    dict(
        id='newline-in-list-item-refused',
        args=dict(name='mynetworks', value=['127.0.0.0/8', '10.0.0.0/8\r']),
        calls=[],
        failed='mynetworks: a main.cf value cannot contain a newline or a carriage return',
    ),
    dict(
        id='null-value-refused',
        args=dict(settings={'relayhost': None}),
        calls=[],
        failed='relayhost: the value is null; use "" for an empty value or state=absent to remove the setting',
    ),
    dict(
        id='name-without-value-refused',
        args=dict(name='relayhost'),
        calls=[],
        failed='relayhost: value is required with state=present',
    ),
    dict(
        id='bad-name-refused',
        args=dict(settings={'bad name': 'x'}),
        calls=[],
        failed="invalid Postfix parameter name 'bad name': use letters, digits, \"_\", \"-\" and \".\"",
    ),
    dict(
        id='list-with-state-present-refused',
        args=dict(settings=['biff']),
        calls=[],
        failed='settings must be a mapping of parameter name to value with state=present',
    ),
    dict(
        id='list-value-written-comma-separated',
        args=dict(settings={'virtual_alias_maps': [
            'proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf',
            'proxy:mysql:/etc/postfix/mysql-email2email.cf']}),
        calls=[
            call([POSTCONF, '-n', 'virtual_alias_maps'], 'virtual_alias_maps = hash:/etc/postfix/virtual\n'),
            call([POSTCONF, '-e', 'virtual_alias_maps=proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, '
                                  'proxy:mysql:/etc/postfix/mysql-email2email.cf']),
        ],
        result=dict(changed=True),
    ),
    dict(
        id='list-order-matters',
        args=dict(settings={'mydestination': ['localhost', '$myhostname']}),
        calls=[
            call([POSTCONF, '-n', 'mydestination'], 'mydestination = $myhostname, localhost\n'),
            call([POSTCONF, '-e', 'mydestination=localhost, $myhostname']),
        ],
        result=dict(changed=True),
    ),
    dict(
        id='equivalent-spellings-unchanged',
        args=dict(settings={
            'mydestination': '$myhostname localhost.localdomain,localhost',
            'mynetworks': ['127.0.0.0/8', '[::ffff:127.0.0.0]/104', '[::1]/128'],
            'smtpd_relay_restrictions': 'permit_mynetworks,,permit_sasl_authenticated ,defer_unauth_destination',
            'smtpd_recipient_restrictions': [
                'permit_mynetworks',
                'check_policy_service {  inet:127.0.0.1:10023, timeout=10s }',
                'reject_unauth_destination'],
            'biff': False,
            'smtpd_tls_security_level': 'may',
        }),
        calls=[call([POSTCONF, '-n', 'mydestination', 'mynetworks', 'smtpd_relay_restrictions',
                     'smtpd_recipient_restrictions', 'biff', 'smtpd_tls_security_level'],
                    'biff = no\n'
                    'mydestination = $myhostname, localhost.localdomain, localhost\n'
                    'mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n'
                    'smtpd_recipient_restrictions = permit_mynetworks, check_policy_service '
                    '{ inet:127.0.0.1:10023, timeout=10s }, reject_unauth_destination\n'
                    'smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination\n'
                    'smtpd_tls_security_level = may\n')],
        result=dict(changed=False, changes={}),
    ),
    dict(
        id='commas-inside-braces-are-not-separators',
        args=dict(settings={'smtpd_recipient_restrictions':
                            'check_policy_service { inet:127.0.0.1:10023 timeout=10s }'}),
        calls=[
            call([POSTCONF, '-n', 'smtpd_recipient_restrictions'],
                 'smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:10023, timeout=10s }\n'),
            call([POSTCONF, '-e',
                  'smtpd_recipient_restrictions=check_policy_service { inet:127.0.0.1:10023 timeout=10s }']),
        ],
        result=dict(changed=True),
    ),
    dict(
        id='free-text-comma-is-text',
        args=dict(settings={'smtpd_banner': '$myhostname ESMTP, no UCE'}),
        calls=[
            call([POSTCONF, '-n', 'smtpd_banner'], 'smtpd_banner = $myhostname ESMTP no UCE\n'),
            call([POSTCONF, '-e', 'smtpd_banner=$myhostname ESMTP, no UCE']),
        ],
        result=dict(changed=True, changes={'smtpd_banner': {'before': '$myhostname ESMTP no UCE',
                                                            'after': '$myhostname ESMTP, no UCE'}}),
    ),
    dict(
        id='free-text-written-verbatim-and-unchanged-when-equal',
        args=dict(settings={'smtpd_banner': '$myhostname ESMTP, no UCE',
                            'default_rbl_reply': '$rbl_code Service unavailable; $rbl_class [$rbl_what] '
                                                 'blocked using $rbl_domain${rbl_reason?; $rbl_reason}'}),
        calls=[call([POSTCONF, '-n', 'smtpd_banner', 'default_rbl_reply'],
                    'default_rbl_reply = $rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using '
                    '$rbl_domain${rbl_reason?; $rbl_reason}\n'
                    'smtpd_banner = $myhostname ESMTP, no UCE\n')],
        result=dict(changed=False),
    ),
    dict(
        id='user-defined-free-text-name',
        args=dict(settings={'submission_notice': 'a, b'}, free_text_names=['submission_notice'],
                  allow_unknown=True),
        calls=[
            call([POSTCONF, '-n', 'submission_notice'], '',
                 unknown('submission_notice')
                 + 'postconf: warning: /etc/postfix/main.cf: unused parameter: submission_notice=a b\n'),
            call([POSTCONF, '-e', 'submission_notice=a, b']),
        ],
        result=dict(changed=True, changes={'submission_notice': {'before': 'a b', 'after': 'a, b'}}),
    ),
    dict(
        id='warnings-about-other-keys-do-not-fail-and-hide-values',
        args=dict(settings={'virtual_mailbox_domains': 'proxy:mysql:/etc/postfix/mysql-virtual.cf'}),
        calls=[call([POSTCONF, '-n', 'virtual_mailbox_domains'],
                    'virtual_mailbox_domains = proxy:mysql:/etc/postfix/mysql-virtual.cf\n', NOISE)],
        result=dict(changed=False, postconf_warnings=NOISE_SUMMARY),
        warnings=[],
    ),
    dict(
        id='managed-name-set-twice-warns',
        args=dict(settings={'biff': True}),
        calls=[
            call([POSTCONF, '-n', 'biff'], 'biff = no\n',
                 'postconf: warning: /etc/postfix/main.cf, line 48: overriding earlier entry: biff=yes\n'
                 'postconf: warning: /etc/postfix/main.cf, line 47: overriding earlier entry: mynetworks=10.0.0.0/8\n'
                 'postconf: warning: /etc/postfix/main.cf, line 48: overriding earlier entry: biff=yes\n'),
            call([POSTCONF, '-e', 'biff=yes'], '', 'postconf: warning: /etc/postfix/main.cf: multiple entries for "biff"\n'),
        ],
        result=dict(changed=True, postconf_warnings=[
            'warning: /etc/postfix/main.cf, line 47: overriding earlier entry: mynetworks (value not shown)']),
        warnings=['/etc/postfix/main.cf sets biff more than once; Postfix uses the last entry and postconf '
                  'updates all of them'],
    ),
    dict(
        id='read-failure-names-parameters-and-hides-quoted-line',
        args=dict(settings={'biff': False}),
        calls=[call([POSTCONF, '-n', 'biff'], '',
                    'postconf: warning: /etc/postfix/master.cf: undefined parameter: never_defined\n'
                    "postconf: fatal: /etc/postfix/mysql-virtual.cf, line 3: missing '=' after attribute name: "
                    '"password S3cret!"\n', rc=1)],
        failed="postconf failed to read biff from /etc/postfix/main.cf (rc=1): fatal: "
               "/etc/postfix/mysql-virtual.cf, line 3: missing '=' after attribute name: \"********\"",
        result=dict(rc=1, stderr='warning: /etc/postfix/master.cf: undefined parameter: never_defined\n'
                                 "fatal: /etc/postfix/mysql-virtual.cf, line 3: missing '=' after attribute name: "
                                 '"********"'),
    ),
    dict(
        id='missing-config-dir-fails',
        args=dict(settings={'biff': False}, config_dir='/nonexistent'),
        calls=[call([POSTCONF, '-c', '/nonexistent', '-n', 'biff'], '',
                    'postconf: fatal: open /nonexistent/main.cf: No such file or directory\n', rc=1)],
        failed='postconf failed to read biff from /nonexistent/main.cf (rc=1): fatal: open /nonexistent/main.cf: '
               'No such file or directory',
    ),
    dict(
        id='write-failure-names-parameters',
        args=dict(settings={'biff': False, 'relayhost': 'x'}),
        calls=[
            call([POSTCONF, '-n', 'biff', 'relayhost'], 'biff = yes\n'),
            call([POSTCONF, '-e', 'biff=no', 'relayhost=x'], '',
                 'postconf: fatal: open /etc/postfix/main.cf.tmp: Permission denied\n', rc=1),
        ],
        failed='postconf failed to set biff, relayhost in /etc/postfix/main.cf (rc=1): fatal: open '
               '/etc/postfix/main.cf.tmp: Permission denied',
        result=dict(cmd=[POSTCONF, '-e', 'biff=no', 'relayhost=x']),
    ),
    dict(
        id='empty-settings-runs-nothing',
        args=dict(settings={}),
        calls=[],
        result=dict(changed=False, changes={}),
    ),
    dict(
        id='missing-binary',
        args=dict(settings={'biff': False}),
        calls=[],
        postconf_path=None,
        failed='postconf not found: is Postfix installed on mx1.example.org? (looked in PATH, /sbin, '
               '/usr/sbin and /usr/local/sbin)',
    ),
    dict(
        id='settings-and-name-mutually-exclusive',
        args=dict(settings={'biff': False}, name='biff'),
        calls=[],
        failed='parameters are mutually exclusive: settings|name',
    ),
]


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


class FakePostconf(object):
    """Answers run_command with the case's calls, in order, checking each argv."""

    def __init__(self, calls):
        self.calls = list(calls)
        self.seen = []

    def run_command(self, args, **kwargs):
        assert isinstance(args, list), 'run_command must get an argument list, got %r' % (args,)
        assert kwargs.get('environ_update') == C_LOCALE_ENV
        assert 'use_unsafe_shell' not in kwargs
        assert self.calls, 'unexpected postconf call %r' % (args,)
        argv, rc, stdout, stderr = self.calls.pop(0)
        self.seen.append(args)
        assert args == argv
        return rc, stdout, stderr


@pytest.fixture
def run_module(monkeypatch):
    def run(case):
        fake = FakePostconf(case['calls'])
        warnings = []
        postconf_path = case.get('postconf_path', POSTCONF)

        def exit_json(module, **kwargs):
            raise AnsibleExitJson(kwargs)

        def fail_json(module, **kwargs):
            raise AnsibleFailJson(kwargs)

        def run_command(module, args, **kwargs):
            return fake.run_command(args, **kwargs)

        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                            lambda module, name, required=False, opt_dirs=None: postconf_path)
        monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
        monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
        monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda module, msg, **kw: warnings.append(msg))
        monkeypatch.setattr(postconf_utils.platform, 'node', lambda: 'mx1.example.org')
        monkeypatch.delenv('MAIL_CONFIG', raising=False)

        with patch_module_args(case['args']):
            with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as excinfo:
                postconf_module.main()
        return excinfo, fake, warnings
    return run


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_postconf_module(run_module, case):
    excinfo, fake, warnings = run_module(case)
    result = excinfo.value.args[0]

    assert fake.calls == [], 'postconf calls expected but not run: %r' % (fake.calls,)
    if 'failed' in case:
        assert excinfo.type is AnsibleFailJson, result
        assert result['msg'] == case['failed']
    else:
        assert excinfo.type is AnsibleExitJson, result
        assert set(['changed', 'changes', 'unknown', 'postconf_warnings']) <= set(result)
        if not result['changed']:
            assert not [argv for argv in fake.seen if '-e' in argv or '-X' in argv]
    for key, value in case.get('result', {}).items():
        assert result[key] == value, key
    if 'diff' not in case.get('result', {}) and not case['args'].get('_ansible_diff'):
        assert 'diff' not in result
    if 'warnings' in case:
        assert warnings == case['warnings']
    # No configuration value that postconf printed about other keys may leak.
    assert 'S3cret' not in json.dumps(result) + ''.join(warnings)


def test_check_mode_never_writes(run_module):
    """Every check-mode case runs the read only."""
    for case in CASES:
        if case['args'].get('_ansible_check_mode'):
            dummy, fake, dummy = run_module(case)
            assert fake.seen and all('-n' in argv and '-e' not in argv and '-X' not in argv for argv in fake.seen)


def test_a_held_lock_fails_before_main_cf_is_read(run_module, tmp_path):
    config_dir = str(tmp_path)
    holder = ConfigLock(config_dir, 'mailfleet.postfix_mysql.mysql_maps').acquire(0)
    try:
        excinfo, fake, _warnings = run_module({'calls': [], 'args': {
            'name': 'myhostname', 'value': 'mx1.example.org', 'config_dir': config_dir, 'lock_timeout': 0}})
    finally:
        holder.release()
    result = excinfo.value.args[0]
    assert excinfo.type is AnsibleFailJson and fake.seen == []
    assert result['msg'].startswith('nothing was changed: another run (mailfleet.postfix_mysql.mysql_maps, pid ')
