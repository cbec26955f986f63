# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The database login of the modules that manage the mail database: community.mysql's
    # mysql_common_argument_spec (tests/unit/plugins/module_utils/test_mysql_login.py holds
    # the two equal). The collection documents it itself rather than through
    # community.mysql's fragment, so that its documentation renders where only this
    # collection is installed (Galaxy and Automation Hub imports, ansible-doc in an
    # execution environment).
    DOCUMENTATION = r'''
options:
  login_user:
    description:
      - The account to log in with. Without it, the user that O(config_file) names, else
        the system user the module runs as (C(root) with C(become)).
    type: str
  login_password:
    description:
      - The password of O(login_user). Never shown in any output.
    type: str
  login_host:
    description:
      - The database server. On Debian, where MariaDB's C(root) logs in by its UNIX
        socket, use O(login_unix_socket) instead of V(localhost).
    type: str
    default: localhost
  login_port:
    description:
      - The server's TCP port, used unless O(login_unix_socket) is set.
    type: int
    default: 3306
  login_unix_socket:
    description:
      - The server's UNIX socket, such as C(/run/mysqld/mysqld.sock).
    type: str
  connect_timeout:
    description:
      - Seconds to wait for the connection.
    type: int
    default: 30
  config_file:
    description:
      - A client option file whose C([client]) section gives the user and password.
      - Read when it exists; an empty string reads none.
    type: path
    default: '~/.my.cnf'
  ca_cert:
    description:
      - The CA certificate that the server's certificate is verified against (TLS).
    type: path
    aliases: [ssl_ca]
  client_cert:
    description:
      - A client certificate for TLS.
    type: path
    aliases: [ssl_cert]
  client_key:
    description:
      - The key of O(client_cert).
    type: path
    aliases: [ssl_key]
  check_hostname:
    description:
      - Whether the server's certificate must name O(login_host). By default, the
        driver's default.
    type: bool
requirements:
  - PyMySQL on the managed host (Debian's C(python3-pymysql)).
'''
