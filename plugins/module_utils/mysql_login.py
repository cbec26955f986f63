# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database login of the modules that manage the mail database: its options
(documented by the doc fragment mailfleet.postfix_mysql.mysql_login) and the connection,
through community.mysql's driver code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.community.mysql.plugins.module_utils.mysql import (
    mysql_connect,
    mysql_driver,
    mysql_driver_fail_msg,
)


def argument_spec():
    """The login options, as community.mysql names them (its mysql_common_argument_spec),
    kept here beside the doc fragment that documents them, so that the two change
    together whatever community.mysql release is installed."""
    return dict(
        login_user=dict(type='str'),
        login_password=dict(type='str', no_log=True),
        login_host=dict(type='str', default='localhost'),
        login_port=dict(type='int', default=3306),
        login_unix_socket=dict(type='str'),
        config_file=dict(type='path', default='~/.my.cnf'),
        connect_timeout=dict(type='int', default=30),
        client_cert=dict(type='path', aliases=['ssl_cert']),
        client_key=dict(type='path', aliases=['ssl_key']),
        ca_cert=dict(type='path', aliases=['ssl_ca']),
        check_hostname=dict(type='bool'),
    )


def connect(module):
    """(cursor, connection) to the server, without selecting a database (it may not exist
    yet); fails the module with a readable message when there is no driver or no login."""
    params = module.params
    if mysql_driver is None:
        module.fail_json(msg=mysql_driver_fail_msg)
    try:
        cursor, connection = mysql_connect(
            module, params['login_user'], params['login_password'], params['config_file'],
            params['client_cert'], params['client_key'], params['ca_cert'], None,
            connect_timeout=params['connect_timeout'], check_hostname=params['check_hostname'])
    except Exception as e:  # the drivers raise their own classes, and not only them
        module.fail_json(msg='Cannot connect to the database server as %s: %s'
                         % (params['login_user'] or 'the default user', to_native(e)))
    # mysql_connect makes the driver's connections close themselves when they are garbage
    # collected, also when the module closed them already; PyMySQL before 1.1 (Debian 12
    # has 1.0.2) then raises "Already closed" at exit, which Ansible shows as junk after
    # the module's JSON on every run. Close only what is still open.
    type(connection).__del__ = _close_if_open
    return cursor, connection


def _close_if_open(connection):
    if getattr(connection, 'open', True):
        connection.close()
