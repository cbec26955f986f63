# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""mysql_maps: the input is checked on the controller, then one module call acts on the host (the
way template calls copy). The docs are in modules/mysql_maps.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS
from ansible.plugins.action import ActionBase

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import (
    DEFAULT_LABELS,
    MapsError,
    check_all,
    labels_for,
    mysql_maps_argument_spec,
)


class ActionModule(ActionBase):
    """Bad input fails here, before the connection, with messages in the caller's words (labels)."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        argument_spec = mysql_maps_argument_spec()
        argument_spec.update(FILE_COMMON_ARGUMENTS)
        _validation, args = self.validate_argument_spec(argument_spec)
        unknown_labels = sorted(set(args['labels']) - set(DEFAULT_LABELS))
        if unknown_labels:
            result.update(failed=True, msg='labels: unknown input(s) %s' % ', '.join(unknown_labels))
            return result
        try:
            check_all(args['maps'], args['hosts'], args['user'], args['password'] or '', args['dbname'],
                      args['options'], args['union_parameters'], args['sender_login_maps'], args['settings'],
                      labels=labels_for(args['labels']), retry_interval=args['retry_interval'],
                      standby_user=args['standby_user'], tls_ca_certificate=args['tls_ca_certificate'])
        except MapsError as exc:
            result.update(failed=True, msg='; '.join(exc.problems), problems=exc.problems)
            return result
        result.update(self._execute_module(module_name='mailfleet.postfix_mysql.mysql_maps',
                                           module_args=self._task.args, task_vars=task_vars))
        return result
