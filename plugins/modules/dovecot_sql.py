#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dovecot_sql
short_description: Move Dovecot's SQL login to another database account, proven before it counts
version_added: "0.4.0"
description:
  - Dovecot logs users in through the same mail database as Postfix, usually with the same read-only account.
    When that account's password is rotated (C(mailfleet.postfix_mysql.rotate_db_password)), Dovecot has to
    move to the account with the new password too, before the old one is locked.
  - Reads each of O(files) that exists, in the Dovecot 2.3 layout (C(connect = "host=... user=...
    password=...")) or the 2.4 one (C(mysql HOST { user = ...  password = ... })). A file whose connections
    log in with one of O(replaces) and not already as O(user) with O(password) is rewritten to do so. Only the
    lines that hold the account change; the password is written in Dovecot's double quotes, so that a C(#)
    in it works, and for Dovecot 2.4, which expands C(%{name}) in its settings, with C(%{) written C(%%{).
    A file that names another account is left alone and reported in RV(left).
  - The new text is written to a temporary file beside the old one with the old file's owner, group and
    mode, and moved over it (C(atomic_move)), so the file is never half written and never readable by
    others. Dovecot is then reloaded (C(doveadm reload)), and a userdb lookup through SQL of an address that
    exists nowhere (C(doveadm user)) must answer "no such user" within O(probe_timeout) seconds, an answer
    that needs a working login. If it does not come, the old files are put back, Dovecot is reloaded again, and
    the module fails saying what Dovecot answered.
  - When Dovecot is not running, the files are rewritten and nothing is reloaded or probed; Dovecot reads
    them when it starts.
  - The reload is written down (under C(/run/mailfleet.postfix_mysql)) before the first file changes and
    settled only once the lookup answered, so that a run killed in between is finished by the next one. That
    run finds nothing to rewrite, but reloads Dovecot and probes it all the same.
  - A file that Dovecot could not read either (an unclosed quote or block, an unknown connect key, another
    driver) fails the module with the file, the line and the fix, and nothing changes. No password is ever
    printed, in a message or in the diff.
author:
  - mailfleet maintainers (@mailfleet)
options:
  files:
    description:
      - Dovecot's files that may hold SQL settings. Those that do not exist are skipped.
      - Dovecot 2.3 (Debian 12) keeps them in C(/etc/dovecot/dovecot-sql.conf.ext), Dovecot 2.4 (Debian 13)
        inline, in C(/etc/dovecot/conf.d/auth-sql.conf.ext) by default.
    type: list
    elements: path
    default: [/etc/dovecot/dovecot-sql.conf.ext, /etc/dovecot/conf.d/auth-sql.conf.ext]
  user:
    description: The database account Dovecot is to log in with.
    type: str
    required: true
  password:
    description:
      - Its password. Dovecot 2.3 splits its connect string at blanks, so for a 2.3 file the password cannot
        hold one.
    type: str
    required: true
  replaces:
    description:
      - The accounts Dovecot may be moved away from (the reader account pair). A file naming none of them is
        the admin's own business and left alone.
    type: list
    elements: str
    required: true
  service:
    description: The systemd unit of Dovecot.
    type: str
    default: dovecot
  probe_timeout:
    description: How long, in seconds, the userdb lookup after the reload may take to succeed.
    type: int
    default: 20
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports which files would be rewritten, and shows their diff with the passwords masked.
  diff_mode:
    support: full
    details: The passwords are masked on both sides.
  platform:
    platforms: debian
seealso:
  - module: mailfleet.postfix_mysql.reader_rotation
  - module: mailfleet.postfix_mysql.postfix_info
'''

EXAMPLES = r'''
- name: Move Dovecot to the reader account with the new password
  mailfleet.postfix_mysql.dovecot_sql:
    user: mailuser_b
    password: "{{ vault_mail_db_password }}"
    replaces: [mailuser, mailuser_b]
'''

RETURN = r'''
files:
  description: The files that were (or in check mode would be) rewritten, with the account they named.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/dovecot/dovecot-sql.conf.ext, layout: "2.3", users_before: [mailuser], user: mailuser_b}]
left:
  description: Dovecot's SQL files that name none of O(replaces), with the accounts they name.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/dovecot/conf.d/auth-sql.conf.ext, layout: "2.4", users: [dovecot]}]
reloaded:
  description: Whether Dovecot was reloaded.
  returned: always
  type: bool
'''

import os
import random
import string
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.dovecot_sql import (
    DOVECOT_23_FILE, DOVECOT_24_FILE, DovecotSqlError, masked, plan_moves, read, read_file)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV, redact
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_control import PendingReload
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import replace_file, unit_state

# doveadm user exits 67 (EX_NOUSER) when userdb answered that the user does not exist.
NO_SUCH_USER = 67
# The key of Dovecot's owed reload among the collection's (PendingReload).
DOVECOT_DIR = '/etc/dovecot'


class Doveadm(object):
    """The one way this collection runs doveadm."""

    def __init__(self, module, secrets):
        self.module = module
        self.secrets = secrets
        self.binary = module.get_bin_path('doveadm', required=True)

    def run(self, *args):
        rc, out, err = self.module.run_command([self.binary] + list(args), environ_update=C_LOCALE_ENV)
        return rc, redact(out, self.secrets), redact(err, self.secrets)

    def reload(self):
        rc, _out, err = self.run('reload')
        return rc == 0, err.strip()

    def lookup_works(self, timeout):
        """Whether a userdb lookup through SQL answers (found, or no such user) within TIMEOUT s."""
        # A new name each time: no cache of Dovecot's can answer for it.
        probe = 'mailfleet-probe-%s@probe.invalid' % ''.join(random.choice(string.ascii_lowercase) for dummy in range(12))
        deadline = time.time() + timeout
        while True:
            rc, out, err = self.run('user', probe)
            if rc in (0, NO_SUCH_USER):
                return True, ''
            if time.time() >= deadline:
                return False, ' '.join((err or out).split()) or 'exit status %d' % rc
            time.sleep(0.5)


def read_configs(paths):
    return [config for config in (read_file(path) for path in paths) if config is not None]


def install(module, moves, text_of=lambda move: move.text):
    """Write each move's text (or, to put it back, TEXT_OF it) over its file, keeping owner,
    group and mode."""
    for move in moves:
        info = os.stat(move.path)
        replace_file(module, move.path, text_of(move), info.st_uid, info.st_gid, info.st_mode & 0o7777)


def put_back(module, moves):
    install(module, moves, text_of=lambda move: move.config.text)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='path', default=[DOVECOT_23_FILE, DOVECOT_24_FILE]),
            user=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            replaces=dict(type='list', elements='str', required=True),
            service=dict(type='str', default='dovecot'),
            probe_timeout=dict(type='int', default=20),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, files=[], left=[], reloaded=False)
    try:
        configs = read_configs(p['files'])
        moves, left = plan_moves(configs, p['user'], p['password'], p['replaces'])
    except DovecotSqlError as exc:
        module.fail_json(msg='Nothing was changed: %s' % exc, **result)
    result['left'] = [dict(path=c.path, layout=c.layout, users=c.users) for c in left]
    result['files'] = [dict(path=m.path, layout=m.config.layout, users_before=m.config.users, user=p['user'])
                       for m in moves]
    pending = PendingReload(DOVECOT_DIR)
    owed = pending.owed()
    if not moves and not owed:
        module.exit_json(**result)
    result['changed'] = True
    if module._diff and moves:
        result['diff'] = [dict(before_header=m.path, after_header=m.path, before=masked(m.config),
                               after=masked(read(m.path, m.text))) for m in moves]
    if module.check_mode:
        module.exit_json(**result)
    apply(module, moves, pending, result)


def apply(module, moves, pending, result):
    """Rewrite the files, reload Dovecot and prove its login; put the files back if it fails."""
    p = module.params
    doveadm = Doveadm(module, [p['password']] + [c.password for m in moves for c in m.config.connections])
    if moves:
        pending.record('dovecot_sql: %s' % ', '.join(m.path for m in moves))
    try:
        install(module, moves)
    except (IOError, OSError) as exc:
        put_back(module, moves)
        result['changed'] = False
        module.fail_json(msg='%s could not be written (%s): the files are as they were' % (
            ', '.join(m.path for m in moves), to_native(exc)), **result)
    if not unit_state(module, p['service'])['active']:
        # Dovecot reads the files when it starts: nothing is owed to a stopped one.
        pending.settle()
        module.exit_json(**result)
    reloaded, why = doveadm.reload()
    works, answer = doveadm.lookup_works(p['probe_timeout']) if reloaded else (False, why)
    if works:
        pending.settle()
        result['reloaded'] = True
        module.exit_json(**result)
    put_back(module, moves)
    if doveadm.reload()[0] and moves:
        pending.settle()    # Dovecot runs with the files as they were before this run
    result['changed'] = False
    what = ('%s was rewritten' % ', '.join(m.path for m in moves)) if moves else 'the reload an earlier run owed'
    undone = 'The old file was put back and Dovecot reloaded' if moves else 'Nothing was changed'
    module.fail_json(msg='Dovecot could not look a user up through SQL as %s after %s (%s). %s: check that %s can '
                         'log in from this host and read the mail tables' % (p['user'], what, answer, undone, p['user']),
                     **result)


if __name__ == '__main__':
    main()
