# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read-only account Postfix logs in with: SELECT on the mail database, nothing else.

Planned from what the server says (mysql.user and SHOW GRANTS), for all of the
account's hosts at once, so that one module run keeps the account of a whole fleet of
mail hosts. The password is compared with the stored mysql_native_password hash (the
default of Debian's MariaDB) and never leaves the plan: changes are described without it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

_GRANT_RE = re.compile(r'^GRANT (?P<privs>.+?) ON (?P<on>\S+) TO ', re.IGNORECASE)
# Plugins whose stored authentication_string is SHA1(SHA1(password)), so that a password
# can be compared without changing it. '' is how old servers spell the default.
NATIVE_PLUGINS = ('mysql_native_password', '')


def native_password_hash(password):
    """The mysql_native_password hash: '*' + upper hex of SHA1(SHA1(password))."""
    inner = hashlib.sha1(password.encode('utf-8')).digest()
    return '*' + hashlib.sha1(inner).hexdigest().upper()


def quote_identifier(name):
    return '`%s`' % name.replace('`', '``')


def _normalise_target(target):
    """`mail\\_server`.* -> mail_server.*: how SHOW GRANTS escapes, undone for comparing."""
    return target.replace('`', '').replace('\\_', '_').replace('\\%', '%')


def parse_grants(lines):
    """SHOW GRANTS lines -> set of (target, privileges, with grant option)."""
    grants = set()
    for line in lines:
        match = _GRANT_RE.match(line)
        if not match:
            continue
        privileges = tuple(sorted(p.strip().upper() for p in match.group('privs').split(',')))
        grants.add((_normalise_target(match.group('on')), privileges, ' WITH GRANT OPTION' in line.upper()))
    return grants


def wanted_grants(database):
    return set([('*.*', ('USAGE',), False), ('%s.*' % database, ('SELECT',), False)])


def describe_grants(grants):
    return ', '.join('%s ON %s%s' % (', '.join(privs), target, ' WITH GRANT OPTION' if option else '')
                     for target, privs, option in sorted(grants))


class ReaderPlan(object):
    """statements: (sql, args) to run in order; changes: what they do, without secrets."""

    def __init__(self, user, database):
        self.user = user
        self.database = database
        self.statements = []
        self.changes = []
        self.warnings = []
        self.before = []
        self.after = []

    def _grant(self, host):
        self.statements.append(('GRANT SELECT ON %s.* TO %%s@%%s' % quote_identifier(self.database),
                                (self.user, host)))

    def plan(self, password, hosts, accounts, grants_of, revoke_other_hosts=True):
        """accounts: {host: (plugin, authentication_string)} of the user as it is now;
        grants_of(host): the SHOW GRANTS lines of an existing account."""
        wanted = wanted_grants(self.database)
        for host in hosts:
            self.after.append('reader %s@%s: SELECT ON %s.*' % (self.user, host, self.database))
            if host not in accounts:
                self.statements.append(('CREATE USER %s@%s IDENTIFIED BY %s', (self.user, host, password)))
                self._grant(host)
                self.changes.append('add reader %s@%s with SELECT on %s' % (self.user, host, self.database))
                continue
            plugin, stored = accounts[host]
            have = parse_grants(grants_of(host))
            self.before.append('reader %s@%s: %s' % (self.user, host, describe_grants(have - set([('*.*', ('USAGE',), False)]))
                                                     or 'no privileges'))
            if (plugin or '') in NATIVE_PLUGINS:
                if (stored or '').upper() != native_password_hash(password):
                    self.statements.append(('ALTER USER %s@%s IDENTIFIED BY %s', (self.user, host, password)))
                    self.changes.append('update reader %s@%s password' % (self.user, host))
            else:
                self.warnings.append('reader %s@%s authenticates with %s, whose stored password cannot be compared; '
                                     'its password is left as it is' % (self.user, host, plugin))
            if have != wanted:
                self.statements.append(('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s', (self.user, host)))
                self._grant(host)
                self.changes.append('update reader %s@%s privileges: %s -> SELECT ON %s.*'
                                    % (self.user, host, describe_grants(have) or 'none', self.database))
        if revoke_other_hosts:
            for host in sorted(set(accounts) - set(hosts)):
                self.statements.append(('DROP USER %s@%s', (self.user, host)))
                self.changes.append('remove reader %s@%s' % (self.user, host))
                self.before.append('reader %s@%s' % (self.user, host))
        self.before.sort()
        self.after.sort()
        return self
