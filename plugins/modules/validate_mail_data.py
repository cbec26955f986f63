#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The action plugin of the same name does the work, on the controller: this file only
# documents it, as ansible.builtin.assert's module file does.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: validate_mail_data
short_description: (Internal) Check mail domains, users, aliases and the read-only account before anything is written
version_added: 0.1.0
description:
  - Checks the data M(mailfleet.postfix_mysql.mail_database) would write, by the same rules and with the same
    code, but on the controller, without connecting to the host, so that a role refuses bad data in its first
    seconds, before it installs anything.
  - Fails with every problem found, one line each, naming the option (or, with O(labels), the variable) and the
    item, such as C(users[2].email) or C(mailfleet_database_users[2].email).
  - Domain names are valid DNS names (internationalised names in either form, checked through their IDNA form)
    of at most 50 characters. User addresses and alias sources and destinations are one full address of at
    most 100 characters (an alias source may be a catch-all C(@domain)). Password hashes are in a form Dovecot
    reads, C({SCHEME}...) or a crypt string, at most 150 characters. Nothing is listed twice. The rules in full
    are with each option of M(mailfleet.postfix_mysql.mail_database).
  - Only the data is checked. Whether a user's or an alias's domain already exists in the database is known
    only to M(mailfleet.postfix_mysql.mail_database), which checks it before it changes anything.
  - Its messages never hold a password or a password hash (a user is named by its address), so the task needs
    no C(no_log) and its failure stays readable.
author:
  - mailfleet maintainers (@mailfleet)
options:
  domains:
    description:
      - Mail domains, as O(mailfleet.postfix_mysql.mail_database#module:domains) takes them.
      - Each C(name) is a valid DNS name of at most 50 characters, listed once.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The domain name, for example V(example.org) or V(münchen.de).
        type: str
        required: true
      state:
        description: Whether the domain is to exist.
        type: str
        choices: [present, absent]
        default: present
  users:
    description:
      - Mailbox users, as O(mailfleet.postfix_mysql.mail_database#module:users) takes them.
    type: list
    elements: dict
    default: []
    suboptions:
      email:
        description: The full address, for example V(john@example.org); listed once.
        type: str
        required: true
      password_hash:
        description:
          - The hashed password, C({SCHEME}...) (as C(doveadm pw) prints it) or a crypt string (C($6$...),
            C($2y$...), C($y$...), C($argon2id$...)). Required when O(users[].state=present).
          - A plain text password stored on purpose is written in Dovecot's own scheme, V({PLAIN}secret).
          - A single string; a list or a mapping is refused.
        type: raw
      update_password:
        description: As O(mailfleet.postfix_mysql.mail_database#module:users[].update_password).
        type: str
        choices: [always, on_create]
      quota:
        description: Quota in bytes, V(0) for none; not negative. Not given, an existing mailbox keeps its quota.
        type: int
      state:
        description: Whether the user is to exist.
        type: str
        choices: [present, absent]
        default: present
  aliases:
    description:
      - Aliases, as O(mailfleet.postfix_mysql.mail_database#module:aliases) takes them.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: The address mail is sent to, or V(@domain) for a catch-all.
        type: str
        required: true
      destination:
        description: One full address the mail goes to instead; a list of addresses is refused.
        type: str
        required: true
      state:
        description: Whether the alias is to exist.
        type: str
        choices: [present, absent]
        default: present
  reader:
    description:
      - The read-only account, as O(mailfleet.postfix_mysql.mail_database#module:reader) takes it (without
        C(revoke_other_hosts)). Leave it out to check no account.
    type: dict
    suboptions:
      user:
        description:
          - The account name; not empty, at most 80 characters, no leading or trailing blanks, no control
            characters or line separators; not an account of the server itself (C(root), C(mysql),
            C(mariadb.sys), C(debian-sys-maint)), nor O(reader.login_user) or O(reader.replication_user).
        type: str
        default: mailuser
      standby_user:
        description: The second account used in turn with O(reader.user); the same rules, and not the same name.
        type: str
      password:
        description:
          - Its password; at least 2 characters, no leading or trailing blanks, no control characters and no
            Unicode line or paragraph separators (a Postfix client file strips the blanks and cannot hold a line
            break).
          - Never shown, not even in a failure message.
          - A single string; a list or a mapping is refused.
        type: raw
        required: true
      hosts:
        description:
          - The hosts the account may connect from; at least one, each without blanks.
          - A host with C(%) gets a warning, as does a server listening off loopback without TLS.
        type: list
        elements: str
        required: true
      login_user:
        description: The account the role logs in with; O(reader.user) and O(reader.standby_user) must differ from it.
        type: str
      replication_user:
        description:
          - The replication account; the reader accounts must differ from it, and it must be a name of its own too.
        type: str
      database:
        description: The mail database's name; 1 to 64 letters, digits or C(_).
        type: str
      columns_only:
        description:
          - Whether the reader gets SELECT only on the columns Postfix reads (see
            O(mailfleet.postfix_mysql.mail_database#module:reader.columns_only)); without O(dovecot), a warning says
            that Dovecot then needs an account of its own.
        type: bool
        default: false
  dovecot:
    description:
      - Dovecot's own account, as O(mailfleet.postfix_mysql.mail_database#module:dovecot) takes it. Leave it out
        to check none.
    type: dict
    suboptions:
      user:
        description: The account name; the rules of O(reader.user), and none of the other accounts' names.
        type: str
        required: true
      password:
        description: Its password; the rules of O(reader.password). Never shown.
        type: raw
        required: true
      hosts:
        description: The hosts Dovecot connects from; at least one, each without blanks.
        type: list
        elements: str
        required: true
  server:
    description:
      - The database server's own settings that the P(mailfleet.postfix_mysql.mailfleet_database#role) role
        writes, checked before the drop-in is written or the server restarted, so that a value MariaDB cannot
        start with, or a replication setup that cannot connect, is refused first.
    type: dict
    suboptions:
      bind_address:
        description:
          - One IP address or host name, a comma-separated list of them without blanks, or V(*).
        type: raw
        default: 127.0.0.1
      replication_role:
        description: V(none), V(primary) or V(replica).
        type: str
        choices: [none, primary, replica]
        default: none
      replication_password:
        description: The replication account's password; a single string, required with replication. Never shown.
        type: raw
        default: ""
      replication_hosts:
        description: On a primary, the replicas' addresses (at least one; MariaDB host patterns with C(%) are taken).
        type: list
        elements: raw
        default: []
      replication_primary_host:
        description: On a replica, the primary's address or host name.
        type: raw
        default: ""
      tls_certificate:
        description: The server's certificate(s) in PEM form; with TLS, all three TLS options are needed.
        type: raw
        default: ""
      tls_private_key:
        description: Its private key in PEM form, unencrypted. Never shown.
        type: raw
        default: ""
      tls_ca_certificate:
        description: The CA certificate(s) in PEM form.
        type: raw
        default: ""
  labels:
    description:
      - What the messages call each option, so that they name the variables the data came from. By default the
        options' own names (V(domains), V(reader.password), ...).
    type: dict
    default: {}
    suboptions:
      domains:
        description: The name for O(domains).
        type: str
        default: domains
      users:
        description: The name for O(users).
        type: str
        default: users
      aliases:
        description: The name for O(aliases).
        type: str
        default: aliases
      reader_user:
        description: The name for O(reader.user).
        type: str
        default: reader.user
      reader_standby_user:
        description: The name for O(reader.standby_user).
        type: str
        default: reader.standby_user
      reader_password:
        description: The name for O(reader.password).
        type: str
        default: reader.password
      reader_hosts:
        description: The name for O(reader.hosts).
        type: str
        default: reader.hosts
      reader_login_user:
        description: The name for O(reader.login_user).
        type: str
        default: reader.login_user
      reader_replication_user:
        description: The name for O(reader.replication_user).
        type: str
        default: reader.replication_user
      reader_database:
        description: The name for O(reader.database).
        type: str
        default: reader.database
      reader_columns_only:
        description: The name for O(reader.columns_only).
        type: str
        default: reader.columns_only
      dovecot_user:
        description: The name for O(dovecot.user).
        type: str
        default: dovecot.user
      dovecot_password:
        description: The name for O(dovecot.password).
        type: str
        default: dovecot.password
      dovecot_hosts:
        description: The name for O(dovecot.hosts).
        type: str
        default: dovecot.hosts
      bind_address:
        description: The name for O(server.bind_address).
        type: str
        default: server.bind_address
      replication_role:
        description: The name for O(server.replication_role).
        type: str
        default: server.replication_role
      replication_password:
        description: The name for O(server.replication_password).
        type: str
        default: server.replication_password
      replication_hosts:
        description: The name for O(server.replication_hosts).
        type: str
        default: server.replication_hosts
      replication_primary_host:
        description: The name for O(server.replication_primary_host).
        type: str
        default: server.replication_primary_host
      tls_certificate:
        description: The name for O(server.tls_certificate).
        type: str
        default: server.tls_certificate
      tls_private_key:
        description: The name for O(server.tls_private_key).
        type: str
        default: server.tls_private_key
      tls_ca_certificate:
        description: The name for O(server.tls_ca_certificate).
        type: str
        default: server.tls_ca_certificate
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: Runs entirely on the controller.
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Checks the same way in check mode.
  connection:
    support: none
  delegation:
    support: none
    details: Nothing runs on any host.
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - The P(mailfleet.postfix_mysql.mailfleet_database#role) role runs this check as its first task, with O(labels)
    naming its variables.
seealso:
  - module: mailfleet.postfix_mysql.mail_database
'''

EXAMPLES = r'''
- name: Check the mail data before anything is installed
  mailfleet.postfix_mysql.validate_mail_data:
    domains: "{{ mail_domains }}"
    users: "{{ mail_users }}"
    aliases: "{{ mail_aliases }}"
    reader:
      user: mailuser
      password: "{{ vault_mail_reader_password }}"
      hosts: [127.0.0.1]
    labels:
      domains: mail_domains
      users: mail_users
      aliases: mail_aliases
      reader_password: vault_mail_reader_password

- name: Check a list of users only
  mailfleet.postfix_mysql.validate_mail_data:
    users:
      - email: john@example.org
        password_hash: "{BLF-CRYPT}$2y$05$.WedBCNZiwxY1CG3aleIleu6lYjup2CIg0BP4M4YCZsO204Czz07W"
'''

RETURN = r'''
msg:
  description: What was checked, or every problem found joined with C(; ).
  returned: always
  type: str
  sample: "The mail data has 1 problem: mail_users[2].email: 'john' has no '@'"
problems:
  description: The problems found, one line each; empty when the data passed. Never holds a password or a hash.
  returned: always
  type: list
  elements: str
  sample: ["mail_users[2].email: 'john' has no '@'"]
'''
