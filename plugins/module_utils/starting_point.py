# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postfix role's variables that describe a mail host as it is now: the starting point
for adopting a server built by hand, read from what postfix_info reports.

The maps keep the server's own file names, so that the role renames nothing; a query that
equals the role's default for the map is left to the default. No password goes in: the
password variables name vault variables to fill in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import (
    MAP_NAME_RE,
    SENDER_LOGIN_PARAMETER,
    client_file_name,
)

# The keys of a client file that the role writes from its own variables.
CONNECTION_KEYS = ('user', 'hosts', 'dbname')
# main.cf parameters that list the tables proxymap may open, rather than use them.
PROXY_PARAMETERS = ('proxy_read_maps', 'proxy_write_maps')

# How the ISPmail guide's editions name the files: mysql-NAME.cf (bookworm), mariadb-NAME.cf (trixie).
_EDITION_PREFIX_RE = re.compile(r'^(?:mysql|mariadb)-')
PASSWORD_VARIABLE = 'vault_mailfleet_postfix_db_password'
DOVECOT_PASSWORD_VARIABLE = 'vault_mailfleet_database_dovecot_password'


def serving_parameters(entry):
    """The main.cf parameters that use a client file (postfix_info's entry), proxymap's lists left out."""
    return [parameter for parameter in entry.get('parameters') or [] if parameter not in PROXY_PARAMETERS]


def map_name(path):
    """A map name for the client file at PATH: its name without .cf and the guide's prefix."""
    name = os.path.basename(path)
    name = name[:-len('.cf')] if name.endswith('.cf') else name
    stripped = _EDITION_PREFIX_RE.sub('', name)
    return stripped if MAP_NAME_RE.match(stripped) else name


def _most_common(values):
    """The value that most files have; the first in order of appearance on a tie."""
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=lambda value: (counts[value], -values.index(value)))


def _hosts(value):
    """mysql_table(5) hosts, separated by blanks or commas, each once: on Postfix releases that
    put a single host out of service after one failure, the role lists it twice itself."""
    hosts = []
    for host in re.split(r'[\s,]+', value or ''):
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def _options(entry):
    return dict((key, value) for key, value in entry['settings'].items() if key not in CONNECTION_KEYS + ('query',))


def _adoptable(client_files, config_dir, notes):
    """The client files main.cf names in CONFIG_DIR, each with the parameters it serves."""
    named = []
    for entry in (dict(entry, parameters=serving_parameters(entry)) for entry in client_files):
        if not entry.get('parameters'):
            notes.append('%s is named by no main.cf parameter: left out' % entry['path'])
        elif os.path.dirname(entry['path']) != config_dir.rstrip('/'):
            notes.append('%s is not in %s, where the role keeps the client files: left out. Move it there first; '
                         'otherwise %s no longer names it after the first run if the role\'s maps set it too, as '
                         '--check --diff shows' % (entry['path'], config_dir, ', '.join(entry['parameters'])))
        else:
            named.append(entry)
    return named


def _connection_variables(named, variables, notes):
    """The account, hosts and database most files use, and the proxy setting; the account."""
    connection = [tuple(entry['settings'].get(key) for key in CONNECTION_KEYS) for entry in named]
    user, hosts, dbname = _most_common(connection)
    for entry, found in zip(named, connection):
        if found != (user, hosts, dbname):
            notes.append('%s logs in as %s to %s, database %s, where the other files use %s to %s, database %s; '
                         'the role writes one account, hosts and database into every file'
                         % ((entry['path'],) + found + (user, hosts, dbname)))
    variables['mailfleet_postfix_db_user'] = user
    variables['mailfleet_postfix_db_password'] = '{{ %s }}' % PASSWORD_VARIABLE
    variables['mailfleet_postfix_db_hosts'] = _hosts(hosts)
    variables['mailfleet_postfix_db_name'] = dbname
    notes.append('put the password of %s, as the client files have it, in the vault as %s'
                 % (user, PASSWORD_VARIABLE))
    proxied = [entry.get('proxied', False) for entry in named]
    variables['mailfleet_postfix_proxy'] = _most_common(proxied)
    if len(set(proxied)) > 1:
        notes.append('main.cf reads some tables through proxy: and some not; the role reads all of them one way '
                     '(mailfleet_postfix_proxy)')
    return user


def _option_variables(named, variables):
    """Options that every file has alike are the shared ones; retry_interval has a variable of
    its own. The shared options."""
    common = dict(_options(named[0]))
    for entry in named[1:]:
        common = dict((key, value) for key, value in common.items() if _options(entry).get(key) == value)
    shared = dict(common)
    retry_interval = shared.pop('retry_interval', None)
    if retry_interval is not None and retry_interval.isdigit():
        variables['mailfleet_postfix_db_retry_interval'] = int(retry_interval)
    elif retry_interval is not None:
        shared['retry_interval'] = retry_interval
    if shared:
        variables['mailfleet_postfix_map_options'] = shared
    return common


def _map_entry(entry, name, common, default, sender_login_maps, notes):
    """The mailfleet_postfix_maps entry of one client file: only what differs from the role's
    default for the map (just the name when nothing does)."""
    parameters = [p for p in entry['parameters'] if p != SENDER_LOGIN_PARAMETER]
    if SENDER_LOGIN_PARAMETER in entry['parameters']:
        sender_login_maps.append(name)
    if len(parameters) > 1:
        notes.append('%s is named by %s; a map serves one parameter, so the role keeps it in %s only'
                     % (entry['path'], ', '.join(parameters), parameters[0]))
    wanted = dict(name=name, file=os.path.basename(entry['path']),
                  parameter=parameters[0] if parameters else None, query=entry['settings'].get('query'))
    options = dict((key, value) for key, value in _options(entry).items() if key not in common)
    given = dict(name=name)
    if wanted['file'] != client_file_name(dict(default, name=name)):
        given['file'] = wanted['file']
    for key in ('parameter', 'query'):
        if wanted[key] != default.get(key):
            given[key] = wanted[key]
    if options:
        given['options'] = options
    return given


def _map_variables(named, default_maps, common, variables, notes):
    defaults = dict((entry['name'], entry) for entry in default_maps)
    maps = []
    sender_login_maps = []
    seen = set()
    for entry in named:
        name = map_name(entry['path'])
        if name in seen:
            name = os.path.basename(entry['path'])[:-len('.cf')]
        seen.add(name)
        given = _map_entry(entry, name, common, defaults.get(name, {}), sender_login_maps, notes)
        if len(given) > 1:
            maps.append(given)
    for name in sorted(set(defaults) - seen):
        if defaults[name].get('state', 'present') == 'present':
            notes.append('the role adds the map %s (%s), which main.cf does not name here; to leave it out, '
                         'add {name: %s, state: absent} to mailfleet_postfix_maps'
                         % (name, defaults[name].get('parameter') or 'no parameter', name))
    if maps:
        # The role's maps in its order, then new ones: merged by name, that is the order they get.
        order = [entry['name'] for entry in default_maps]
        maps.sort(key=lambda given: order.index(given['name']) if given['name'] in order else len(order))
        variables['mailfleet_postfix_maps'] = maps
    if sender_login_maps:
        variables['mailfleet_postfix_sender_login_maps'] = sender_login_maps


def _dovecot_variables(dovecot_sql, user, variables, notes):
    for config in dovecot_sql or []:
        others = [account for account in config.get('users', []) if account != user]
        accounts = ', '.join(config.get('users', [])) or 'nobody'
        notes.append('Dovecot (%s, %s layout) logs in as %s' % (config['path'], config.get('layout'), accounts))
        for account in others:
            variables['mailfleet_database_dovecot_user'] = account
            variables['mailfleet_database_dovecot_password'] = '{{ %s }}' % DOVECOT_PASSWORD_VARIABLE
            notes.append('Dovecot has an account of its own, %s: put its password in the vault as %s'
                         % (account, DOVECOT_PASSWORD_VARIABLE))


def starting_point(client_files, dovecot_sql, default_maps, config_dir='/etc/postfix'):
    """(variables, notes) for the postfix role on a mail host.

    CLIENT_FILES and DOVECOT_SQL: as postfix_info returns them. DEFAULT_MAPS: the role's
    mailfleet_postfix_default_maps. CONFIG_DIR: where the role keeps the client files.
    NOTES: what the admin must look at, one line each.
    """
    notes = []
    named = _adoptable(client_files, config_dir, notes)
    if not named:
        notes.append('main.cf names no mysql table: there is nothing to adopt')
        return {}, notes
    variables = {}
    user = _connection_variables(named, variables, notes)
    common = _option_variables(named, variables)
    _map_variables(named, default_maps, common, variables, notes)
    _dovecot_variables(dovecot_sql, user, variables, notes)
    return variables, notes


def database_starting_point(mail_hosts, accounts):
    """(variables, notes) for the database role on a database host.

    MAIL_HOSTS: {mail host: what postfix_info read there}. ACCOUNTS: [(user, host)] of the
    host entries that exist here for the accounts the mail hosts log in with.
    """
    notes = []
    postfix_users = []
    dovecot_users = []
    dbnames = []
    for name in sorted(mail_hosts):
        found = mail_hosts[name] or {}
        for entry in found.get('client_files') or []:
            if serving_parameters(entry):
                postfix_users.append(entry['settings'].get('user'))
                dbnames.append(entry['settings'].get('dbname'))
        for config in found.get('dovecot_sql') or []:
            dovecot_users.extend(config.get('users') or [])
    postfix_users = [user for user in postfix_users if user]
    if not postfix_users:
        notes.append('no mail host names a mysql table in main.cf: there is no reader account to adopt')
        return {}, notes
    reader = _most_common(postfix_users)
    others = sorted(set(postfix_users) - set([reader]))
    if others:
        notes.append('mail hosts log in as %s too; the role keeps one reader account, %s'
                     % (', '.join(others), reader))
    hosts_of = {}
    for user, host in accounts:
        hosts_of.setdefault(user, []).append(host)
    variables = dict(mailfleet_database_name=_most_common([name for name in dbnames if name] or ['mailserver']),
                     mailfleet_database_reader_user=reader,
                     mailfleet_database_reader_password='{{ %s }}' % PASSWORD_VARIABLE)
    if hosts_of.get(reader):
        variables['mailfleet_database_reader_hosts'] = sorted(hosts_of[reader])
    else:
        notes.append('%s has no host entry on this database host: the mail hosts cannot log in here' % reader)
    notes.append('the reader password is the one of the mail hosts\' client files (vault: %s)' % PASSWORD_VARIABLE)
    dovecot = sorted(set(dovecot_users) - set([reader]))
    if len(dovecot) > 1:
        notes.append('Dovecot logs in as %s; the role knows one account of its own for it, %s'
                     % (', '.join(dovecot), dovecot[0]))
    if dovecot:
        variables['mailfleet_database_dovecot_user'] = dovecot[0]
        variables['mailfleet_database_dovecot_password'] = '{{ %s }}' % DOVECOT_PASSWORD_VARIABLE
        if hosts_of.get(dovecot[0]):
            variables['mailfleet_database_dovecot_hosts'] = sorted(hosts_of[dovecot[0]])
    return variables, notes
