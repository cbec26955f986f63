#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: postconf
short_description: Set or remove Postfix main.cf parameters, many at once, idempotently
version_added: "0.1.0"
description:
  - Sets (O(state=present)) or removes (O(state=absent)) explicit settings of Postfix's
    C(main.cf) with postconf(1) on the managed host.
  - All names are read with one C(postconf -n NAME...) process and all changes are
    written with one C(postconf -e NAME=VALUE...) (or C(postconf -X NAME...)) process.
    When nothing differs, C(postconf) is not asked to write at all, so C(main.cf) keeps
    its inode and modification time (C(postconf -e) and C(postconf -X) always rewrite
    the file, even for identical values or names that are not set).
  - "Values are compared the way Postfix reads them. For list parameters (the default)
    commas and blanks are both separators, continuation lines and empty items do not
    count, order does: V(a, b), V(a,b) and V(a b) are equal, V(b, a) is not. A C({ ... })
    group (C(check_policy_service { inet:127.0.0.1:10023, timeout=10s }),
    C(inline:{ a=b, c=d }), C(${name?{value}})) is one item whose inside is compared as
    text, so commas inside braces are never taken for separators."
  - "Free-text parameters, where a comma or a blank belongs to the text (C(smtpd_banner),
    C(mail_name), C(mailbox_command), C(default_rbl_reply), C(smtpd_reject_footer),
    C(*_expansion_filter), every name ending in C(_banner), C(_footer), C(_reason),
    C(_reply), C(_command), C(_shell), C(_characters), C(_default_action), and the names
    of O(free_text_names)), are compared as text: only runs of blanks are collapsed,
    because C(postconf -n) prints them collapsed and cannot show more."
  - The value written is always the one given (rendered as described in O(settings)),
    never a normalised form. Equal spellings such as V($name) and V(${name}) are not
    recognised as equal; the first run then rewrites the value once.
  - "postconf's warnings about other parameters (for example C(unused parameter) in a
    mysql_table(5) client file, which print the value, a password if the key is
    misspelled) never fail the task and are returned in RV(postconf_warnings) by name
    only, never with their values. Warnings about the managed names (a name set twice in
    C(main.cf)) are shown as task warnings."
author:
  - mailfleet maintainers (@mailfleet)
options:
  settings:
    description:
      - With O(state=present), a mapping of parameter name to value.
      - A value is a string, a number, a boolean (written V(yes) or V(no), as Postfix
        writes them) or a list of those (written as one line, items separated by
        V(", "), in the given order). An empty string or an empty list sets an empty value
        (for example C(relayhost =)). V(null) is refused.
      - Values cannot contain a newline; leading and trailing blanks are dropped.
      - With O(state=absent), a list of names, or a mapping whose values are ignored.
      - Mutually exclusive with O(name).
    type: raw
  name:
    description:
      - The name of a single parameter, instead of O(settings).
    type: str
  value:
    description:
      - The value of O(name), in the same forms as the values of O(settings).
      - Required with O(name) and O(state=present); ignored with O(state=absent).
    type: raw
  state:
    description:
      - V(present) sets every name to its value, V(absent) removes the explicit setting of
        every name from C(main.cf) (C(postconf -X)), so that Postfix uses its default.
      - With V(absent), names that C(main.cf) does not set are left alone, whether
        postconf knows them or not, so obsolete parameters can be removed.
    type: str
    choices: [present, absent]
    default: present
  config_dir:
    description:
      - The configuration directory of another Postfix instance (C(postconf -c DIR)).
      - By default the one postconf uses (usually C(/etc/postfix)).
    type: path
  allow_unknown:
    description:
      - Set names that postconf does not know.
      - By default such a name fails the task, with C(postconf)'s message naming it,
        before anything is written, which catches misspelled names.
      - Names that C(main.cf) or C(master.cf) already reference as C($name) (for example
        C(-o smtpd_sender_restrictions=$mua_sender_restrictions) in C(master.cf)) and
        names listed in C(smtpd_restriction_classes) are known to postconf and need no
        O(allow_unknown), even while they are not yet defined.
      - Use V(true) for other user-defined names, for example one that a C(master.cf)
        C(-o) option will reference later.
    type: bool
    default: false
  free_text_names:
    description:
      - More names whose values are compared as free text (commas and blanks are part of
        the value), in addition to the built-in ones listed in the description.
      - For example user-defined names holding a message text.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - mailfleet.postfix_mysql.config_lock
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the current values and reports the changes that would be made; writes nothing.
  diff_mode:
    support: full
    details: Shows the C(main.cf) lines of the changed names only.
  platform:
    support: full
    platforms: posix
notes:
  - Needs Postfix's C(postconf) on the managed host, and the rights to rewrite
    C(main.cf) (usually root) for any change.
  - Postfix reads C(main.cf) when it starts or reloads; notify a handler that reloads
    Postfix when the task reports C(changed).
  - C(postconf -n) prints values with blank runs collapsed; RV(changes) and the diff show
    current values that way.
seealso:
  - name: postconf(5)
    description: Postfix configuration parameters.
    link: https://www.postfix.org/postconf.5.html
  - name: postconf(1)
    description: Postfix configuration utility.
    link: https://www.postfix.org/postconf.1.html
'''

EXAMPLES = r'''
- name: Read virtual domains, mailboxes and aliases from MariaDB
  mailfleet.postfix_mysql.postconf:
    settings:
      virtual_mailbox_domains: proxy:mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf
      virtual_mailbox_maps: proxy:mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf
      virtual_alias_maps:
        - proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf
        - proxy:mysql:/etc/postfix/mysql-email2email.cf
      virtual_transport: lmtp:unix:private/dovecot-lmtp
      smtpd_sasl_auth_enable: true
  notify: Reload postfix

- name: Set one parameter
  mailfleet.postfix_mysql.postconf:
    name: message_size_limit
    value: 52428800

- name: Restrictions with a grouped policy service (commas inside braces are kept)
  mailfleet.postfix_mysql.postconf:
    settings:
      smtpd_recipient_restrictions:
        - permit_mynetworks
        - permit_sasl_authenticated
        - reject_unauth_destination
        - check_policy_service { inet:127.0.0.1:10023, timeout=10s, default_action=DUNNO }

- name: Define the restrictions that master.cf's submission service uses (-o ...=$mua_*)
  mailfleet.postfix_mysql.postconf:
    settings:
      mua_sender_restrictions: reject_sender_login_mismatch, permit_sasl_authenticated, reject
      submission_notice: "Authorized use only, all activity is logged"
    free_text_names:
      - submission_notice
    allow_unknown: true

- name: Remove settings (Postfix falls back to its defaults)
  mailfleet.postfix_mysql.postconf:
    settings:
      - relay_domains
      - smtpd_tls_dh1024_param_file
    state: absent

- name: Configure a second Postfix instance
  mailfleet.postfix_mysql.postconf:
    config_dir: /etc/postfix-out
    settings:
      inet_interfaces: 192.0.2.25
      master_service_disable: ""
'''

RETURN = r'''
changes:
  description:
    - The changed (or, in check mode, to be changed) names only, each with its value
      before and after. V(null) means not set in C(main.cf).
    - C(before) is the value as C(postconf -n) prints it, C(after) the value as written.
  returned: always
  type: dict
  sample:
    mydestination:
      before: $myhostname, localhost
      after: $myhostname, localhost.$mydomain, localhost
    relay_domains:
      before: example.org
      after: null
unknown:
  description:
    - The requested names that postconf does not know (only possible with
      O(allow_unknown=true) or O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [mua_helo_restrictions]
postconf_warnings:
  description:
    - postconf's warnings about parameters and files this task does not manage, with any
      configuration value replaced by a note (they may be passwords of mysql client
      files).
  returned: always
  type: list
  elements: str
  sample:
    - 'warning: mysql:/etc/postfix/mysql-virtual.cf: unused parameter: passwrd (value not shown)'
diff:
  description: The C(main.cf) lines of the changed names, before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: "mydestination = $myhostname, localhost\nrelay_domains = example.org\n"
    after: "mydestination = $myhostname, localhost.$mydomain, localhost\n"
    before_header: /etc/postfix/main.cf
    after_header: /etc/postfix/main.cf
'''

import os
from contextlib import ExitStack

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import parse_diagnostics
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_control import (
    hold_config_lock,
    lock_argument_spec,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    PostconfError,
    PostconfRunner,
    changes_dict,
    classify,
    diff_text,
    main_cf_path,
    normalize_request,
    parse_current,
    plan_absent,
    plan_present,
    read_argv,
    remove_argv,
    sanitize,
    set_argv,
)


def plan(module, postconf, request, current, read_stderr, main_cf):
    """The changes and how to write them: (changes, postconf argv, what it does)."""
    params = module.params
    config_dir = params['config_dir']
    if params['state'] == 'absent':
        changes = plan_absent(request, current)
        return (changes, remove_argv(postconf, [c.name for c in changes], config_dir),
                'remove %s from %s' % (', '.join(c.name for c in changes), main_cf))
    if current.unknown and not params['allow_unknown']:
        module.fail_json(
            msg='unknown Postfix parameter%s: %s (postconf: %s). Check the spelling; for a '
                'user-defined parameter set allow_unknown=true.'
                % ('s' if len(current.unknown) > 1 else '', ', '.join(current.unknown),
                   '; '.join('warning: %s: unknown parameter' % n for n in current.unknown)),
            unknown=current.unknown, cmd=read_argv(postconf, [item[0] for item in request], config_dir),
            stderr='\n'.join(sanitize(read_stderr)))
    changes = plan_present(request, current, frozenset(params['free_text_names']))
    return (changes, set_argv(postconf, [(c.name, c.after) for c in changes], config_dir),
            'set %s in %s' % (', '.join(c.name for c in changes), main_cf))


def report_warnings(module, stderr, names, current, result):
    """postconf's warnings about the names managed here as warnings, the others in the result."""
    for message in (classify(d) for d in parse_diagnostics(stderr)):
        if message.kind == 'multiple' and message.name in current.duplicates:
            continue  # already said
        line = '%s: %s' % (message.level, message.text)
        if message.name in names:
            module.warn('postconf: %s' % line)
        elif line not in result['postconf_warnings']:
            result['postconf_warnings'].append(line)


def run_module(held):
    """The module's work; the locks it takes go into HELD, an ExitStack that releases them."""
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type='raw'),
            name=dict(type='str'),
            value=dict(type='raw'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            config_dir=dict(type='path'),
            allow_unknown=dict(type='bool', default=False),
            free_text_names=dict(type='list', elements='str', default=[]),
            **lock_argument_spec()
        ),
        mutually_exclusive=[('settings', 'name'), ('settings', 'value')],
        required_one_of=[('settings', 'name')],
        supports_check_mode=True,
    )
    params = module.params
    state = params['state']
    main_cf = main_cf_path(params['config_dir'], os.environ)

    # Everything about the input is checked before postconf runs.
    try:
        request = normalize_request(params['settings'], params['name'], params['value'], state)
    except PostconfError as exc:
        module.fail_json(msg=str(exc))
    names = [item[0] for item in request] if state == 'present' else list(request)

    runner = PostconfRunner(module, params['config_dir'])

    result = dict(changed=False, changes={}, unknown=[], postconf_warnings=[])
    if not names:
        module.exit_json(**result)

    # postconf -e rewrites main.cf whole: two runs at once would each lose the other's change.
    hold_config_lock(module, held, os.path.dirname(main_cf), 'mailfleet.postfix_mysql.postconf',
                     params['lock_timeout'])
    _rc, stdout, stderr = runner.run(read_argv(runner.binary, names, params['config_dir']),
                                     'read %s from %s' % (', '.join(names), main_cf))
    current = parse_current(names, stdout, stderr)
    result['unknown'] = current.unknown
    result['postconf_warnings'] = current.other
    changes, write_argv, what = plan(module, runner.binary, request, current, stderr, main_cf)

    for name in current.duplicates:
        module.warn('%s sets %s more than once; Postfix uses the last entry%s'
                    % (main_cf, name, ' and postconf updates all of them' if state == 'present'
                       and any(c.name == name for c in changes) else ''))

    if changes and not module.check_mode:
        _rc, _stdout, stderr = runner.run(write_argv, what)
        report_warnings(module, stderr, set(names), current, result)

    result['changed'] = bool(changes)
    result['changes'] = changes_dict(changes)
    if module._diff:
        before, after = diff_text(changes)
        result['diff'] = dict(before=before, after=after, before_header=main_cf, after_header=main_cf)
    module.exit_json(**result)


def main():
    # The locks are released however the run ends (exit_json and fail_json raise SystemExit).
    with ExitStack() as held:
        run_module(held)


if __name__ == '__main__':
    main()
