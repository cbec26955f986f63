# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the postfix role uses to turn its list of maps into main.cf settings and tables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.client_files import client_file_path


def map_table(name, config_dir='/etc/postfix', proxy=False):
    """The Postfix table of a client file: [proxy:]mysql:DIR/mysql-NAME.cf."""
    return '%smysql:%s' % ('proxy:' if proxy else '', client_file_path(config_dir, name))


def main_cf_settings(maps, config_dir='/etc/postfix', proxy=False, union_parameters=None, sender_login_maps=None):
    """The main.cf settings for a list of maps: parameter -> list of tables, in order.

    Maps that serve the same parameter are listed in the order of ``maps`` (Postfix asks
    them in that order and the first hit wins), or merged with ``unionmap:{...}`` for the
    parameters in ``union_parameters``.
    """
    union_parameters = set(union_parameters or [])
    settings = {}
    names = set()
    for entry in maps:
        if not isinstance(entry, dict) or not entry.get('name'):
            raise AnsibleFilterError('every map needs a name, got %r' % (entry,))
        names.add(entry['name'])
        parameter = entry.get('parameter')
        if parameter:
            settings.setdefault(parameter, []).append(map_table(entry['name'], config_dir, proxy))
    if sender_login_maps:
        unknown = [name for name in sender_login_maps if name not in names]
        if unknown:
            raise AnsibleFilterError('sender login maps name maps that are not defined: %s' % ', '.join(unknown))
        settings.setdefault('smtpd_sender_login_maps', []).extend(
            map_table(name, config_dir, proxy) for name in sender_login_maps)
    for parameter in union_parameters:
        if parameter not in settings:
            raise AnsibleFilterError('unionmap asked for %s, which no map serves' % parameter)
        if len(settings[parameter]) > 1:
            settings[parameter] = ['unionmap:{%s}' % ', '.join(settings[parameter])]
    return settings


class FilterModule(object):
    def filters(self):
        return {
            'main_cf_settings': main_cf_settings,
            'map_table': map_table,
        }
