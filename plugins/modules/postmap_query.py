#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: postmap_query
short_description: Ask Postfix tables for keys with postmap, and check the answers
version_added: "0.1.0"
description:
  - Looks keys up in one Postfix table, or in a list of tables asked in order like Postfix
    does (first hit wins), with C(postmap -q -) on the managed host. Never changes anything.
  - All keys of a table are answered by one C(postmap -q -) process (keys on stdin), that is
    one database connection for any number of keys, instead of one process and one
    connection per key. Large key sets may be split over a few concurrent processes, see
    O(parallel).
  - Unlike a plain C(postmap -q), which exits 1 both for "not found" and for a broken
    table, this module tells the two apart. A broken table (database down, access denied,
    SQL error, unreadable or missing client file, map type not installed) fails the task
    with the table, the database host(s) from the client file and Postfix's own message.
  - The C(password) of the mysql_table(5) client file is read and hidden from every
    message and returned value, in addition to Postfix never printing it itself.
  - Use O(expect) to turn the lookups into a check, for example after deploying the
    client files or a database change.
  - With O(parameter), the tables are those that the host's own main.cf lists for that
    parameter, so the check tells what the running configuration answers, not what an
    inventory says it should be.
author:
  - mailfleet maintainers (@mailfleet)
options:
  table:
    description:
      - The Postfix table to ask, as C(type:name), for example
        C(mysql:/etc/postfix/mysql-virtual-alias-maps.cf) or C(proxy:mysql:/etc/postfix/...).
      - Exactly one of O(table), O(tables) and O(parameter) is required.
    type: str
  tables:
    description:
      - Several tables asked in this order, as Postfix asks the tables of a parameter such
        as C(virtual_alias_maps). The first table that knows a key answers it; keys found
        in one table are not asked of the next ones.
      - Exactly one of O(table), O(tables) and O(parameter) is required.
    type: list
    elements: str
  parameter:
    description:
      - A main.cf parameter, such as C(virtual_alias_maps). The tables that the host's live
        configuration lists for it are asked in their order, as O(tables) would ask them.
      - The value is read on the host with C(postconf -x -h PARAMETER) (with
        C(-c) O(config_dir) when given), so it is the value Postfix itself uses, its
        default when main.cf does not set it, with C($name) references expanded
        (C(virtual_mailbox_domains = $virtual_mailbox_maps) asks the mailbox maps).
      - The value is split as Postfix splits it, on commas and blanks, except inside
        C({...}), so C(unionmap:{mysql:/etc/postfix/a.cf, mysql:/etc/postfix/b.cf}) is one table.
      - The task fails, saying why, when the host's Postfix does not know the parameter,
        when its value is empty there (no table to ask), and when the value has an item
        that is not a table (C(type:name)), such as a domain in a domain list.
      - The tables it resolved to are returned in RV(tables).
      - Exactly one of O(table), O(tables) and O(parameter) is required.
    type: str
  keys:
    description:
      - The key or keys to look up, as literal lookup keys (an address, a domain, C(@domain)).
        See the notes for the keys that are refused.
      - A single string with commas is split into several keys, as for any Ansible list;
        write no blank after the commas (C(a@example.org,b@example.org)) or use a YAML list.
      - Keys are not secret and are not hidden. If the values of a table are secret, set
        C(no_log) to V(true) on the task.
      - At least one of O(keys) and O(expect) is required.
    type: list
    elements: str
  expect:
    description:
      - Expected answers, as a mapping of key to value. Keys listed here are looked up too.
      - V(null) means the key must not be found.
      - A string (or number) must equal the answer exactly.
      - A list means that the answer is these comma-separated items in any order, as for
        a query that returns several rows (Postfix joins them with commas, in no
        guaranteed order).
      - When any answer differs, the task fails with a table of every key whose answer
        differs (key, expected, got).
    type: dict
  checks:
    description:
      - Several lookups in one run, each with the O(table), O(tables) or O(parameter), O(keys) and O(expect)
        of one lookup, and an O(checks[].item) returned with its result. Every check is answered whatever
        the others answered; the task fails when one failed, and RV(results) has them all, as a loop's
        results would.
      - Exclusive with the options of a single lookup.
    type: list
    elements: dict
    suboptions:
      table:
        description: As O(table).
        type: str
      tables:
        description: As O(tables).
        type: list
        elements: str
      parameter:
        description: As O(parameter).
        type: str
      keys:
        description: As O(keys).
        type: list
        elements: str
      expect:
        description: As O(expect).
        type: dict
      item:
        description: Anything, returned as the check's C(item) in RV(results), such as the check as the caller wrote it.
        type: raw
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mailfleet.postfix_mysql.postmap
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Reading a database client file needs the rights to read it, which is root or group
    C(postfix) with the usual C(root:postfix 0640); use C(become).
  - For the same query from the controller, see the
    P(mailfleet.postfix_mysql.postmap#lookup) lookup.
requirements:
  - postfix (the C(postmap) command, and C(postconf) for O(parameter)) on the managed host,
    and the package for the map type, such as C(postfix-mysql) for C(mysql:) tables.
seealso:
  - plugin: mailfleet.postfix_mysql.postmap
    plugin_type: lookup
  - name: postmap(1)
    description: The Postfix manual page of postmap.
    link: https://www.postfix.org/postmap.1.html
  - name: mysql_table(5)
    description: The Postfix manual page of MySQL client files.
    link: https://www.postfix.org/mysql_table.5.html
  - name: postconf(1)
    description: The Postfix manual page of postconf, which reads O(parameter).
    link: https://www.postfix.org/postconf.1.html
'''

EXAMPLES = r'''
- name: Check that the mail domains are known to Postfix
  mailfleet.postfix_mysql.postmap_query:
    table: mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf
    expect:
      example.org: 1
      example.com: 1
      not-ours.example: null
  become: true

- name: Check aliases the way Postfix resolves them (first table wins)
  mailfleet.postfix_mysql.postmap_query:
    tables:
      - mysql:/etc/postfix/mysql-virtual-alias-maps.cf
      - mysql:/etc/postfix/mysql-email2email.cf
    expect:
      postmaster@example.org: john@example.org
      john@example.org: john@example.org
      team@example.org: [john@example.org, jane@example.org]
      "@example.org": jane@example.org
  become: true

- name: Check aliases through the tables this host's main.cf really lists
  mailfleet.postfix_mysql.postmap_query:
    parameter: virtual_alias_maps
    expect:
      jack@example.org: john@example.org
  become: true
  register: alias_check

- name: Show which tables the host answered from
  ansible.builtin.debug:
    msg: "{{ alias_check.tables }}"

- name: Look up many mailboxes with one postmap process (or a few, for large lists)
  mailfleet.postfix_mysql.postmap_query:
    table: mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf
    keys: "{{ mailboxes | map(attribute='email') | list }}"
  become: true
  register: mailbox_lookup

- name: Show the mailboxes Postfix does not know
  ansible.builtin.debug:
    msg: "{{ mailbox_lookup.answers | dict2items | selectattr('value', 'none') | map(attribute='key') | list }}"
'''

RETURN = r'''
results:
  description:
    - With O(checks), one result per check, in their order, each with the return values of a single lookup
      described here, C(failed), C(msg) when it failed, and C(item).
  returned: with O(checks)
  type: list
  elements: dict
answers:
  description:
    - Every key asked (from O(keys) and O(expect)) with its answer, or V(null) when no
      table knows it. Several result rows are joined with commas, as Postfix does.
  returned: success, and when O(expect) is not met
  type: dict
  sample:
    postmaster@example.org: john@example.org
    team@example.org: john@example.org,jane@example.org
    nobody@example.org: null
answered_by:
  description: For every key found, the table that answered it.
  returned: success, and when O(expect) is not met
  type: dict
  sample:
    postmaster@example.org: mysql:/etc/postfix/mysql-virtual-alias-maps.cf
found:
  description: How many keys were found.
  returned: success, and when O(expect) is not met
  type: int
  sample: 2
missing:
  description: How many keys were not found.
  returned: success, and when O(expect) is not met
  type: int
  sample: 1
tables:
  description:
    - The tables asked, in order. With O(parameter), the tables that the host's main.cf
      lists for it, as resolved there (empty when they could not be resolved).
  returned: always
  type: list
  elements: str
  sample:
    - mysql:/etc/postfix/mysql-virtual-alias-maps.cf
    - mysql:/etc/postfix/mysql-email2email.cf
processes:
  description: How many postmap processes ran (one per table, more when O(parallel) split the keys).
  returned: success, and when O(expect) is not met
  type: int
  sample: 1
mismatches:
  description: The keys whose answer differs from O(expect).
  returned: when O(expect) is not met
  type: list
  elements: dict
  contains:
    key:
      description: The key.
      type: str
    expected:
      description: What was expected; (not found) for V(null).
      type: str
    got:
      description: The answer; (not found) when no table knows the key.
      type: str
  sample:
    - key: nobody@example.org
      expected: john@example.org
      got: (not found)
error_kind:
  description:
    - What went wrong, when the task failed for another reason than answers that differ
      from O(expect).
    - V(refused) for bad input (a key, O(parallel), O(timeout), a name that is not a
      parameter name), V(exec) when postmap cannot be started, V(timeout).
    - For a table that failed, V(unsupported_type), V(missing_file), V(unreadable),
      V(config), V(tls) (the TLS handshake with the database failed - certificate, CA or name),
      V(access_denied), V(connect), V(query), or V(failed) for any other error.
    - For O(parameter), V(postconf) when postconf failed, V(unknown_parameter),
      V(empty_parameter) when the value lists no table, V(not_a_table) when it has an
      item that is not C(type:name).
  returned: when the task fails for one of the reasons listed
  type: str
  sample: access_denied
failed_table:
  description: The table that failed.
  returned: failure of a table
  type: str
  sample: mysql:/etc/postfix/mysql-virtual-alias-maps.cf
hosts:
  description:
    - The database hosts of the failed table, read from its client file, or from those of
      the tables inside a C(unionmap:{...}) or C(pipemap:{...}).
  returned: failure of a table
  type: list
  elements: str
  sample: [127.0.0.1]
postfix_messages:
  description:
    - Postfix's own messages about the failed table (password hidden), or those of
      C(postconf) when O(parameter) could not be resolved (configuration values hidden).
  returned: failure of a table or of O(parameter)
  type: list
  elements: str
  sample:
    - "warning: connect to mysql server 127.0.0.1: Access denied for user 'mailuser'@'localhost' (using password: YES)"
    - "fatal: table mysql:/etc/postfix/mysql-virtual-alias-maps.cf: query error: Resource temporarily unavailable"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.lookups import (
    REQUEST_OPTIONS,
    LookupFailed,
    answer_checks,
    checks_argument_spec,
    look_up,
    request_tables,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import PostmapRunner


def main():
    argument_spec = dict(
        checks=checks_argument_spec(),
        config_dir=dict(type='path'),
        parallel=dict(type='int', default=0),
        timeout=dict(type='int', default=120),
    )
    argument_spec.update(REQUEST_OPTIONS)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('table', 'tables', 'parameter', 'checks'), ('checks', 'keys'), ('checks', 'expect')],
        required_one_of=[('table', 'tables', 'parameter', 'checks')],
        supports_check_mode=True,
    )
    params = module.params
    refused = dict(changed=False, tables=request_tables(params), error_kind='refused')
    if params['parallel'] < 0:
        module.fail_json(msg='parallel must be 0 (automatic) or a positive number', **refused)
    if params['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds', **refused)
    runner = PostmapRunner(timeout=params['timeout'])
    if params['checks'] is not None:
        results, failure = answer_checks(module, params['checks'], params['config_dir'], runner, params['parallel'])
        if failure:
            module.fail_json(msg=failure, results=results)
        module.exit_json(changed=False, results=results)
    if params['keys'] is None and params['expect'] is None:
        module.fail_json(msg='one of the following is required: keys, expect')
    try:
        result = look_up(module, params, params['config_dir'], runner, params['parallel'])
    except LookupFailed as exc:
        module.fail_json(**exc.result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
