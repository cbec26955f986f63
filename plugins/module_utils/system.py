# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package and service state of a Debian host, read with dpkg-query and systemctl, and
the text of the files a module keeps.

Shared by the info modules, so that a role can learn in its first module run whether
anything must be installed or started, and skip those tasks on an unchanged host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import C_LOCALE_ENV


def missing_packages(module, packages):
    """The packages of the list that dpkg has not fully installed (status 'ii'), in order."""
    if not packages:
        return []
    dpkg_query = module.get_bin_path('dpkg-query')
    if dpkg_query is None:
        module.fail_json(msg='dpkg-query not found: packages can only be checked on Debian and its derivatives')
    # Exit status 1 only says that a package is unknown to dpkg, which is "missing" too.
    rc, out, err = module.run_command([dpkg_query, '-W', '-f', '${Package}\t${db:Status-Abbrev}\n'] + list(packages),
                                      environ_update=C_LOCALE_ENV)
    if rc not in (0, 1):
        module.fail_json(msg='dpkg-query failed: %s' % err.strip())
    installed = set()
    for line in out.splitlines():
        name, _sep, status = line.partition('\t')
        if status.startswith('ii'):
            installed.add(name.split(':')[0])
    return [name for name in packages if name not in installed]


def unit_state(module, unit):
    """{'active': bool, 'enabled': bool} of a systemd unit; both False without systemd."""
    systemctl = module.get_bin_path('systemctl')
    if systemctl is None:
        return dict(active=False, enabled=False)
    rc_active, _out, _err = module.run_command([systemctl, 'is-active', '--quiet', unit], environ_update=C_LOCALE_ENV)
    _rc, enabled, _err = module.run_command([systemctl, 'is-enabled', unit], environ_update=C_LOCALE_ENV)
    return dict(active=rc_active == 0, enabled=enabled.strip() == 'enabled')


def read_text(path):
    """What a file holds now, as text, or None when it cannot be read (it does not exist)."""
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None
