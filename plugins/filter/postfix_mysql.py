# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's filters: the table of a map, from the one function that decides it, the
postfix role's checks as postmap_query asks them, and
the starting variables of a mail host and of a database host, from what was read there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import textwrap

import yaml

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import map_table
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.starting_point import (
    database_starting_point,
    starting_point,
)


def check_requests(checks, config_dir='/etc/postfix', proxy=False, maps=None):
    """The postfix role's checks as the checks of postmap_query: a map entry asks its table, a
    parameter entry the tables the host's main.cf lists for it; each keeps the check as its item."""
    requests = []
    for check in checks or []:
        request = dict(expect=check.get('expect'), item=check)
        if check.get('map') is not None:
            request['table'] = map_table(check['map'], config_dir=config_dir, proxy=proxy, maps=maps)
        else:
            request['parameter'] = check.get('parameter')
        requests.append(request)
    return requests


def _vars_file(title, variables, notes):
    """VARIABLES as YAML, after TITLE and the NOTES as comments."""
    lines = ['# %s' % title,
             '# Move them to host_vars or group_vars, and run site.yml with --check --diff before a real run.']
    for note in notes:
        lines.extend(textwrap.wrap(note, width=96, initial_indent='# - ', subsequent_indent='#   '))
    text = '\n'.join(lines) + '\n---\n'
    if variables:
        text += yaml.safe_dump(variables, default_flow_style=False, sort_keys=False, width=1000)
    return text


def starting_vars(found, default_maps, host='', config_dir='/etc/postfix'):
    """The postfix role's starting variables of a mail host, from what postfix_info read there."""
    variables, notes = starting_point(found.get('client_files') or [], found.get('dovecot_sql') or [],
                                      default_maps or [], config_dir)
    return _vars_file("The postfix role's variables for %s as it is, read by mailfleet.postfix_mysql.starting_point."
                      % (host or 'this mail host'), variables, notes)


def database_starting_vars(accounts, mail_hosts, host=''):
    """The database role's starting variables of a database host: ACCOUNTS, the host entries
    found there ([{user, host}], as mysql_query returns them, or the lines "USER<TAB>HOST" of
    the mariadb client's --batch output); MAIL_HOSTS, {mail host: what postfix_info read there}."""
    pairs = [tuple(row.split('\t', 1)) if isinstance(row, str) else (row['user'], row['host'])
             for row in accounts or []]
    variables, notes = database_starting_point(mail_hosts or {}, [pair for pair in pairs if len(pair) == 2])
    return _vars_file("The database role's variables for %s as it is, read by mailfleet.postfix_mysql.starting_point."
                      % (host or 'this database host'), variables, notes)


class FilterModule(object):
    def filters(self):
        return {
            'map_table': map_table,
            'check_requests': check_requests,
            'starting_vars': starting_vars,
            'database_starting_vars': database_starting_vars,
        }
