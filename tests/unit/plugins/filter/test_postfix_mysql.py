# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.filter.postfix_mysql import FilterModule
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import main_cf_settings


@pytest.mark.parametrize('args, kwargs, expected', [
    (('email2email',), {}, 'mysql:/etc/postfix/mysql-email2email.cf'),
    (('email2email',), {'config_dir': '/etc/postfix-out/', 'proxy': True},
     'proxy:mysql:/etc/postfix-out/mysql-email2email.cf'),
    (('email2email',), {'maps': [{'name': 'email2email', 'file': 'mariadb-email2email.cf'}, {'name': 'other'}]},
     'mysql:/etc/postfix/mariadb-email2email.cf'),
])
def test_map_table(args, kwargs, expected):
    assert FilterModule().filters()['map_table'](*args, **kwargs) == expected


def test_the_filter_names_the_table_the_module_writes_into_main_cf():
    maps = [{'name': 'email2email', 'parameter': 'virtual_alias_maps', 'query': 'x'}]
    present, _absent = main_cf_settings(maps, '/etc/postfix-out', proxy=True)
    assert present == [('virtual_alias_maps', [FilterModule().filters()['map_table'](
        'email2email', config_dir='/etc/postfix-out', proxy=True)])]


def test_check_requests_ask_a_map_s_table_or_a_parameter_and_keep_the_check():
    checks = [{'map': 'email2email', 'expect': {'a@x': 'a@x'}},
              {'parameter': 'virtual_alias_maps', 'expect': {'b@x': None}}]
    maps = [{'name': 'email2email', 'file': 'mariadb-email2email.cf'}]
    assert FilterModule().filters()['check_requests'](checks, config_dir='/etc/postfix-out', proxy=True, maps=maps) == [
        {'table': 'proxy:mysql:/etc/postfix-out/mariadb-email2email.cf', 'expect': {'a@x': 'a@x'}, 'item': checks[0]},
        {'parameter': 'virtual_alias_maps', 'expect': {'b@x': None}, 'item': checks[1]},
    ]


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ['check_requests', 'database_starting_vars', 'map_table',
                                                'starting_vars']
