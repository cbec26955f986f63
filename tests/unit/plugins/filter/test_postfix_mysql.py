# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mailfleet.postfix_mysql.plugins.filter.postfix_mysql import (
    chrooted_map_readers,
    main_cf_settings,
)

TUTORIAL = [
    {'name': 'virtual-mailbox-domains', 'parameter': 'virtual_mailbox_domains'},
    {'name': 'virtual-mailbox-maps', 'parameter': 'virtual_mailbox_maps'},
    {'name': 'virtual-alias-maps', 'parameter': 'virtual_alias_maps'},
    {'name': 'email2email', 'parameter': 'virtual_alias_maps'},
]


@pytest.mark.parametrize('kwargs, expected', [
    ({}, {
        'virtual_mailbox_domains': ['mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf'],
        'virtual_mailbox_maps': ['mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'],
        'virtual_alias_maps': ['mysql:/etc/postfix/mysql-virtual-alias-maps.cf', 'mysql:/etc/postfix/mysql-email2email.cf'],
    }),
    ({'proxy': True, 'config_dir': '/etc/postfix-out/'}, {
        'virtual_mailbox_domains': ['proxy:mysql:/etc/postfix-out/mysql-virtual-mailbox-domains.cf'],
        'virtual_mailbox_maps': ['proxy:mysql:/etc/postfix-out/mysql-virtual-mailbox-maps.cf'],
        'virtual_alias_maps': ['proxy:mysql:/etc/postfix-out/mysql-virtual-alias-maps.cf',
                               'proxy:mysql:/etc/postfix-out/mysql-email2email.cf'],
    }),
    ({'union_parameters': ['virtual_alias_maps'], 'sender_login_maps': ['email2email']}, {
        'virtual_mailbox_domains': ['mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf'],
        'virtual_mailbox_maps': ['mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'],
        'virtual_alias_maps': ['unionmap:{mysql:/etc/postfix/mysql-virtual-alias-maps.cf, mysql:/etc/postfix/mysql-email2email.cf}'],
        'smtpd_sender_login_maps': ['mysql:/etc/postfix/mysql-email2email.cf'],
    }),
])
def test_main_cf_settings(kwargs, expected):
    assert main_cf_settings(TUTORIAL, **kwargs) == expected


def test_maps_keep_their_order_within_a_parameter():
    maps = list(reversed(TUTORIAL))
    assert main_cf_settings(maps)['virtual_alias_maps'] == [
        'mysql:/etc/postfix/mysql-email2email.cf', 'mysql:/etc/postfix/mysql-virtual-alias-maps.cf']


def test_a_map_without_parameter_only_gets_its_file():
    assert main_cf_settings([{'name': 'senders', 'query': 'x'}]) == {}


@pytest.mark.parametrize('kwargs, message', [
    ({'sender_login_maps': ['nope']}, 'not defined: nope'),
    ({'union_parameters': ['relay_domains']}, 'unionmap asked for relay_domains'),
])
def test_main_cf_settings_refuses_dangling_names(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        main_cf_settings(TUTORIAL, **kwargs)


def test_main_cf_settings_refuses_a_map_without_name():
    with pytest.raises(AnsibleFilterError, match='needs a name'):
        main_cf_settings([{'parameter': 'virtual_alias_maps'}])


# `postconf -F '*/*/chroot' '*/*/command'` on Debian 12, shortened.
DEBIAN_FIELDS = '''smtp/inet/chroot = y
smtp/inet/command = smtpd
pickup/unix/chroot = y
pickup/unix/command = pickup
cleanup/unix/chroot = y
cleanup/unix/command = cleanup
rewrite/unix/chroot = y
rewrite/unix/command = trivial-rewrite
virtual/unix/chroot = n
virtual/unix/command = virtual
submission/inet/chroot = -
submission/inet/command = smtpd -o syslog_name=postfix/submission
'''


def test_chrooted_map_readers_on_debian_defaults():
    assert chrooted_map_readers(DEBIAN_FIELDS) == ['cleanup/unix', 'rewrite/unix', 'smtp/inet']


def test_no_chrooted_map_readers_when_chroot_is_off():
    assert chrooted_map_readers(DEBIAN_FIELDS.replace('= y', '= n')) == []
