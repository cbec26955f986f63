# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every plugin of this collection needs to run a Postfix command-line tool.

Postfix tools report through stderr lines of the form ``program: level: text``
(``postconf: warning: ...``, ``postmap: fatal: ...``); their exit codes say little
(postconf exits 0 for unknown names, postmap exits 1 both for "not found" and for a
broken table). The helpers here read those lines once, for modules and lookups alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Postfix's messages are only parsed in English: run every tool with a C locale.
C_LOCALE_ENV = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

REDACTED = '********'

_DIAGNOSTIC_RE = re.compile(r'^(?P<program>[\w./-]+): (?:(?P<level>warning|error|fatal|panic): )?(?P<text>.*)$')


class Diagnostic(object):
    """One stderr line of a Postfix tool: its level and its text."""

    __slots__ = ('level', 'text')

    def __init__(self, level, text):
        self.level = level
        self.text = text

    def __repr__(self):
        return 'Diagnostic(%r, %r)' % (self.level, self.text)

    def __eq__(self, other):
        return isinstance(other, Diagnostic) and (self.level, self.text) == (other.level, other.text)

    def __ne__(self, other):
        return not self == other


def parse_diagnostics(stderr):
    """Split a Postfix tool's stderr into Diagnostic objects.

    Lines without a ``level:`` (rare: usage text) come back with level ``info``.
    """
    diagnostics = []
    for line in (stderr or '').splitlines():
        line = line.rstrip()
        if not line:
            continue
        match = _DIAGNOSTIC_RE.match(line)
        if match:
            diagnostics.append(Diagnostic(match.group('level') or 'info', match.group('text')))
        else:
            diagnostics.append(Diagnostic('info', line))
    return diagnostics


def redact(text, secrets):
    """Replace every occurrence of each non-empty secret in text."""
    if text is None:
        return text
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


# Postfix daemons that read the virtual and sender login maps directly (unless the
# maps are read through proxy:): a chrooted one cannot reach the MariaDB socket.
MAP_READING_COMMANDS = ('smtpd', 'cleanup', 'trivial-rewrite', 'virtual')


def chrooted_map_readers(postconf_fields):
    """Services that read maps and run chrooted, from `postconf -F '*/*/chroot' '*/*/command'`.

    Returned as ``name/type``, sorted. ``-`` in the chroot column means the default,
    which is ``n`` since Postfix 3.0, so only an explicit ``y`` counts.
    """
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
