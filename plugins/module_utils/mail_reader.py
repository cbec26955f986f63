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

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.credentials import grant_target

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


def quote_string(text):
    """'text' as SQL writes a string, for a message the admin may paste."""
    return "'%s'" % text.replace('\\', '\\\\').replace("'", "\\'")


def _normalise_target(target):
    """`mail\\_server`.* -> mail\\_server.*: without the quoting, but with the escapes, since
    `mail_server`.* (the _ a wildcard) also grants mailXserver."""
    return target.replace('`', '')


def _privileges(text):
    """'INSERT, select (`b`, `a`)' -> ('INSERT', 'SELECT (a, b)'): split at the commas outside
    column lists, the column lists without quoting and in order, for comparing."""
    parts, depth, current = [], 0, ''
    for char in text:
        depth += {'(': 1, ')': -1}.get(char, 0)
        if char == ',' and depth == 0:
            parts.append(current)
            current = ''
        else:
            current += char
    parts.append(current)
    privileges = []
    for part in parts:
        name, _paren, columns = part.strip().partition('(')
        name = name.strip().upper()
        if columns:
            names = sorted(column.strip().strip('`') for column in columns.rstrip(') ').split(','))
            name = '%s (%s)' % (name, ', '.join(names))
        privileges.append(name)
    return tuple(sorted(privileges))


def parse_grants(lines):
    """SHOW GRANTS lines -> set of (target, privileges, with grant option)."""
    grants = set()
    for line in lines:
        match = _GRANT_RE.match(line)
        if not match:
            continue
        grants.add((_normalise_target(match.group('on')), _privileges(match.group('privs')),
                    ' WITH GRANT OPTION' in line.upper()))
    return grants


USAGE = ('*.*', ('USAGE',), False)
# What Postfix's maps read, with the keys of the joins a custom query may make; not the
# password hashes or the quotas (the database role's mailfleet_database_reader_columns_only).
POSTFIX_COLUMNS = (
    ('virtual_aliases', ('domain_id', 'source', 'destination')),
    ('virtual_domains', ('id', 'name')),
    ('virtual_users', ('domain_id', 'email')),
)


def wanted_grants(database, columns_only=False):
    """{grant as parse_grants() reads it: its GRANT statement} of the reader, besides USAGE:
    SELECT on the whole mail database, or with COLUMNS_ONLY on the columns Postfix reads."""
    if not columns_only:
        return {('%s.*' % database.replace('_', '\\_'), ('SELECT',), False):
                'GRANT SELECT ON %s TO %%s@%%s' % grant_target(database)}
    wanted = {}
    for table, columns in POSTFIX_COLUMNS:
        grant = ('%s.%s' % (database, table), ('SELECT (%s)' % ', '.join(sorted(columns)),), False)
        wanted[grant] = 'GRANT SELECT (%s) ON %s.%s TO %%s@%%s' % (
            ', '.join(quote_identifier(column) for column in columns), quote_identifier(database),
            quote_identifier(table))
    return wanted


def revoke_statement(database, grant):
    """The REVOKE of a grant of wanted_grants() (either mode)."""
    target, privileges, _option = grant
    table = target.rsplit('.', 1)[1]
    on = grant_target(database) if table == '*' else '%s.%s' % (quote_identifier(database), quote_identifier(table))
    name, _paren, columns = privileges[0].partition(' (')
    if columns:
        name = '%s (%s)' % (name, ', '.join(quote_identifier(c) for c in columns.rstrip(')').split(', ')))
    return 'REVOKE %s ON %s FROM %%s@%%s' % (name, on)


def describe_grants(grants):
    return ', '.join('%s ON %s%s' % (', '.join(privs), target, ' WITH GRANT OPTION' if option else '')
                     for target, privs, option in sorted(grants))


def split_grants(grants):
    """One grant per privilege: MariaDB shows the privileges of one level on one line
    (GRANT SELECT, INSERT ON db.*), where the plan compares them one by one."""
    return set((target, (privilege,), option) for target, privileges, option in grants for privilege in privileges)


def merge_grants(grants):
    """The privileges of one target and grant option together again, for a message."""
    merged = {}
    for target, privileges, option in grants:
        merged.setdefault((target, option), set()).update(privileges)
    return set((target, tuple(sorted(privileges)), option) for (target, option), privileges in merged.items())


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
    """statements: (sql, args) to run in order; changes: what they do, without secrets;
    refusals: why the plan must not be applied at all (nothing is to be run then)."""

    def __init__(self, user, database, columns_only=False, kind='reader'):
        self.user = user
        self.database = database
        self.columns_only = columns_only
        # What the messages call the account: the reader, or Dovecot's account.
        self.kind = kind
        self.statements = []
        self.changes = []
        self.warnings = []
        self.refusals = []
        self.before = []
        self.after = []

    def _reads_within(self, grant):
        """Whether GRANT is a SELECT on a table or columns of the mail database: less than the
        account has anyway (on the whole database), so neither taken away nor a reason to stop."""
        target, privileges, option = grant
        database = target.split('.', 1)[0]
        return (not self.columns_only and not option
                and database in (self.database, self.database.replace('_', '\\_'))
                and all(privilege.startswith('SELECT') for privilege in privileges))

    def _own_grants(self):
        """{grant: its REVOKE} of what this role gives in the other mode, or gave before it
        escaped the _ of the name (a wildcard): taken back when it is not wanted now."""
        own = dict((grant, revoke_statement(self.database, grant))
                   for grant in wanted_grants(self.database, not self.columns_only))
        own[('%s.*' % self.database, ('SELECT',), False)] = 'REVOKE SELECT ON %s.* FROM %%s@%%s' % quote_identifier(
            self.database)
        return own

    def describe_wanted(self):
        return describe_grants(wanted_grants(self.database, self.columns_only))

    def plan(self, password, hosts, accounts, grants_of, revoke_other_hosts=True, locked_hosts=(), require_tls=None,
             update_password='always'):
        """accounts: {host: (plugin, authentication_string[, ssl_type])} of the user as it is now
        (read_accounts); grants_of(host): the SHOW GRANTS lines of an existing account; locked_hosts:
        those of its hosts whose account is locked (ACCOUNT LOCK), which this plan unlocks;
        require_tls: True for REQUIRE SSL (a stricter requirement set by hand is kept), False for
        REQUIRE NONE, None to leave the requirement as it is; update_password: 'on_create' refuses
        to change the password of an existing account (its other readers would be refused)."""
        wanted = wanted_grants(self.database, self.columns_only)
        own = self._own_grants()
        for host in hosts:
            if host in accounts and host in locked_hosts:
                self.statements.append(('ALTER USER %s@%s ACCOUNT UNLOCK', (self.user, host)))
                self.changes.append('unlock %s %s@%s' % (self.kind, self.user, host))
            ssl_type = (accounts.get(host, ())[2:] or ('',))[0]
            tls_after = bool(require_tls or (require_tls is None and ssl_type))
            self.after.append('%s %s@%s: %s%s' % (self.kind, self.user, host, self.describe_wanted(),
                                                  ', TLS required' if tls_after else ''))
            if host not in accounts:
                self.statements.append(('CREATE USER %%s@%%s IDENTIFIED BY %%s%s' % (' REQUIRE SSL' if require_tls else ''),
                                        (self.user, host, password)))
                self.statements.extend((sql, (self.user, host)) for _grant, sql in sorted(wanted.items()))
                self.changes.append('add %s %s@%s with %s%s' % (
                    self.kind, self.user, host, self.describe_wanted() if self.columns_only else 'SELECT on %s' % self.database,
                    ', TLS required' if require_tls else ''))
                continue
            plugin, stored = accounts[host][:2]
            if require_tls and not ssl_type:
                self.statements.append(('ALTER USER %s@%s REQUIRE SSL', (self.user, host)))
                self.changes.append('require TLS for %s %s@%s' % (self.kind, self.user, host))
            elif require_tls is False and ssl_type:
                self.statements.append(('ALTER USER %s@%s REQUIRE NONE', (self.user, host)))
                self.changes.append('stop requiring TLS for %s %s@%s' % (self.kind, self.user, host))
            have = parse_grants(grants_of(host))
            self.before.append('%s %s@%s: %s%s' % (self.kind, self.user, host, describe_grants(have - set([USAGE]))
                                                   or 'no privileges', ', TLS required' if ssl_type else ''))
            if (plugin or '') in NATIVE_PLUGINS:
                differs = (stored or '').upper() != native_password_hash(password)
                if differs and update_password != 'always':
                    # Changed in place, the password would refuse every program that logs in with
                    # the current one (Dovecot, the mail hosts not yet run) until it has the new one.
                    self.refusals.append(
                        'the %s %s@%s has another password than the one given. Changed in place, it would refuse '
                        'every program that logs in with the current one (Dovecot, and each mail host until its own '
                        'play) at once. To move everyone to a new password, run the playbook '
                        'mailfleet.postfix_mysql.rotate_db_password; to set it in place anyway (for example after '
                        'it was changed by hand and nothing uses that one), set update_password to always '
                        '(mailfleet_database_reader_update_password in the role)' % (self.kind, self.user, host))
                elif differs:
                    self.statements.append(('ALTER USER %s@%s IDENTIFIED BY %s', (self.user, host, password)))
                    self.changes.append('update %s %s@%s password' % (self.kind, self.user, host))
            else:
                self.warnings.append('%s %s@%s authenticates with %s, whose stored password cannot be compared; '
                                     'its password is left as it is' % (self.kind, self.user, host, plugin))
            each = split_grants(have)
            extra = set(grant for grant in each - set(wanted) - set(own) - set([USAGE])
                        if not self._reads_within(grant))
            revoked = sorted(grant for grant in each & set(own) if grant not in wanted)
            missing = sorted(grant for grant in wanted if grant not in each)
            if extra:
                # Not this role's to take away: someone gave the account more on purpose, or
                # the name is that of another account.
                self.refusals.append(
                    'the account %s@%s has more than SELECT on %s: %s. The role does not take privileges away '
                    'that it did not give: revoke them yourself (REVOKE ... FROM %s@%s) if the account is only '
                    "Postfix's reader, or give the reader another name"
                    % (self.user, host, self.database, describe_grants(merge_grants(extra)), quote_string(self.user),
                       quote_string(host)))
            elif revoked or missing:
                self.statements.extend((own[grant], (self.user, host)) for grant in revoked)
                self.statements.extend((wanted[grant], (self.user, host)) for grant in missing)
                self.changes.append('update %s %s@%s privileges: %s -> %s'
                                    % (self.kind, self.user, host, describe_grants(have - set([USAGE])) or 'none',
                                       self.describe_wanted()))
        if revoke_other_hosts:
            for host in sorted(set(accounts) - set(hosts)):
                self.statements.append(('DROP USER %s@%s', (self.user, host)))
                self.changes.append('remove %s %s@%s' % (self.kind, self.user, host))
                self.before.append('%s %s@%s' % (self.kind, self.user, host))
        self.before.sort()
        self.after.sort()
        if self.refusals:
            self.statements, self.changes = [], []
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
