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


def read_accounts(cursor, user):
    """{host: (plugin, authentication_string, ssl_type)} of USER's accounts, as mysql.user has them
    (ssl_type '' for none, 'ANY' for REQUIRE SSL, 'X509' or 'SPECIFIED' for stricter ones)."""
    cursor.execute('SELECT Host, plugin, authentication_string, ssl_type FROM mysql.user WHERE User = %s', (user,))
    return dict((row[0], (row[1], row[2], row[3] or '')) for row in cursor.fetchall())


def grants_reader(cursor, user):
    """grants_of(host) for ReaderPlan.plan: the SHOW GRANTS lines of USER@host."""
    def grants_of(host):
        cursor.execute('SHOW GRANTS FOR %s@%s', (user, host))
        return [row[0] for row in cursor.fetchall()]
    return grants_of


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

    def plan(self, password, hosts, accounts, grants_of, revoke_other_hosts=True, locked_hosts=(), require_tls=None):
        """accounts: {host: (plugin, authentication_string[, ssl_type])} of the user as it is now
        (read_accounts); grants_of(host): the SHOW GRANTS lines of an existing account; locked_hosts:
        those of its hosts whose account is locked (ACCOUNT LOCK), which this plan unlocks;
        require_tls: True for REQUIRE SSL (a stricter requirement set by hand is kept), False for
        REQUIRE NONE, None to leave the requirement as it is."""
        wanted = wanted_grants(self.database)
        for host in hosts:
            if host in accounts and host in locked_hosts:
                self.statements.append(('ALTER USER %s@%s ACCOUNT UNLOCK', (self.user, host)))
                self.changes.append('unlock reader %s@%s' % (self.user, host))
            ssl_type = (accounts.get(host, ())[2:] or ('',))[0]
            tls_after = bool(require_tls or (require_tls is None and ssl_type))
            self.after.append('reader %s@%s: SELECT ON %s.*%s' % (self.user, host, self.database,
                                                                  ', TLS required' if tls_after else ''))
            if host not in accounts:
                self.statements.append(('CREATE USER %%s@%%s IDENTIFIED BY %%s%s' % (' REQUIRE SSL' if require_tls else ''),
                                        (self.user, host, password)))
                self._grant(host)
                self.changes.append('add reader %s@%s with SELECT on %s%s' % (
                    self.user, host, self.database, ', TLS required' if require_tls else ''))
                continue
            plugin, stored = accounts[host][:2]
            if require_tls and not ssl_type:
                self.statements.append(('ALTER USER %s@%s REQUIRE SSL', (self.user, host)))
                self.changes.append('require TLS for reader %s@%s' % (self.user, host))
            elif require_tls is False and ssl_type:
                self.statements.append(('ALTER USER %s@%s REQUIRE NONE', (self.user, host)))
                self.changes.append('stop requiring TLS for reader %s@%s' % (self.user, host))
            have = parse_grants(grants_of(host))
            self.before.append('reader %s@%s: %s%s' % (self.user, host, describe_grants(have - set([('*.*', ('USAGE',), False)]))
                                                       or 'no privileges', ', TLS required' if ssl_type else ''))
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


# ------------------------------------------------------------------ two accounts in turn
#
# MariaDB keeps one password per account (no RETAIN CURRENT PASSWORD), so a password is
# changed without a moment of refused logins by using two accounts in turn: the idle one
# gets the new password, the mail hosts move to it, and the old one is locked. Which one
# is in use is what the server says: the unlocked one (when both are unlocked, during a
# rotation, the one that has the password).

LOCK_STATE_SQL = ("SELECT User, Host, JSON_VALUE(Priv, '$.account_locked'), "
                  "JSON_VALUE(Priv, '$.authentication_string') FROM mysql.global_priv WHERE User IN (%s, %s)")


class PairState(object):
    """What the server says about the two reader accounts: {name: {host: (hash, locked)}}."""

    def __init__(self, user, standby_user, rows):
        self.user = user
        self.standby_user = standby_user
        self.accounts = {user: {}, standby_user: {}}
        for name, host, locked, stored in rows:
            if name in self.accounts:
                self.accounts[name][host] = ((stored or '').upper(), locked in ('true', 1, '1', True))

    def exists(self, name):
        return bool(self.accounts.get(name))

    def unlocked(self, name):
        return any(not locked for _hash, locked in self.accounts.get(name, {}).values())

    def locked_hosts(self, name):
        return sorted(host for host, (_hash, locked) in self.accounts.get(name, {}).items() if locked)

    def has_password(self, name, password):
        wanted = native_password_hash(password)
        hosts = self.accounts.get(name, {})
        return bool(hosts) and all(stored == wanted for stored, _locked in hosts.values())

    def in_use(self):
        return [name for name in (self.user, self.standby_user) if self.unlocked(name)]

    def active(self, password):
        """The account Postfix logs in with now: the unlocked one; of two unlocked, the one
        with PASSWORD, else the first; of none (a fresh server), the first."""
        in_use = self.in_use()
        matching = [name for name in in_use if self.has_password(name, password)]
        return (matching or in_use or [self.user])[0]
