# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database login of the modules that manage the mail database: community.mysql's
options (mysql_common_argument_spec, documented by this collection's doc fragment
mailfleet.postfix_mysql.mysql_login) and the connection, through its driver code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.community.mysql.plugins.module_utils.mysql import (
    mysql_connect,
    mysql_driver,
    mysql_driver_fail_msg,
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
