# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check Postfix MySQL map definitions on the controller; the docs are in modules/validate_maps.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.credentials import mail_name_reasons
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import (
    DEFAULT_LABELS,
    MapsError,
    check_all,
    check_for_host,
    config_dir_problems,
    merge_maps,
    shared_argument_spec,
)

ARGUMENT_SPEC = shared_argument_spec()
ARGUMENT_SPEC.update(
    default_maps=dict(type='list', elements='dict', default=[]),
    maps=dict(type='list', elements='dict', default=[]),
    checks=dict(type='list', elements='dict', default=[]),
    labels=dict(type='dict', default={}),
    mail_version=dict(type='str'),
    installed=dict(type='bool'),
    config_dir=dict(type='path', default='/etc/postfix'),
    chrooted_map_readers=dict(type='list', elements='str', default=[]),
    # Goes into debconf's answers when Postfix is installed: one line, one name.
    mailname=dict(type='raw'),
)


class ActionModule(ActionBase):
    """Runs on the controller only: no connection, no module, no round trip."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC)
        labels = dict(DEFAULT_LABELS)
        labels.update(args['labels'] or {})
        unknown_labels = sorted(set(labels) - set(DEFAULT_LABELS))
        if unknown_labels:
            result.update(failed=True, msg='labels: unknown input(s) %s' % ', '.join(unknown_labels))
            return result
        origins = {}
        maps, problems = merge_maps([(labels['default_maps'], args['default_maps']),
                                     (labels['maps'], args['maps'])], origins)
        for entry in maps:
            entry.setdefault('state', 'present')
        if not problems:
            try:
                check_all(maps, args['hosts'], args['user'], args['password'] or '', args['dbname'], args['options'],
                          args['union_parameters'], args['sender_login_maps'], args['settings'], labels,
                          args['checks'], origins, args['retry_interval'], args['standby_user'],
                          args['tls_ca_certificate'])
                if args['installed'] is not None:
                    problems = config_dir_problems(args['config_dir'], args['installed'], labels)
                    if problems:
                        raise MapsError(problems)
                if args['mail_version']:
                    check_for_host(maps, args['hosts'], args['options'], args['proxy'], args['mail_version'],
                                   args['chrooted_map_readers'], labels, args['tls_ca_certificate'])
            except MapsError as exc:
                problems = exc.problems
        if args['mailname'] is not None:
            problems = problems + ['%s: %r %s' % (labels['mailname'], args['mailname'], reason)
                                   for reason in mail_name_reasons(args['mailname'])]
        if problems:
            result.update(failed=True, msg='; '.join(problems), problems=problems)
            return result
        result.update(changed=False, maps=maps)
        return result
