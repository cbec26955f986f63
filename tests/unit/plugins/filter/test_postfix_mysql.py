# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mailfleet.postfix_mysql.plugins.filter.postfix_mysql import (
    FilterModule,
    main_cf_settings,
    map_table,
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


@pytest.mark.parametrize('args, kwargs, expected', [
    (('email2email',), {}, 'mysql:/etc/postfix/mysql-email2email.cf'),
    (('email2email',), {'config_dir': '/etc/postfix-out/', 'proxy': True},
     'proxy:mysql:/etc/postfix-out/mysql-email2email.cf'),
])
def test_map_table(args, kwargs, expected):
    assert map_table(*args, **kwargs) == expected


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ['main_cf_settings', 'map_table']
