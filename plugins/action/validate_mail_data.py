# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""validate_mail_data: the mail data checked on the controller, with no round trip.

The rules are those of module_utils/mail_data.py, the ones the mail_database module
applies on the host; this action only lets a role apply them before it installs
anything. Documented in plugins/modules/validate_mail_data.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_data import (
    DEFAULT_LABELS,
    argument_spec,
    problems,
    server_argument_spec,
    server_problems,
    unsafe_setup_warnings,
)


def validate_argument_spec():
    """The options of the action: those mail_database takes for the data, and labels."""
    spec = argument_spec()
    spec['server'] = server_argument_spec()
    spec['labels'] = dict(type='dict', default={}, options=dict(
        (key, dict(type='str', default=label)) for key, label in DEFAULT_LABELS.items()))
    return spec


def _count(number, noun):
    return '%d %s%s' % (number, noun, '' if number == 1 else 'es' if noun.endswith('s') else 's')


def check(args):
    """The task result for validated args: failed with every problem, or unchanged."""
    found = problems(args['domains'], args['users'], args['aliases'], args['reader'], args['labels'],
                     dovecot=args.get('dovecot'))
    found += server_problems(args.get('server'), args['labels'])
    warnings = unsafe_setup_warnings(args['reader'], args.get('server'), args['labels'], dovecot=args.get('dovecot'))
    if found:
        return dict(failed=True, changed=False, problems=found,
                    msg='The mail data has %s: %s' % (_count(len(found), 'problem'), '; '.join(found)))
    checked = [_count(len(args['domains']), 'domain'), _count(len(args['users']), 'user'),
               _count(len(args['aliases']), 'alias')]
    if args['reader'] is not None:
        checked.append('the read-only account')
    result = dict(changed=False, problems=[],
                  msg='The mail data passed every check: %s and %s' % (', '.join(checked[:-1]), checked[-1]))
    if warnings:
        result['warnings'] = warnings
    return result


class ActionModule(ActionBase):
    """Runs on the controller only: no connection, no module, no file transfer."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect

        # Types, choices and required options; raises (failing the task) on a mismatch.
        _validation, args = self.validate_argument_spec(argument_spec=validate_argument_spec())
        result.update(check(args))
        return result
