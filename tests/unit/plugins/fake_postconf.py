# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for postconf(1) behind AnsibleModule.run_command: main.cf as a dict.

It answers the calls PostconfRunner makes the way Postfix 3.7 and 3.10 do (see the
docstring of module_utils/postconf.py), records every argv, and applies -e and -X.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

KNOWN = frozenset([
    'virtual_mailbox_domains', 'virtual_mailbox_maps', 'virtual_alias_maps', 'smtpd_sender_login_maps',
    'relayhost', 'smtpd_banner', 'myhostname', 'mydestination', 'smtpd_recipient_restrictions',
])
FIELDS = ('smtp/inet/chroot = y\nsmtp/inet/command = smtpd\n'
          'cleanup/unix/chroot = y\ncleanup/unix/command = cleanup\n')


# Postfix's defaults that the tests need, shortened (postconf -d).
DEFAULTS = {'proxy_read_maps': '$virtual_alias_maps $virtual_mailbox_domains $virtual_mailbox_maps '
                               '$smtpd_sender_login_maps'}


class FakePostconf(object):

    def __init__(self, main_cf=None, version='3.7.11', master=None, fields=FIELDS, postconf='/usr/sbin/postconf',
                 config_dir=None):
        self.main_cf = dict(main_cf or {})
        # When set, like a host whose only Postfix configuration is there: a call without
        # -c CONFIG_DIR reads /etc/postfix, which real postconf cannot open.
        self.config_dir = config_dir
        self.version = version
        self.master = master or ['smtp inet n - y - - smtpd']
        self.fields = fields
        self.postconf = postconf
        self.calls = []
        self.master_fields = {'proxymap/unix/process_limit': '-'}

    def __call__(self, argv):
        self.calls.append(list(argv))
        if argv[0] != self.postconf:
            return (1, '', 'unexpected command %s' % argv[0])
        args = list(argv[1:])
        if self.config_dir is not None and args[:2] != ['-c', self.config_dir]:
            return (1, '', '%s: fatal: open /etc/postfix/main.cf: No such file or directory\n' % argv[0])
        if args[:1] == ['-c']:
            args = args[2:]
        if args == ['-h', 'mail_version']:
            if not self.version:
                return (1, '', '%s: fatal: open %s/main.cf: No such file or directory\n' % (argv[0], self.config_dir or '/etc/postfix'))
            return (0, '%s\n' % self.version, '')
        if args[:1] == ['-h'] or args[:2] == ['-x', '-h']:
            name = args[-1]
            value = self.main_cf.get(name, DEFAULTS.get(name, ''))
            if args[0] == '-x':
                # $name expanded, as postconf -x does (one level is enough for these tests).
                value = re.sub(r'\$(\w+)', lambda match: self.main_cf.get(match.group(1), ''), value)
            return (0, '%s\n' % ' '.join(value.split()), '')
        if args[:1] == ['-F'] and len(args) == 2 and '/' in args[1] and '*' not in args[1]:
            # One master.cf field: postconf -F service/type/field[=value].
            name, sep, value = args[1].partition('=')
            if sep:
                self.master_fields[name] = value
                return (0, '', '')
            return (0, '%s = %s\n' % (name, self.master_fields[name]) if name in self.master_fields else '', '')
        if args[:1] == ['-F']:
            # Only the fields the selectors ask for, as postconf -F prints them.
            return (0, ''.join(line + '\n' for line in self.fields.splitlines()
                               if any(fnmatch.fnmatchcase(line.split(' = ')[0], selector) for selector in args[1:])), '')
        if args == ['-M']:
            return (0, ''.join('%s\n' % line for line in self.master), '')
        if args[:1] == ['-n']:
            names = args[1:] or sorted(self.main_cf)
            out = ''.join('%s = %s\n' % (n, self.main_cf[n]) for n in names if n in self.main_cf)
            # Postfix names itself as it was called: the full path when called by it.
            err = ''.join('%s: warning: %s: unknown parameter\n' % (argv[0], n) for n in names if n not in KNOWN)
            return (0, out, err)
        if args[:1] == ['-e']:
            for pair in args[1:]:
                name, _sep, value = pair.partition('=')
                self.main_cf[name] = value
            return (0, '', '')
        if args[:1] == ['-X']:
            for name in args[1:]:
                self.main_cf.pop(name, None)
            return (0, '', '')
        return (1, '', 'unexpected postconf call %s' % ' '.join(argv))

    def writes(self):
        """The calls that changed main.cf."""
        return [call for call in self.calls if '-e' in call or '-X' in call or any('=' in a for a in call[1:])
                and '-F' in call]
