#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: mail_database
short_description: Keep the ISPmail schema and the mail domains, users and aliases of a MariaDB/MySQL database
version_added: 0.1.0
description:
  - Creates the three tables that Postfix and Dovecot read in the ISPmail layout (C(virtual_domains),
    C(virtual_users), C(virtual_aliases)) when they are missing, and adds, updates or removes the
    domains, users and aliases it is given. Rows it is not told about are left alone.
  - Reads the current state first and changes only what differs, in one transaction, so that either every
    change is applied or none is.
  - Creates the database itself when it is missing (utf8mb4), and keeps the read-only account that Postfix
    logs in with (O(reader)) for all its hosts in the same call, so that a database host with nothing to
    change costs one module run.
  - Checks all its input before it connects, by the rules given with each option, and fails with every
    problem listed when there is any, each naming the option and the item (such as C(users[2].email));
    nothing is then read or changed. Values longer than the columns of the tables are refused rather than
    cut short. The same checks run on the controller as M(mailfleet.postfix_mysql.validate_mail_data), the
    first task of the P(mailfleet.postfix_mysql.mailfleet_database#role) role.
  - The users' password hashes and the reader's password are never returned, shown in a diff or quoted in a
    message, so the task needs no C(no_log) to keep them hidden.
author:
  - mailfleet maintainers (@mailfleet)
extends_documentation_fragment:
  - mailfleet.postfix_mysql.mysql_login
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  login_db:
    description:
      - The database that holds the mail tables. It is created (C(utf8mb4), C(utf8mb4_general_ci)) when it
        is missing.
    type: str
    default: mailserver
  reader:
    description:
      - The read-only account Postfix logs in with. It gets SELECT on O(login_db) (or, with
        O(reader.columns_only), on the columns Postfix reads) and nothing else, from each of O(reader.hosts).
      - An existing account of that name with more than that stops the module before it changes anything,
        naming the account and the privileges, since it takes away nothing it did not give. SELECT on tables
        or columns of O(login_db) is less than it has anyway and left alone.
      - Account changes are not transactional in MariaDB; they are made after the content is committed.
      - Leave it out to manage no account.
    type: dict
    suboptions:
      user:
        description:
          - The account name. Not empty, at most 80 characters (MariaDB's limit), without leading or
            trailing blanks, control characters or line separators. Not an account of the server itself
            (C(root), C(mysql), C(mariadb.sys), C(debian-sys-maint)), nor O(login_user) or
            O(reader.replication_user).
        type: str
        default: mailuser
      standby_user:
        description:
          - "A second account used in turn with O(reader.user), so that the password can change without a
            moment of refused logins (MariaDB keeps one password per account): the
            C(mailfleet.postfix_mysql.rotate_db_password) playbook gives the idle one the new password, moves the
            mail hosts to it and locks the other."
          - With it, this module manages the account in use - the one that is not locked; of two unlocked ones
            (during a rotation) the one that has O(reader.password) - and leaves the other as it is. Returned
            as RV(reader_user).
        type: str
      password:
        description:
          - Its password. Compared with the stored C(mysql_native_password) hash (the default of Debian's
            MariaDB); for accounts with another authentication plugin it is set when the account is created,
            and a warning says it was not compared. When it differs, see O(reader.update_password).
          - At least 2 characters, without leading or trailing blanks, control characters or Unicode line
            and paragraph separators. Postfix's client files (mysql_table(5)) strip such blanks and cannot
            hold a line break, so such a password would never work there.
          - A single string; a list or a mapping is refused.
        type: raw
        required: true
      hosts:
        description:
          - The hosts (addresses) the account may connect from, that is the mail hosts. At least one, each
            without blanks.
        type: list
        elements: str
        required: true
      revoke_other_hosts:
        description: Remove the account from every host not in O(reader.hosts).
        type: bool
        default: true
      update_password:
        description:
          - V(on_create) sets O(reader.password) when the account is created. An existing account with another
            password makes the module fail before it changes anything, because the account has other readers (Dovecot
            logs in with it in the ISPmail guide's set-up, and each mail host until the role has run there),
            and a password changed in place refuses them all at once. The
            C(mailfleet.postfix_mysql.rotate_db_password) playbook moves them to a new password instead.
          - V(always) changes it in place, for example after it was changed by hand and nothing uses that one.
        type: str
        choices: [always, on_create]
        default: on_create
      columns_only:
        description:
          - V(true) gives the account SELECT only on the columns Postfix's maps read, C(virtual_domains)
            (C(id), C(name)), C(virtual_users) (C(domain_id), C(email)) and C(virtual_aliases) (C(domain_id),
            C(source), C(destination)), not on the password hashes or the quotas, which only Dovecot needs;
            give Dovecot its own account with O(dovecot). Recommended for a new installation.
          - V(false), as the ISPmail guide sets it up (Dovecot logging in with the same account), SELECT on
            the whole of O(login_db).
          - Switching either way takes back the grants this module gave in the other mode.
        type: bool
        default: false
      replication_user:
        description: The replication account, which the reader accounts must differ from (as from O(login_user)).
        type: str
      require_tls:
        description:
          - V(true) has the account C(REQUIRE SSL), so the server refuses a plaintext login even with the right
            password (a stricter requirement set by hand, C(X509) or C(SUBJECT), is kept); V(false) has it
            C(REQUIRE NONE). Left out, the requirement stays as it is.
          - The server needs TLS configured (M(mailfleet.postfix_mysql.mariadb_server_settings) O(mailfleet.postfix_mysql.mariadb_server_settings#module:tls)).
        type: bool
  dovecot:
    description:
      - An account of Dovecot's own, with SELECT on the whole of O(login_db) (it reads the password hashes and
        the quotas), from each of O(dovecot.hosts) only; its TLS requirement follows O(reader.require_tls).
        Use it with O(reader.columns_only).
      - The same rules as O(reader) for the name and the password, and a name of its own. An existing account
        of that name with more than that stops the module, as for O(reader).
      - Leave it out to manage none; an account made earlier is then left as it is.
    type: dict
    suboptions:
      user:
        description: The account name.
        type: str
        required: true
      password:
        description: Its password. Never shown.
        type: raw
        required: true
      hosts:
        description: The hosts Dovecot connects from (the mail hosts, or C(localhost) where Dovecot runs beside the database).
        type: list
        elements: str
        required: true
  schema:
    description:
      - V(present) creates the missing tables (InnoDB, utf8mb4, foreign keys with C(ON DELETE CASCADE)).
        Existing tables are never altered.
      - V(ignore) expects the tables to exist already.
    type: str
    choices: [present, ignore]
    default: present
  update_password:
    description:
      - V(on_create) writes O(users[].password_hash) only when the mailbox is created. The password of an
        existing mailbox is its user's, who may have changed it (in the webmail, with Roundcube's password
        plugin, or with C(doveadm pw) and SQL), and it is kept.
      - V(always) writes the declared hash to existing mailboxes too, which undoes such a change; the result
        lists each mailbox whose password it wrote.
      - O(users[].update_password) sets it for one user.
    type: str
    choices: [always, on_create]
    default: on_create
  domains:
    description: Mail domains (rows of C(virtual_domains)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The domain name, for example V(example.org). Compared and stored in lower case.
          - A valid DNS name; internationalised names in either form (V(münchen.de) or V(xn--mnchen-3ya.de)),
            checked through their IDNA form. Labels of letters, digits and C(-), 1 to 63 characters, not
            starting or ending with C(-); no blanks, no empty label (no leading, trailing or double dot); at
            most 253 characters in all, and at most 50 as written (the size of C(virtual_domains.name)).
          - Each domain is listed once.
        type: str
        required: true
      state:
        description:
          - V(absent) removes the domain and, through the foreign keys, all its users and aliases.
          - A user or alias with O(users[].state=present) in a domain listed as V(absent) is refused.
        type: str
        choices: [present, absent]
        default: present
  users:
    description:
      - Mailbox users (rows of C(virtual_users)). The domain is the part after C(@), and must exist or be listed
        in O(domains).
      - Each address is listed once (compared in lower case).
    type: list
    elements: dict
    default: []
    suboptions:
      email:
        description:
          - The full address, for example V(john@example.org), at most 100 characters.
          - Exactly one C(@). The local part before it is not empty, at most 64 bytes, and has no blanks,
            control characters, leading, trailing or double dots, nor any of C("(),:;<>[\]) (which an address
            may only hold in quotes). The domain after it follows the rules of O(domains[].name).
        type: str
        required: true
      password_hash:
        description:
          - The already hashed password as Dovecot reads it, for example the output of C(doveadm pw -s BLF-CRYPT).
          - Required when O(users[].state=present), and at most 150 characters.
          - Either C({SCHEME}...) with a scheme of letters, digits, C(-), C(_) or C(.) and something after it (for
            example C({BLF-CRYPT}$2y$05$...), C({SHA512-CRYPT}$6$...) or C({ARGON2ID}...)), or a bare crypt
            string that starts with C($1$), C($5$), C($6$), C($2a$), C($2b$), C($2y$), C($argon2id$) or C($y$).
            Anything else, such as a plain text password, is refused.
          - To store a plain text password on purpose, write it in Dovecot's own scheme, V({PLAIN}secret).
          - A single string; a list or a mapping is refused.
          - Messages name the user by its address, never by this value.
        type: raw
      update_password:
        description:
          - Whether this user's O(users[].password_hash) is written to an existing mailbox too; not given, the
            choice of O(update_password).
        type: str
        choices: [always, on_create]
      quota:
        description:
          - Quota in bytes, V(0) for none; not negative.
          - Not given, a new mailbox gets V(0) and an existing one keeps the quota it has.
        type: int
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  aliases:
    description:
      - Aliases (rows of C(virtual_aliases)); one row a source and destination pair.
      - A catch-all alias has the source V(@example.org).
      - Each pair is listed once (compared in lower case). An alias with several destinations is one entry per
        destination.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description:
          - The address (or V(@domain) for a catch-all) that mail is sent to; the same rules as O(users[].email),
            except that the local part may be empty for a catch-all.
        type: str
        required: true
      destination:
        description:
          - The address the mail goes to instead. One full address C(local@domain), by the rules of
            O(users[].email). Postfix reads the column as the lookup result, where a comma or a blank would
            separate several addresses, so lists are refused.
          - A bare local name is refused too. The C(@otherdomain) form of virtual(5) is only taken for a catch-all
            source, V(@example.com) to V(@example.net) - a domain alias, which Postfix rewrites to the same user in
            the other domain.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
notes:
  - Requires PyMySQL (Debian package C(python3-pymysql)) on the managed host.
seealso:
  - module: community.mysql.mysql_user
'''

EXAMPLES = r'''
- name: Keep the tutorial's test data
  mailfleet.postfix_mysql.mail_database:
    login_unix_socket: /run/mysqld/mysqld.sock
    domains:
      - name: example.org
    users:
      - email: john@example.org
        password_hash: "{BLF-CRYPT}$2y$05$.WedBCNZiwxY1CG3aleIleu6lYjup2CIg0BP4M4YCZsO204Czz07W"
    aliases:
      - source: jack@example.org
        destination: john@example.org

- name: Remove a domain with all its users and aliases
  mailfleet.postfix_mysql.mail_database:
    login_unix_socket: /run/mysqld/mysqld.sock
    domains:
      - name: old.example.net
        state: absent
'''

RETURN = r'''
reader_user:
  description: The reader account in use (see O(reader.standby_user)); null without O(reader).
  returned: always
  type: str
  sample: mailuser
created_database:
  description: Whether the database was (or in check mode would be) created.
  returned: always
  type: bool
created_tables:
  description: Tables that were (or in check mode would be) created.
  returned: always
  type: list
  elements: str
  sample: [virtual_domains, virtual_users, virtual_aliases]
changes:
  description:
    - One line per row or reader account that was (or would be) added, updated or removed.
    - Never holds a password or a password hash.
  returned: always
  type: list
  elements: str
  sample: ["add domain example.org", "add user john@example.org (quota 0)", "add alias jack@example.org -> john@example.org"]
problems:
  description:
    - Every problem found in the data (or, after connecting, a user's or an alias's domain that is neither in the
      database nor in O(domains)), one line each, when the module refuses its input and changes nothing.
    - Never holds a password or a password hash.
  returned: failure
  type: list
  elements: str
  sample: ["users[2].email: 'john' has no '@'"]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.community.mysql.plugins.module_utils.mysql import (
    mysql_common_argument_spec,
    mysql_driver,
)

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_data import (
    ADDRESS_LENGTH,
    DOMAIN_LENGTH,
    PASSWORD_HASH_LENGTH,
    UPDATE_PASSWORD_CHOICES,
    argument_spec as mail_data_argument_spec,
    problems as mail_data_problems,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_reader import (
    LOCK_STATE_SQL,
    PairState,
    ReaderPlan,
    grants_reader,
    quote_identifier,
    read_accounts,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mysql_login import connect

# The ISPmail layout. Dovecot and the Postfix client files of this collection read these
# names; they are created as they are and never altered afterwards. Their column sizes
# are those mail_data checks the values against. The index on virtual_aliases.source is
# not the tutorial's: without it every alias lookup reads the whole table.
TABLES = (
    ('virtual_domains', '''CREATE TABLE IF NOT EXISTS `virtual_domains` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(%d) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4''' % DOMAIN_LENGTH),
    ('virtual_users', '''CREATE TABLE IF NOT EXISTS `virtual_users` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `domain_id` int(11) NOT NULL,
  `email` varchar(%d) NOT NULL,
  `password` varchar(%d) NOT NULL,
  `quota` bigint(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`),
  FOREIGN KEY (`domain_id`) REFERENCES `virtual_domains` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4''' % (ADDRESS_LENGTH, PASSWORD_HASH_LENGTH)),
    ('virtual_aliases', '''CREATE TABLE IF NOT EXISTS `virtual_aliases` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `domain_id` int(11) NOT NULL,
  `source` varchar(%d) NOT NULL,
  `destination` varchar(%d) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `source` (`source`),
  FOREIGN KEY (`domain_id`) REFERENCES `virtual_domains` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4''' % (ADDRESS_LENGTH, ADDRESS_LENGTH)),
)


def domain_of(address):
    """The domain part of an address or of a catch-all source such as @example.org."""
    return address.rpartition('@')[2].lower()


class ContentPlan(object):
    """What must change to reach the declared content, computed before anything is written.

    The declaration has passed mail_data's checks already; the plan adds the one rule that
    needs the database: the domain of each user and alias exists or is declared.
    """

    def __init__(self, domains, users, aliases):
        self.domains = domains        # name -> id
        self.users = users            # email -> (password, quota)
        self.aliases = aliases        # set of (source, destination)
        self.statements = []          # (sql, args)
        self.changes = []             # readable, secret-free lines
        self.before = []
        self.after = []

    def _do(self, change, sql, args, before=None, after=None):
        self.changes.append(change)
        self.statements.append((sql, args))
        if before:
            self.before.append(before)
        if after:
            self.after.append(after)

    def plan(self, domains, users, aliases, update_password='on_create'):
        wanted_domains = set()
        removed_domains = set()
        for domain in domains:
            name = domain['name'].strip().lower()
            if domain['state'] == 'present':
                wanted_domains.add(name)
                if name not in self.domains:
                    self._do('add domain %s' % name,
                             'INSERT INTO virtual_domains (name) VALUES (%s)', (name,),
                             after='domain %s' % name)
            else:
                removed_domains.add(name)

        known_domains = (set(self.domains) | wanted_domains) - removed_domains
        problems = []
        for index, user in enumerate(users):
            email = user['email'].strip().lower()
            if user['state'] == 'absent':
                if email in self.users and domain_of(email) not in removed_domains:
                    self._do('remove user %s' % email,
                             'DELETE FROM virtual_users WHERE email = %s', (email,),
                             before='user %s (quota %s)' % (email, self.users[email][1]))
                continue
            if domain_of(email) not in known_domains:
                problems.append("users[%d].email: '%s': domain %s is neither in the database nor in domains"
                                % (index, email, domain_of(email)))
                continue
            current = self.users.get(email)
            if current is None:
                wanted = (user['password_hash'], int(user.get('quota') or 0))
                self._do('add user %s (quota %d)' % (email, wanted[1]),
                         'INSERT INTO virtual_users (domain_id, email, password, quota) '
                         'SELECT id, %s, %s, %s FROM virtual_domains WHERE name = %s',
                         (email, wanted[0], wanted[1], domain_of(email)),
                         after='user %s (quota %d)' % (email, wanted[1]))
                continue
            # The password of an existing mailbox is its user's (the webmail changes it), and
            # the quota the admin's where none is declared: each is written only when asked.
            wanted = (user['password_hash'] if (user.get('update_password') or update_password) == 'always' else current[0],
                      current[1] if user.get('quota') is None else int(user['quota']))
            if current != wanted:
                what = []
                if current[0] != wanted[0]:
                    what.append('password')
                if current[1] != wanted[1]:
                    what.append('quota %d -> %d' % (current[1], wanted[1]))
                self._do('update user %s (%s)' % (email, ', '.join(what)),
                         'UPDATE virtual_users SET password = %s, quota = %s WHERE email = %s',
                         (wanted[0], wanted[1], email),
                         before='user %s (quota %d%s)' % (email, current[1], ', old password' if current[0] != wanted[0] else ''),
                         after='user %s (quota %d%s)' % (email, wanted[1], ', new password' if current[0] != wanted[0] else ''))

        for index, alias in enumerate(aliases):
            pair = (alias['source'].strip().lower(), alias['destination'].strip().lower())
            line = 'alias %s -> %s' % pair
            if alias['state'] == 'absent':
                if pair in self.aliases and domain_of(pair[0]) not in removed_domains:
                    self._do('remove ' + line,
                             'DELETE FROM virtual_aliases WHERE source = %s AND destination = %s', pair,
                             before=line)
                continue
            if domain_of(pair[0]) not in known_domains:
                problems.append("aliases[%d].source: '%s': domain %s is neither in the database nor in domains"
                                % (index, pair[0], domain_of(pair[0])))
                continue
            if pair not in self.aliases:
                self._do('add ' + line,
                         'INSERT INTO virtual_aliases (domain_id, source, destination) '
                         'SELECT id, %s, %s FROM virtual_domains WHERE name = %s',
                         pair + (domain_of(pair[0]),),
                         after=line)

        for name in sorted(removed_domains):
            if name in self.domains:
                cascaded = sorted(e for e in self.users if domain_of(e) == name)
                cascaded += sorted('%s -> %s' % p for p in self.aliases if domain_of(p[0]) == name)
                note = ' (and its %d users and aliases)' % len(cascaded) if cascaded else ''
                self._do('remove domain %s%s' % (name, note),
                         'DELETE FROM virtual_domains WHERE name = %s', (name,),
                         before='domain %s%s' % (name, note))
        return problems


def read_existing_tables(cursor, db):
    cursor.execute('SELECT table_name FROM information_schema.tables WHERE table_schema = %s', (db,))
    return set(row[0] for row in cursor.fetchall())


def read_content(cursor):
    cursor.execute('SELECT id, name FROM virtual_domains')
    domains = dict((row[1].lower(), row[0]) for row in cursor.fetchall())
    cursor.execute('SELECT email, password, quota FROM virtual_users')
    users = dict((row[0].lower(), (row[1], int(row[2]))) for row in cursor.fetchall())
    cursor.execute('SELECT source, destination FROM virtual_aliases')
    aliases = set((row[0].lower(), row[1].lower()) for row in cursor.fetchall())
    return domains, users, aliases


def plan_reader(cursor, db, reader):
    """The plan for the account in use. With a standby account, that is the one of the two
    that the server says is in use (see PairState); the other is left as it is."""
    user, locked_hosts = reader['user'], ()
    if reader.get('standby_user'):
        cursor.execute(LOCK_STATE_SQL, (reader['user'], reader['standby_user']))
        pair = PairState(reader['user'], reader['standby_user'], cursor.fetchall())
        user = pair.active(reader['password'])
        locked_hosts = pair.locked_hosts(user)
    return ReaderPlan(user, db, columns_only=reader.get('columns_only')).plan(
        reader['password'], reader['hosts'], read_accounts(cursor, user), grants_reader(cursor, user),
        revoke_other_hosts=reader['revoke_other_hosts'], locked_hosts=locked_hosts, require_tls=reader.get('require_tls'),
        update_password=reader['update_password'])


def plan_dovecot(cursor, db, dovecot, require_tls):
    """The plan for Dovecot's own account: SELECT on the whole mail database (it reads the
    password hashes and the quotas), from its hosts only."""
    user = dovecot['user']
    return ReaderPlan(user, db, kind='Dovecot account').plan(
        dovecot['password'], dovecot['hosts'], read_accounts(cursor, user), grants_reader(cursor, user),
        revoke_other_hosts=True, require_tls=require_tls)


def argument_spec():
    spec = mysql_common_argument_spec()
    spec.update(
        login_db=dict(type='str', default='mailserver'),
        schema=dict(type='str', default='present', choices=['present', 'ignore']),
    )
    # domains, users, aliases and reader: the options the validate_mail_data action takes too.
    spec.update(mail_data_argument_spec())
    spec['update_password'] = dict(type='str', default='on_create', choices=UPDATE_PASSWORD_CHOICES)
    spec['reader']['options']['revoke_other_hosts'] = dict(type='bool', default=True)
    spec['reader']['options']['update_password'] = dict(type='str', default='on_create', choices=UPDATE_PASSWORD_CHOICES)
    spec['reader']['options']['require_tls'] = dict(type='bool')
    # Checked against this module's own login_user and login_db.
    del spec['reader']['options']['login_user']
    del spec['reader']['options']['database']
    return spec


def read_schema(module, cursor, result):
    """Whether the database and which tables are missing (into RESULT); the missing tables."""
    db = module.params['login_db']
    cursor.execute('SELECT 1 FROM information_schema.schemata WHERE schema_name = %s', (db,))
    result['created_database'] = not cursor.fetchall()
    if result['created_database'] and module.params['schema'] == 'ignore':
        module.fail_json(msg='Database %s does not exist and schema=ignore' % db, **result)
    existing = set() if result['created_database'] else read_existing_tables(cursor, db)
    missing = [name for name, _sql in TABLES if name not in existing]
    if missing and module.params['schema'] == 'ignore':
        module.fail_json(msg='Database %s lacks the tables %s and schema=ignore' % (db, ', '.join(missing)))
    result['created_tables'] = missing
    return missing


def plan_everything(module, cursor, reader, missing, result):
    """The content's plan and the accounts' plans (the reader's, and Dovecot's account)."""
    params = module.params
    if missing:
        # Fresh tables are empty: plan against nothing rather than reading tables
        # that (in check mode) do not exist yet.
        plan = ContentPlan({}, {}, set())
    else:
        cursor.execute('USE %s' % quote_identifier(params['login_db']))
        plan = ContentPlan(*read_content(cursor))
    problems = plan.plan(params['domains'], params['users'], params['aliases'], params['update_password'])
    if problems:
        module.fail_json(msg='Nothing was changed: ' + '; '.join(problems), problems=problems, **result)
    account_plans = []
    reader_plan = None
    if reader is not None:
        reader_plan = plan_reader(cursor, params['login_db'], reader)
        account_plans.append(reader_plan)
    if params['dovecot'] is not None:
        account_plans.append(plan_dovecot(cursor, params['login_db'], params['dovecot'],
                                          (reader or {}).get('require_tls')))
    refusals = [refusal for account_plan in account_plans for refusal in account_plan.refusals]
    if refusals:
        module.fail_json(msg='Nothing was changed: ' + '; '.join(refusals), problems=refusals, **result)
    for account_plan in account_plans:
        for warning in account_plan.warnings:
            module.warn(warning)
    result['changes'] = plan.changes + [change for account_plan in account_plans for change in account_plan.changes]
    result['reader_user'] = reader_plan.user if reader_plan else None
    result['changed'] = bool(result['created_database'] or missing or plan.statements
                             or any(account_plan.statements for account_plan in account_plans))
    return plan, account_plans


def apply(cursor, connection, db, missing, plan, account_plans, created_database):
    """DDL commits implicitly in MariaDB, so database and tables come first; the content goes
    in one transaction after them, the accounts after that."""
    if created_database:
        cursor.execute('CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci'
                       % quote_identifier(db))
    cursor.execute('USE %s' % quote_identifier(db))
    for name, sql in TABLES:
        if name in missing:
            cursor.execute(sql)
    for sql, args in plan.statements:
        cursor.execute(sql, args)
    connection.commit()
    for account_plan in account_plans:
        for sql, args in account_plan.statements:
            cursor.execute(sql, args)


def diff(module, missing, plan, account_plans, created_database):
    db = module.params['login_db']
    header = '%s (%s)' % (db, module.params['login_unix_socket'] or module.params['login_host'])
    return dict(
        before_header=header, after_header=header,
        before=''.join('%s\n' % line for line in plan.before
                       + [line for account_plan in account_plans for line in account_plan.before]),
        after=''.join('%s\n' % line for line in (['database %s' % db] if created_database else [])
                      + ['table %s' % t for t in missing] + plan.after
                      + [line for account_plan in account_plans for line in account_plan.after]),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    db = params['login_db']
    reader = params['reader']
    if reader is not None:
        # The reader may be neither the account this module logs in with, nor read another database.
        reader = dict(reader, login_user=params['login_user'], database=db)
    # Bad data fails here, before the connection: nothing is read, nothing is changed.
    problems = mail_data_problems(params['domains'], params['users'], params['aliases'], reader,
                                  labels=dict(reader_login_user='login_user', reader_database='login_db'),
                                  dovecot=params['dovecot'])
    if problems:
        module.fail_json(msg='Nothing was changed; %d problem%s in the mail data: %s'
                         % (len(problems), '' if len(problems) == 1 else 's', '; '.join(problems)),
                         problems=problems)
    cursor, connection = connect(module)

    result = dict(changed=False, created_database=False, created_tables=[], changes=[])
    try:
        missing = read_schema(module, cursor, result)
        plan, account_plans = plan_everything(module, cursor, reader, missing, result)
        if result['changed'] and not module.check_mode:
            apply(cursor, connection, db, missing, plan, account_plans, result['created_database'])
    except mysql_driver.Error as e:
        connection.rollback()
        module.fail_json(msg='Database %s: %s; the content is as it was before, account changes (if any) '
                         'stopped at the failed statement' % (db, to_native(e)), **result)
    finally:
        connection.close()
    if module._diff:
        result['diff'] = diff(module, missing, plan, account_plans, result['created_database'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
