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
  - The users' password hashes and the reader's password are never returned or shown in a diff.
author:
  - mailfleet maintainers (@mailfleet)
extends_documentation_fragment:
  - community.mysql.mysql
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
      - The read-only account Postfix logs in with. It gets SELECT on O(login_db) and nothing else, from
        each of O(reader.hosts); privileges it has beyond that are revoked.
      - Account changes are not transactional in MariaDB; they are made after the content is committed.
      - Leave it out to manage no account.
    type: dict
    suboptions:
      user:
        description: The account name.
        type: str
        default: mailuser
      password:
        description:
          - Its password. Compared with the stored C(mysql_native_password) hash (the default of Debian's
            MariaDB) and only changed when it differs; for accounts with another authentication plugin
            it is set when the account is created, and a warning says it was not compared.
        type: str
        required: true
      hosts:
        description: The hosts (addresses) the account may connect from, that is the mail hosts.
        type: list
        elements: str
        required: true
      revoke_other_hosts:
        description: Remove the account from every host not in O(reader.hosts).
        type: bool
        default: true
  schema:
    description:
      - V(present) creates the missing tables (InnoDB, utf8mb4, foreign keys with C(ON DELETE CASCADE)).
        Existing tables are never altered.
      - V(ignore) expects the tables to exist already.
    type: str
    choices: [present, ignore]
    default: present
  domains:
    description: Mail domains (rows of C(virtual_domains)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The domain name, for example V(example.org).
        type: str
        required: true
      state:
        description:
          - V(absent) removes the domain and, through the foreign keys, all its users and aliases.
        type: str
        choices: [present, absent]
        default: present
  users:
    description: Mailbox users (rows of C(virtual_users)). The domain is the part after C(@), and must exist or be listed in O(domains).
    type: list
    elements: dict
    default: []
    suboptions:
      email:
        description: The full address, for example V(john@example.org).
        type: str
        required: true
      password_hash:
        description:
          - The already hashed password as Dovecot reads it, for example the output of C(doveadm pw -s BLF-CRYPT).
          - Required when O(users[].state=present).
        type: str
      quota:
        description: Quota in bytes, V(0) for none.
        type: int
        default: 0
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  aliases:
    description:
      - Aliases (rows of C(virtual_aliases)); one row a source and destination pair.
      - A catch-all alias has the source V(@example.org).
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: The address (or V(@domain) for a catch-all) that mail is sent to.
        type: str
        required: true
      destination:
        description: The address the mail goes to instead.
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
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.community.mysql.plugins.module_utils.mysql import (
    mysql_common_argument_spec,
    mysql_connect,
    mysql_driver,
    mysql_driver_fail_msg,
)

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_reader import ReaderPlan, quote_identifier

# The ISPmail layout. Dovecot and the Postfix client files of this collection read these
# names; they are created as they are and never altered afterwards.
TABLES = (
    ('virtual_domains', '''CREATE TABLE IF NOT EXISTS `virtual_domains` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(50) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'''),
    ('virtual_users', '''CREATE TABLE IF NOT EXISTS `virtual_users` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `domain_id` int(11) NOT NULL,
  `email` varchar(100) NOT NULL,
  `password` varchar(150) NOT NULL,
  `quota` bigint(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`),
  FOREIGN KEY (`domain_id`) REFERENCES `virtual_domains` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'''),
    ('virtual_aliases', '''CREATE TABLE IF NOT EXISTS `virtual_aliases` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `domain_id` int(11) NOT NULL,
  `source` varchar(100) NOT NULL,
  `destination` varchar(100) NOT NULL,
  PRIMARY KEY (`id`),
  FOREIGN KEY (`domain_id`) REFERENCES `virtual_domains` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'''),
)


def domain_of(address):
    """The domain part of an address or of a catch-all source such as @example.org."""
    return address.rpartition('@')[2].lower()


class ContentPlan(object):
    """What must change to reach the declared content, computed before anything is written."""

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

    def plan(self, domains, users, aliases):
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
        for user in users:
            email = user['email'].strip().lower()
            if user['state'] == 'absent':
                if email in self.users and domain_of(email) not in removed_domains:
                    self._do('remove user %s' % email,
                             'DELETE FROM virtual_users WHERE email = %s', (email,),
                             before='user %s (quota %s)' % (email, self.users[email][1]))
                continue
            if domain_of(email) not in known_domains:
                problems.append('user %s: domain %s is neither in the database nor in domains' % (email, domain_of(email)))
                continue
            if not user.get('password_hash'):
                problems.append('user %s: password_hash is required when state is present' % email)
                continue
            wanted = (user['password_hash'], int(user['quota']))
            current = self.users.get(email)
            if current is None:
                self._do('add user %s (quota %d)' % (email, wanted[1]),
                         'INSERT INTO virtual_users (domain_id, email, password, quota) '
                         'SELECT id, %s, %s, %s FROM virtual_domains WHERE name = %s',
                         (email, wanted[0], wanted[1], domain_of(email)),
                         after='user %s (quota %d)' % (email, wanted[1]))
            elif current != wanted:
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

        for alias in aliases:
            pair = (alias['source'].strip().lower(), alias['destination'].strip().lower())
            line = 'alias %s -> %s' % pair
            if alias['state'] == 'absent':
                if pair in self.aliases and domain_of(pair[0]) not in removed_domains:
                    self._do('remove ' + line,
                             'DELETE FROM virtual_aliases WHERE source = %s AND destination = %s', pair,
                             before=line)
                continue
            if domain_of(pair[0]) not in known_domains:
                problems.append('alias %s: domain %s is neither in the database nor in domains' % (pair[0], domain_of(pair[0])))
                continue
            if pair not in self.aliases:
                self.aliases.add(pair)  # the same pair listed twice is added once
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
    cursor.execute('SELECT Host, plugin, authentication_string FROM mysql.user WHERE User = %s', (reader['user'],))
    accounts = dict((row[0], (row[1], row[2])) for row in cursor.fetchall())

    def grants_of(host):
        cursor.execute('SHOW GRANTS FOR %s@%s', (reader['user'], host))
        return [row[0] for row in cursor.fetchall()]

    return ReaderPlan(reader['user'], db).plan(reader['password'], reader['hosts'], accounts, grants_of,
                                               revoke_other_hosts=reader['revoke_other_hosts'])


def main():
    argument_spec = mysql_common_argument_spec()
    argument_spec.update(
        login_db=dict(type='str', default='mailserver'),
        schema=dict(type='str', default='present', choices=['present', 'ignore']),
        domains=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        users=dict(type='list', elements='dict', default=[], options=dict(
            email=dict(type='str', required=True),
            password_hash=dict(type='str', no_log=True),
            quota=dict(type='int', default=0),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        aliases=dict(type='list', elements='dict', default=[], options=dict(
            source=dict(type='str', required=True),
            destination=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        reader=dict(type='dict', options=dict(
            user=dict(type='str', default='mailuser'),
            password=dict(type='str', required=True, no_log=True),
            hosts=dict(type='list', elements='str', required=True),
            revoke_other_hosts=dict(type='bool', default=True),
        )),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if mysql_driver is None:
        module.fail_json(msg=mysql_driver_fail_msg)

    params = module.params
    db = params['login_db']
    reader = params['reader']
    if reader is not None and not reader['hosts']:
        module.fail_json(msg='reader.hosts: give at least one host, or leave reader out')
    try:
        # Without a database: it may not exist yet.
        cursor, connection = mysql_connect(
            module, params['login_user'], params['login_password'], params['config_file'],
            params['client_cert'], params['client_key'], params['ca_cert'], None,
            connect_timeout=params['connect_timeout'], check_hostname=params['check_hostname'])
    except Exception as e:
        module.fail_json(msg='Cannot connect to the database server as %s: %s' % (params['login_user'] or 'the default user', to_native(e)))

    result = dict(changed=False, created_database=False, created_tables=[], changes=[])
    reader_plan = None
    try:
        cursor.execute('SELECT 1 FROM information_schema.schemata WHERE schema_name = %s', (db,))
        result['created_database'] = not cursor.fetchall()
        if result['created_database'] and params['schema'] == 'ignore':
            module.fail_json(msg='Database %s does not exist and schema=ignore' % db, **result)
        existing = set() if result['created_database'] else read_existing_tables(cursor, db)
        missing = [name for name, _sql in TABLES if name not in existing]
        if missing and params['schema'] == 'ignore':
            module.fail_json(msg='Database %s lacks the tables %s and schema=ignore' % (db, ', '.join(missing)))
        result['created_tables'] = missing

        if missing:
            # Fresh tables are empty: plan against nothing rather than reading tables
            # that (in check mode) do not exist yet.
            plan = ContentPlan({}, {}, set())
        else:
            cursor.execute('USE %s' % quote_identifier(db))
            plan = ContentPlan(*read_content(cursor))
        problems = plan.plan(params['domains'], params['users'], params['aliases'])
        if problems:
            module.fail_json(msg='Nothing was changed: ' + '; '.join(problems), **result)

        if reader is not None:
            reader_plan = plan_reader(cursor, db, reader)
            for warning in reader_plan.warnings:
                module.warn(warning)
        result['changes'] = plan.changes + (reader_plan.changes if reader_plan else [])
        result['changed'] = bool(result['created_database'] or missing or plan.statements
                                 or (reader_plan and reader_plan.statements))

        if result['changed'] and not module.check_mode:
            # DDL commits implicitly in MariaDB, so database and tables come first; the
            # content goes in one transaction after them, the accounts after that.
            if result['created_database']:
                cursor.execute('CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci'
                               % quote_identifier(db))
            cursor.execute('USE %s' % quote_identifier(db))
            for name, sql in TABLES:
                if name in missing:
                    cursor.execute(sql)
            for sql, args in plan.statements:
                cursor.execute(sql, args)
            connection.commit()
            for sql, args in (reader_plan.statements if reader_plan else []):
                cursor.execute(sql, args)
    except mysql_driver.Error as e:
        connection.rollback()
        module.fail_json(msg='Database %s: %s; the content is as it was before, account changes (if any) '
                         'stopped at the failed statement' % (db, to_native(e)), **result)
    finally:
        connection.close()

    if module._diff:
        header = '%s (%s)' % (db, params['login_unix_socket'] or params['login_host'])
        result['diff'] = dict(
            before_header=header, after_header=header,
            before=''.join('%s\n' % line for line in plan.before + (reader_plan.before if reader_plan else [])),
            after=''.join('%s\n' % line for line in (['database %s' % db] if result['created_database'] else [])
                          + ['table %s' % t for t in missing] + plan.after
                          + (reader_plan.after if reader_plan else [])),
        )
    module.exit_json(**result)


if __name__ == '__main__':
    main()
