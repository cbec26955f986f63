# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lookup request (a table, tables in order, or the tables of a main.cf parameter; keys;
expected answers) asked on the host with postmap, for postmap_query and for the checks of
mysql_maps. The requests are documented by postmap_query's options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    SBIN_DIRS,
    PostconfError,
    PostconfRunner,
    expanded_value_argv,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import redact
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import (
    PostmapError,
    format_table,
    mismatches,
    parameter_tables,
    query_tables,
    redact_answers,
    table_info,
)

# The options of one request (postmap_query's table, tables, parameter, keys and expect).
REQUEST_OPTIONS = dict(
    table=dict(type='str'),
    tables=dict(type='list', elements='str'),
    parameter=dict(type='str'),
    # Lookup keys (addresses, domains), not secrets: the name only looks like one.
    keys=dict(type='list', elements='str', no_log=False),
    expect=dict(type='dict'),
)


def checks_argument_spec():
    """The checks option: requests, each with an item returned with its answer."""
    return dict(type='list', elements='dict', options=dict(REQUEST_OPTIONS, item=dict(type='raw')),
                mutually_exclusive=[('table', 'tables', 'parameter')],
                required_one_of=[('table', 'tables', 'parameter')])


def _scalar_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def normalise_expect(expect):
    """Keys as text; scalars as text (1 -> '1'); lists of text; None kept."""
    out = {}
    for key, value in (expect or {}).items():
        if value is not None:
            if isinstance(value, (list, tuple)):
                value = [_scalar_text(item) for item in value]
            else:
                value = _scalar_text(value)
        out[_scalar_text(key)] = value
    return out


class LookupFailed(Exception):
    """One request failed; RESULT is what the module returns for it, msg included."""

    def __init__(self, result):
        super(LookupFailed, self).__init__(result['msg'])
        self.result = result


def resolve_parameter(module, name, config_dir, result):
    """The tables that the host's main.cf lists for parameter name (see parameter_tables)."""
    runner = PostconfRunner(module, config_dir)
    try:
        argv = expanded_value_argv(runner.binary, name, config_dir)
    except PostconfError as exc:
        raise LookupFailed(dict(result, msg='refused parameter: %s' % exc, error_kind='refused'))
    # check=False: parameter_tables tells a failed postconf from an unknown name (exit 0).
    rc, stdout, stderr = runner.run(argv, 'read %s' % name, check=False)
    try:
        return parameter_tables(name, rc, stdout, stderr, main_cf=runner.main_cf)
    except PostmapError as exc:
        raise LookupFailed(dict(result, msg=exc.message, error_kind=exc.kind, postfix_messages=exc.postfix_messages))


def request_tables(request):
    """The tables a request names itself (those of a parameter are read on the host)."""
    if request['table'] is not None:
        return [request['table']]
    return request['tables'] if request['tables'] is not None else []


def look_up(module, request, config_dir, runner, parallel=0):
    """One request (table, tables or parameter; keys; expect): its result. Raises LookupFailed."""
    tables = request_tables(request)
    expect = normalise_expect(request['expect'])
    keys = list(request['keys'] or [])
    keys += [key for key in expect if key not in keys]
    result = dict(changed=False, tables=tables)

    if not keys:
        raise LookupFailed(dict(result, msg='nothing to look up: give keys or expect', error_kind='refused'))
    if request['parameter'] is not None:
        tables = resolve_parameter(module, request['parameter'], config_dir, result)
        result['tables'] = tables

    # Read the client files before any table is asked, so that their passwords are hidden
    # from everything this module returns, whatever happens next (AnsibleModule scrubs
    # no_log_values).
    secrets = set()
    for table in tables:
        if isinstance(table, str):
            secrets |= table_info(table).secrets
    module.no_log_values.update(secrets)

    postmap = module.get_bin_path('postmap', required=True, opt_dirs=SBIN_DIRS)
    try:
        answer = query_tables(postmap, tables, keys, config_dir=config_dir, parallel=parallel, runner=runner)
    except PostmapError as exc:
        failure = dict(result, error_kind=exc.kind, msg=redact(exc.message, secrets))
        if exc.table is not None:
            failure.update(failed_table=exc.table, hosts=exc.hosts, postfix_messages=exc.postfix_messages)
        raise LookupFailed(failure)

    secrets |= answer.secrets
    module.no_log_values.update(answer.secrets)
    for warning in answer.warnings:
        module.warn(redact(warning, secrets))
    result.update(
        answers=redact_answers(answer.answers, secrets),
        answered_by=dict((redact(k, secrets), v) for k, v in answer.answered_by.items()),
        found=answer.found,
        missing=answer.missing,
        processes=answer.processes,
    )
    if expect:
        bad = mismatches(answer.answers, expect)
        if bad:
            rows = [tuple(redact(cell, secrets) for cell in row) for row in bad]
            raise LookupFailed(dict(
                result,
                msg=('%d of %d expected answers differ:\n%s' % (len(rows), len(expect), format_table(rows))),
                mismatches=[dict(key=k, expected=e, got=g) for k, e, g in rows]))
    return result


def answer_checks(module, checks, config_dir, runner, parallel=0):
    """Every request of CHECKS, each answered whatever the others did: (the results, each with
    failed and item, as a loop would register them; a message naming the failed ones, or None)."""
    results = []
    for check in checks:
        try:
            answered = dict(look_up(module, check, config_dir, runner, parallel), failed=False)
        except LookupFailed as exc:
            answered = dict(exc.result, failed=True)
        answered['item'] = check['item']
        results.append(answered)
    failed = [(index, r) for index, r in enumerate(results) if r['failed']]
    if not failed:
        return results, None
    return results, '%d of %d checks failed: %s' % (len(failed), len(results), '; '.join(
        'check %d: %s' % (index + 1, r['msg']) for index, r in failed))
