# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
name: postmap
short_description: Ask Postfix tables with postmap, on the controller
version_added: "0.1.0"
description:
  - Looks the terms up in a Postfix table (or in several tables, first hit wins) with
    C(postmap -q -) and returns one answer per term, in the order of the terms.
  - This lookup runs on the B(controller), like every lookup. It only makes sense where
    the controller is the mail host or can act as one, with Postfix and the map type
    installed, the client file readable and the database reachable, for example with
    C(ansible-pull) or a play with a local connection (C(ansible_connection=local)).
  - To check the tables of the mail hosts of a fleet, use the
    M(mailfleet.postfix_mysql.postmap_query) module, which runs on each managed host and
    can compare the answers with expected values.
  - All terms are answered by one C(postmap -q -) process (one database connection), or
    by a few concurrent ones for large numbers of terms, see O(parallel).
  - A broken table (database down, access denied, SQL error, unreadable or missing client
    file, map type not installed) raises an error naming the table, the database host(s)
    read from the client file and Postfix's own message. The C(password) of the client
    file is hidden from the message.
author:
  - mailfleet maintainers (@mailfleet)
options:
  _terms:
    description:
      - The keys to look up, as literal lookup keys (an address, a domain, C(@domain)).
        See the notes for the keys that are refused.
    type: list
    elements: str
    required: true
  table:
    description:
      - The Postfix table to ask, as C(type:name), for example
        C(mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf).
      - Exactly one of O(table) and O(tables) is required.
    type: str
  tables:
    description:
      - Several tables asked in this order, as Postfix does. The first table that knows a
        key answers it; keys found in one table are not asked of the next ones.
      - Exactly one of O(table) and O(tables) is required.
    type: list
    elements: str
  default:
    description:
      - What to return for a key that no table knows.
      - By default, V(None).
    type: raw
extends_documentation_fragment:
  - mailfleet.postfix_mysql.postmap
notes:
  - Reading a database client file needs root or group C(postfix) on the controller.
  - To ask the tables that a main.cf parameter lists on a mail host, use the
    O(mailfleet.postfix_mysql.postmap_query#module:parameter) option.
seealso:
  - module: mailfleet.postfix_mysql.postmap_query
  - name: postmap(1)
    description: The Postfix manual page of postmap.
    link: https://www.postfix.org/postmap.1.html
'''

EXAMPLES = r'''
# These run on the controller: a playbook run with ansible-pull or connection: local on
# the mail host itself.
- name: Is example.org a mailbox domain?
  ansible.builtin.debug:
    msg: "{{ lookup('mailfleet.postfix_mysql.postmap', 'example.org',
             table='mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf') }}"

- name: Where do these addresses go (aliases first, then the identity map)?
  ansible.builtin.debug:
    msg: "{{ query('mailfleet.postfix_mysql.postmap', 'postmaster@example.org', 'john@example.org',
             tables=['mysql:/etc/postfix/mysql-virtual-alias-maps.cf',
                     'mysql:/etc/postfix/mysql-email2email.cf'],
             default='(unknown)') }}"

- name: Fail unless every mailbox is known
  ansible.builtin.assert:
    that: answers is not contains(None)
  vars:
    answers: "{{ query('mailfleet.postfix_mysql.postmap', *mailboxes,
                       table='mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf') }}"
'''

RETURN = r'''
_raw:
  description:
    - One answer per term, in the order of the terms; O(default) for a term no table knows.
      Several result rows come joined with commas, as Postfix returns them.
  type: list
  elements: raw
'''

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.process import get_bin_path
from ansible.plugins.lookup import LookupBase

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import redact
# The runner and the query live in module_utils, not plugin_utils: the modules run the
# same concurrent postmap processes on the managed host, so this lookup shares their one
# implementation (see PostmapRunner).
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import (
    PostmapError,
    PostmapRunner,
    query_tables,
)


class LookupModule(LookupBase):

    # Unit tests replace these.
    runner_class = PostmapRunner

    @staticmethod
    def find_postmap():
        try:
            return get_bin_path('postmap', opt_dirs=['/usr/sbin', '/usr/local/sbin'])
        except ValueError:
            raise AnsibleLookupError(
                'postmap was not found on the controller: this lookup runs on the controller; '
                'install postfix there, or use the mailfleet.postfix_mysql.postmap_query module '
                'to ask the tables of a managed host')

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        table = self.get_option('table')
        tables = self.get_option('tables')
        if (table is None) == (tables is None):
            raise AnsibleLookupError('give exactly one of table and tables')
        tables = [table] if table is not None else tables
        timeout = self.get_option('timeout')
        if timeout <= 0:
            raise AnsibleLookupError('timeout must be a positive number of seconds')
        default = self.get_option('default')
        if not terms:
            return []
        postmap = self.find_postmap()
        try:
            result = query_tables(postmap, tables, terms, config_dir=self.get_option('config_dir'),
                                  parallel=self.get_option('parallel'),
                                  runner=self.runner_class(timeout=timeout))
        except PostmapError as exc:
            raise AnsibleLookupError(exc.message)
        answers = []
        for term in terms:
            value = result.answers.get(str(term))
            answers.append(default if value is None else redact(value, result.secrets))
        return answers
