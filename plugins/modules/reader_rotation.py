#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: reader_rotation
short_description: (Internal) Change the reader password of a mail database without a refused login, with two accounts in turn
version_added: "0.1.0"
description:
  - MariaDB keeps one password per account (it has no C(RETAIN CURRENT PASSWORD)), so changing the password
    Postfix logs in with would refuse every mail host between the change and the host's new client files.
    This module uses two accounts in turn, O(user) and O(standby_user); the one in use is the one that is not
    locked.
  - O(state=prepared) gives the idle account the new O(password), SELECT on O(login_db) from each of O(hosts)
    (nothing else), and unlocks it; the account in use is left as it is. Returns RV(new_user) and
    RV(old_user) for the mail hosts to move to.
  - O(state=finished) locks the old account (C(ACCOUNT LOCK)), after checking that every mail host answered
    (O(unanswered) is empty), that none of them still names it (O(users_in_use)), and waiting until no session of
    it is left on the server (C(information_schema.PROCESSLIST)); when a check fails, nothing is locked and the
    task fails, naming what may still use it.
  - Both states decide from what the server says, so a rotation that was interrupted at any point finishes
    when it is run again, and a finished one changes nothing. The P(mailfleet.postfix_mysql.mailfleet_database#role)
    role keeps the account in use the same way, so that ordinary runs stay unchanged after a rotation.
  - The C(mailfleet.postfix_mysql.rotate_db_password) playbook runs this module around the moves of the mail hosts.
  - Run it on the replication primary (or the only database server); account changes replicate.
author:
  - mailfleet maintainers (@mailfleet)
options:
  state:
    description: The step of the rotation; see the description.
    type: str
    choices: [prepared, finished]
    required: true
  user:
    description: The first account of the pair (the one a new installation uses).
    type: str
    default: mailuser
  standby_user:
    description: The second account of the pair. Must differ from O(user).
    type: str
    required: true
  password:
    description:
      - The new password (from the vault). With O(state=finished), it tells the new account from the old one.
      - The rules of O(mailfleet.postfix_mysql.mail_database#module:reader.password) apply.
    type: str
    required: true
  hosts:
    description: The mail hosts (addresses) the account may connect from.
    type: list
    elements: str
    required: true
  login_db:
    description: The mail database, on which the account gets SELECT.
    type: str
    default: mailserver
  users_in_use:
    description:
      - For each mail host that could be asked, the reader accounts its client files name (as
        M(mailfleet.postfix_mysql.postfix_info) reports them in RV(mailfleet.postfix_mysql.postfix_info#module:client_file_users)).
      - With O(state=finished), an old account still named here is not locked.
      - With O(state=prepared), when both accounts are unlocked and neither has O(password), the one named
        here is taken for the old one.
    type: dict
    default: {}
  dovecot_in_use:
    description:
      - For each mail host that could be asked, Dovecot's SQL settings, as
        M(mailfleet.postfix_mysql.postfix_info) reports them in RV(mailfleet.postfix_mysql.postfix_info#module:dovecot_sql),
        a list of dicts with C(path) and C(users).
      - Counted like O(users_in_use). An old account that Dovecot still names is not locked, and the failure
        names the host and the file.
    type: dict
    default: {}
  unanswered:
    description:
      - The mail hosts that should have been asked for O(users_in_use) but did not answer (unreachable, or down).
      - With O(state=finished), the old account is not locked while this is not empty, unless
        O(lock_despite_unanswered), since such a host may be alive and still log in with it, and would defer all
        mail from the lock on.
    type: list
    elements: str
    default: []
  lock_despite_unanswered:
    description:
      - Lock the old account although the mail hosts in O(unanswered) did not answer. They defer mail from
        then on, until their next ordinary run moves them to the new account.
    type: bool
    default: false
  columns_only:
    description:
      - With O(state=prepared), the new account gets SELECT only on the columns Postfix reads, as
        O(mailfleet.postfix_mysql.mail_database#module:reader.columns_only) describes.
    type: bool
    default: false
  require_tls:
    description:
      - With O(state=prepared), V(true) has the new account C(REQUIRE SSL), V(false) C(REQUIRE NONE); left out,
        its requirement stays as it is. See O(mailfleet.postfix_mysql.mail_database#module:reader.require_tls).
    type: bool
  sessions_timeout:
    description:
      - With O(state=finished), seconds to wait for the old account's sessions to end (a reloaded Postfix
        closes them as its old processes finish their SMTP sessions).
    type: int
    default: 120
extends_documentation_fragment:
  - mailfleet.postfix_mysql.mysql_login
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the account changes without making them, and does not wait for sessions.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - The password is never returned or shown.
'''

EXAMPLES = r'''
- name: Give the idle reader account the new password
  mailfleet.postfix_mysql.reader_rotation:
    state: prepared
    user: mailuser
    standby_user: mailuser_b
    password: "{{ vault_mailuser_password }}"
    hosts: [10.0.0.21, 10.0.0.22]
    login_unix_socket: /run/mysqld/mysqld.sock
  register: rotation

- name: Lock the old one once no mail host uses it
  mailfleet.postfix_mysql.reader_rotation:
    state: finished
    user: mailuser
    standby_user: mailuser_b
    password: "{{ vault_mailuser_password }}"
    hosts: [10.0.0.21, 10.0.0.22]
    users_in_use: {mx1: [mailuser_b], mx2: [mailuser_b]}
    login_unix_socket: /run/mysqld/mysqld.sock
'''

RETURN = r'''
new_user:
  description: The account that has (or is given) the new password and that the mail hosts move to.
  returned: success
  type: str
  sample: mailuser_b
old_user:
  description:
    - The other account of the pair, which the mail hosts move away from (or moved away from, when the
      rotation is done already).
  returned: success
  type: str
  sample: mailuser
changes:
  description: What was (or in check mode would be) changed, without the password.
  returned: always
  type: list
  elements: str
  sample: ["update reader mailuser_b@10.0.0.21 password", "lock reader mailuser@10.0.0.21"]
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.community.mysql.plugins.module_utils.mysql import (
    mysql_common_argument_spec,
    mysql_driver,
)

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_data import problems as mail_data_problems
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_reader import (
    LOCK_STATE_SQL,
    PairState,
    ReaderPlan,
    grants_reader,
    read_accounts,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mysql_login import connect

SESSIONS_SQL = 'SELECT HOST FROM information_schema.PROCESSLIST WHERE USER = %s'


class RotationError(Exception):
    pass


def read_pair(cursor, user, standby_user):
    cursor.execute(LOCK_STATE_SQL, (user, standby_user))
    return PairState(user, standby_user, cursor.fetchall())


def choose(pair, password, named):
    """(new, old) of the rotation, from what the server says: new is the account that has
    (or is to get) the password, old the other one."""
    in_use = pair.in_use()
    if not in_use:
        raise RotationError('both reader accounts, %s and %s, are locked or missing: Postfix can log in with '
                            'neither. Run site.yml first' % (pair.user, pair.standby_user))
    matching = [name for name in in_use if pair.has_password(name, password)]
    if matching:
        new = matching[0]
        return new, (pair.standby_user if new == pair.user else pair.user)
    if len(in_use) == 1:
        old = in_use[0]
    else:
        old = pair.standby_user if pair.standby_user in named and pair.user not in named else pair.user
    return (pair.user if old == pair.standby_user else pair.standby_user), old


def prepare(module, cursor, params, pair):
    new, old = choose(pair, params['password'], named_accounts(params))
    plan = ReaderPlan(new, params['login_db'], columns_only=params['columns_only']).plan(
        params['password'], params['hosts'], read_accounts(cursor, new), grants_reader(cursor, new),
        revoke_other_hosts=True, locked_hosts=pair.locked_hosts(new), require_tls=params['require_tls'])
    if plan.refusals:
        raise RotationError('; '.join(plan.refusals))
    for warning in plan.warnings:
        module.warn(warning)
    if not module.check_mode:
        for sql, args in plan.statements:
            cursor.execute(sql, args)
    return dict(changed=bool(plan.statements), changes=plan.changes, new_user=new, old_user=old)


def still_named(account, users_in_use, dovecot_in_use):
    """What still logs in with ACCOUNT, host by host: the client files, Dovecot's files."""
    still = []
    for host in sorted(set(users_in_use) | set(dovecot_in_use)):
        if account in (users_in_use.get(host) or []):
            still.append('on %s, the client files' % host)
        dovecot = [entry['path'] for entry in dovecot_in_use.get(host) or [] if account in entry.get('users', [])]
        if dovecot:
            still.append('on %s, Dovecot (%s)' % (host, ', '.join(dovecot)))
    return still


def named_accounts(params):
    """Every account a client file or a Dovecot file of an answering mail host names."""
    named = set(name for users in params['users_in_use'].values() for name in users or [])
    for entries in params['dovecot_in_use'].values():
        for entry in entries or []:
            named.update(entry.get('users', []))
    return named


def finish(module, cursor, params, pair):
    in_use = pair.in_use()
    matching = [name for name in in_use if pair.has_password(name, params['password'])]
    if not matching:
        raise RotationError('neither %s nor %s has the new password: run this playbook from the start (state=prepared)'
                            % (pair.user, pair.standby_user))
    new = matching[0]
    old = pair.standby_user if new == pair.user else pair.user
    unlocked_hosts = sorted(host for host, (_hash, locked) in pair.accounts[old].items() if not locked)
    if not unlocked_hosts:
        return dict(changed=False, changes=[], new_user=new, old_user=old)
    still = still_named(old, params['users_in_use'], params['dovecot_in_use'])
    if still:
        raise RotationError('%s was not locked: %s still name(s) it. Move them to %s (rotate_db_password.yml moves '
                            'Dovecot unless mailfleet_rotation_move_dovecot is false), then run the rotation again'
                            % (old, '; '.join(still), new))
    unanswered = sorted(params['unanswered'])
    if unanswered and not params['lock_despite_unanswered']:
        raise RotationError('%s was not locked: the mail host(s) %s did not answer, and may still log in with it. '
                            'Run the rotation again once they answer, or lock it anyway with '
                            'lock_despite_unanswered (mailfleet_rotation_lock_unanswered=true in '
                            'rotate_db_password.yml): they defer mail until their next ordinary run'
                            % (old, ', '.join(unanswered)))
    if not module.check_mode:
        deadline = time.time() + params['sessions_timeout']
        while True:
            cursor.execute(SESSIONS_SQL, (old,))
            sessions = sorted(row[0] for row in cursor.fetchall())
            if not sessions:
                break
            if time.time() >= deadline:
                raise RotationError('%s was not locked: after %d s it still has %d session(s), from %s'
                                    % (old, params['sessions_timeout'], len(sessions), ', '.join(sessions)))
            time.sleep(1)
        for host in unlocked_hosts:
            cursor.execute('ALTER USER %s@%s ACCOUNT LOCK', (old, host))
    return dict(changed=True, changes=['lock reader %s@%s' % (old, host) for host in unlocked_hosts],
                new_user=new, old_user=old)


def main():
    argument_spec = mysql_common_argument_spec()
    argument_spec.update(
        state=dict(type='str', required=True, choices=['prepared', 'finished']),
        user=dict(type='str', default='mailuser'),
        standby_user=dict(type='str', required=True),
        password=dict(type='str', required=True, no_log=True),
        hosts=dict(type='list', elements='str', required=True),
        login_db=dict(type='str', default='mailserver'),
        users_in_use=dict(type='dict', default={}),
        dovecot_in_use=dict(type='dict', default={}),
        unanswered=dict(type='list', elements='str', default=[]),
        lock_despite_unanswered=dict(type='bool', default=False),
        sessions_timeout=dict(type='int', default=120),
        require_tls=dict(type='bool'),
        columns_only=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    reader = dict(user=params['user'], standby_user=params['standby_user'], password=params['password'],
                  hosts=params['hosts'])
    problems = mail_data_problems(reader=reader)
    if problems:
        module.fail_json(msg='Nothing was changed: %s' % '; '.join(problems), problems=problems)
    cursor, connection = connect(module)
    try:
        pair = read_pair(cursor, params['user'], params['standby_user'])
        step = prepare if params['state'] == 'prepared' else finish
        result = step(module, cursor, params, pair)
    except RotationError as e:
        module.fail_json(msg='Nothing was changed: %s' % e, changed=False)
    except mysql_driver.Error as e:
        module.fail_json(msg='Reader accounts %s and %s: %s; account changes (if any) stopped at the failed statement'
                         % (params['user'], params['standby_user'], to_native(e)))
    finally:
        connection.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
