# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the postfix role uses to turn its list of maps into main.cf settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Postfix daemons that read the virtual and sender login maps directly (unless the
# maps are read through proxy:): a chrooted one cannot reach the MariaDB socket.
MAP_READING_COMMANDS = ('smtpd', 'cleanup', 'trivial-rewrite', 'virtual')


def map_table(name, config_dir='/etc/postfix', proxy=False):
    """The Postfix table of a client file: [proxy:]mysql:DIR/mysql-NAME.cf."""
    return '%smysql:%s/mysql-%s.cf' % ('proxy:' if proxy else '', config_dir.rstrip('/'), name)


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


def chrooted_map_readers(postconf_fields):
    """Services that read maps and run chrooted, from `postconf -F '*/*/chroot' '*/*/command'`."""
    fields = {}
    for line in postconf_fields.splitlines():
        key, sep, value = line.partition(' = ')
        if not sep or key.count('/') != 2:
            continue
        service, service_type, field = key.split('/')
        fields.setdefault('%s/%s' % (service, service_type), {})[field] = value.strip()
    return sorted(service for service, values in fields.items()
                  if values.get('chroot') in ('y', 'yes')
                  and values.get('command', '').split(' ')[0] in MAP_READING_COMMANDS)


class FilterModule(object):
    def filters(self):
        return {
            'main_cf_settings': main_cf_settings,
            'chrooted_map_readers': chrooted_map_readers,
        }
