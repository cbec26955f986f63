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
