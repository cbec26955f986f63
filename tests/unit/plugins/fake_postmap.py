# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for PostmapRunner, shared by the tests of the module, the lookup and module_utils."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import ProcessResult


class FakePostfix(object):
    """Stands for PostmapRunner: answers like real postmap from dicts, records the jobs."""

    def __init__(self, tables=None, errors=None, error_for=None):
        self.tables = tables or {}
        self.errors = errors or {}
        # error_for(table) -> stderr or None: for tables whose name is not known in
        # advance (temporary files).
        self.error_for = error_for or (lambda table: None)
        self.jobs = []
        self.timeout = None

    def __call__(self, timeout=None):
        self.timeout = timeout
        return self

    def run(self, jobs):
        self.jobs.extend(jobs)
        return [self.answer(argv, data) for argv, data in jobs]

    def answer(self, argv, data):
        table = argv[-1]
        error = self.errors.get(table) or self.error_for(table)
        if error:
            # A fatal error loses every answer printed before it: stdout is empty.
            return ProcessResult(1, '', error)
        values = self.tables.get(table, {})
        out = ''.join('%s\t%s\n' % (key, values[key]) for key in data.splitlines() if key in values)
        return ProcessResult(0 if out else 1, out, '')
