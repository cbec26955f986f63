# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postmap benchmark's two halves (bench/postmap_bench.sh runs both).

``measure`` runs INSIDE the benchmark container, with the collection's module_utils on
sys.path: it times the ways to answer the same addresses and prints the figures as JSON.
``report`` runs on the controller: it turns that JSON into docs/postmap-benchmark.md.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

TABLE = 'mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'
QUERY = 'SELECT 1 FROM virtual_users WHERE email = %s'
# What the targets say: the module at least this many times faster than one postmap
# process per key, and at most this many times slower than per-key SQL on one connection.
TARGET_SPEEDUP = 30.0
TARGET_SQL_FACTOR = 2.0


def make_keys(count):
    """count addresses, alternately one that exists (userNNNNN) and one that does not."""
    keys = []
    for i in range(1, count // 2 + 1):
        keys.append('user%05d@example.org' % i)
        keys.append('nobody%05d@example.org' % i)
    return keys


def best_of(repeat, function):
    """(best seconds, median seconds, last result) of repeat runs of function()."""
    times = []
    result = None
    for dummy in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def command_output(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True,
                              universal_newlines=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def measure(args):
    sys.path.insert(0, args.collections)
    # pylint: disable-next=import-error
    from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import postmap as pm
    import pymysql  # pylint: disable=import-error

    keys = make_keys(args.keys)
    sample = keys[:args.sample]
    postmap = '/usr/sbin/postmap'
    figures = {}

    def module_way(parallel):
        result = pm.query_tables(postmap, [TABLE], keys, parallel=parallel, runner=pm.PostmapRunner())
        return result

    for label, parallel in (('module_default', 0), ('module_parallel_1', 1)):
        best, median, result = best_of(args.repeat, lambda p=parallel: module_way(p))
        figures[label] = dict(best=best, median=median, processes=result.processes, found=result.found)
        answers = result.answers
    module_answers = answers

    def per_key_postmap():
        out = {}
        for key in sample:
            proc = subprocess.run([postmap, '-q', key, TABLE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, check=False)
            if proc.stderr or proc.returncode not in (0, 1):
                raise SystemExit('postmap -q %s failed: %s' % (key, proc.stderr))
            out[key] = proc.stdout.rstrip('\n') if proc.returncode == 0 else None
        return out

    best, median, per_key = best_of(args.sample_repeat, per_key_postmap)
    scale = len(keys) / len(sample)
    figures['postmap_per_key'] = dict(best=best * scale, median=median * scale, sample=len(sample),
                                      sample_best=best, processes=len(keys))

    def connect():
        return pymysql.connect(host='127.0.0.1', user=args.db_user, password=args.db_password, database=args.db_name)

    def single_selects():
        connection = connect()
        found = {}
        try:
            with connection.cursor() as cursor:
                for key in keys:
                    cursor.execute(QUERY, (key,))
                    row = cursor.fetchone()
                    found[key] = None if row is None else str(row[0])
        finally:
            connection.close()
        return found

    best, median, sql_answers = best_of(args.repeat, single_selects)
    figures['sql_per_key'] = dict(best=best, median=median)

    def one_select():
        connection = connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute('SELECT email FROM virtual_users WHERE email IN (%s)' % ', '.join(['%s'] * len(keys)), keys)
                return set(row[0] for row in cursor.fetchall())
        finally:
            connection.close()

    best, median, in_found = best_of(args.repeat, one_select)
    figures['sql_in_list'] = dict(best=best, median=median)

    checks = dict(
        sample_equal=all(module_answers[k] == per_key[k] for k in sample),
        sample_size=len(sample),
        sql_equal=module_answers == sql_answers,
        in_list_equal=set(k for k, v in module_answers.items() if v is not None) == in_found,
        found=sum(1 for v in module_answers.values() if v is not None),
        keys=len(keys),
    )
    with open('/etc/debian_version') as handle:
        debian = handle.read().strip()
    machine = dict(
        nproc=os.cpu_count(),
        cpu=cpu_model(),
        debian=debian,
        python=platform.python_version(),
        postfix=command_output(['postconf', '-h', 'mail_version']),
        mariadb=command_output(['mariadb', '--skip-column-names', '--batch', '--execute', 'SELECT VERSION()']),
        default_parallel=min(os.cpu_count() or 1, pm.MAX_PARALLEL),
    )
    json.dump(dict(figures=figures, checks=checks, machine=machine, repeat=args.repeat,
                   sample_repeat=args.sample_repeat), sys.stdout, indent=2, sort_keys=True)
    print()
    if not (checks['sample_equal'] and checks['sql_equal'] and checks['in_list_equal']):
        raise SystemExit('answers differ: %s' % checks)


def cpu_model():
    try:
        with open('/proc/cpuinfo') as handle:
            for line in handle:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except (IOError, OSError):
        pass
    return 'unknown'


def seconds(value):
    if value >= 10:
        return '%.1f s' % value
    if value >= 1:
        return '%.2f s' % value
    return '%.0f ms' % (value * 1000)


def ansible_run(path):
    """The module's result in the json callback's output of the ad-hoc run."""
    with open(path) as handle:
        text = handle.read()
    report = json.loads(text[text.index('{'):])
    hosts = report['plays'][0]['tasks'][0]['hosts']
    return list(hosts.values())[0]


def report(args):
    with open(args.results) as handle:
        data = json.load(handle)
    via_ansible = ansible_run(args.ansible_output)
    if via_ansible.get('failed') or via_ansible.get('found') != data['checks']['found']:
        raise SystemExit('the module run through Ansible failed or found other keys: %s' % str(via_ansible)[:2000])
    fig = data['figures']
    mach = data['machine']
    checks = data['checks']
    keys = checks['keys']
    module = fig['module_default']['best']
    module_1 = fig['module_parallel_1']['best']
    per_key = fig['postmap_per_key']['best']
    sql = fig['sql_per_key']['best']
    speedup = per_key / module
    speedup_1 = per_key / module_1
    sql_factor = module / sql
    sql_factor_1 = module_1 / sql

    def row(what, how, figure, note=''):
        per = figure['best'] / keys * 1e6
        return '| %s | %s | %s | %s | %.0f µs | %s |' % (what, how, seconds(figure['best']), seconds(figure['median']), per, note)

    ok = 'met' if speedup >= TARGET_SPEEDUP else 'NOT met'
    ok_sql = 'met' if sql_factor <= TARGET_SQL_FACTOR else 'NOT met'
    lines = [
        '# postmap benchmark',
        '',
        'How long it takes to look up %d addresses (half of them existing mailboxes, half unknown)' % keys,
        'in the ISPmail table `%s`' % TABLE,
        "(`query = SELECT 1 FROM virtual_users WHERE email='%s'`), in a Debian container with MariaDB",
        'on the same host, read the way Postfix reads it (TCP to 127.0.0.1).',
        '',
        'Reproduce with `make bench` (bench/postmap_bench.sh, which starts and removes its own',
        'container `mf-bench`). Best and median of %d runs (per-key postmap: %d runs of a' % (data['repeat'], data['sample_repeat']),
        '%d-key sample, extrapolated to %d keys).' % (fig['postmap_per_key']['sample'], keys),
        '',
        '| # | way | %d keys, best | median | per key | note |' % keys,
        '| --- | --- | --- | --- | --- | --- |',
        row('(a)', 'postmap_query / postmap lookup runner, default parallel (%d processes)' % fig['module_default']['processes'],
            fig['module_default'], 'the module\'s way'),
        row('(a1)', 'the same runner, `parallel: 1` (%d process)' % fig['module_parallel_1']['processes'],
            fig['module_parallel_1'], 'one process, one connection'),
        '| (a\') | the postmap_query module run by `ansible` through the podman connection | %s | - | %.0f µs | '
        'wall time of the whole `ansible` command, %d processes |' % (seconds(args.ansible_seconds), args.ansible_seconds / keys * 1e6,
                                                                      via_ansible['processes']),
        row('(b)', 'one `postmap -q KEY` process per key', fig['postmap_per_key'],
            'extrapolated from %d keys (%s)' % (fig['postmap_per_key']['sample'], seconds(fig['postmap_per_key']['sample_best']))),
        row('(c)', '%d single-key SELECTs on one PyMySQL connection' % keys, fig['sql_per_key'], 'the per-key SQL floor'),
        row('(d)', 'one `SELECT ... WHERE email IN (...)` with all %d addresses' % keys, fig['sql_in_list'],
            'not what Postfix can do'),
        '',
        '| target | ratio | |',
        '| --- | --- | --- |',
        '| (a) at least %gx faster than (b) | %.0fx (parallel 1: %.0fx) | %s |' % (TARGET_SPEEDUP, speedup, speedup_1, ok),
        '| (a) within %gx of the SQL floor (c) | %.2fx (parallel 1: %.2fx) | %s |' % (
            TARGET_SQL_FACTOR, sql_factor, sql_factor_1, ok_sql),
        '',
        'Answers checked: (a) equals (b) on the %d-key sample: %s; (a) equals (c) on all %d keys: %s;'
        % (checks['sample_size'], 'yes' if checks['sample_equal'] else 'NO', keys, 'yes' if checks['sql_equal'] else 'NO'),
        '(a) finds the same %d addresses as (d): %s.' % (checks['found'], 'yes' if checks['in_list_equal'] else 'NO'),
        '',
        'Machine: %s CPUs (%s), %s; in the container Debian %s, Postfix %s, MariaDB %s,' % (
            mach['nproc'], mach['cpu'], args.host, mach['debian'], mach['postfix'], mach['mariadb']),
        'Python %s. Measured on %s, load average %s before the runs. The default parallelism' % (
            mach['python'], args.date, args.load),
        'is the number of CPUs, at most 8. The runs share the machine with whatever else runs on',
        'it: compare the ratios rather than the seconds.',
    ]
    if module > module_1:
        lines += [
            '',
            'In this run `parallel: 1` beat the default: a second process only helps when a CPU is',
            'idle, and these were busy with other work (see the load average).',
        ]
    lines += [
        '',
        '(a) calls `query_tables()` of `plugins/module_utils/postmap.py`, the code both plugins run,',
        'inside the container. (a\') is the same work as a user runs it: `ansible` starting on the',
        'controller, sending the module and the %d keys over `podman exec`, and reading the answers back.' % keys,
        '',
    ]
    text = '\n'.join(lines)
    with open(args.output, 'w') as handle:
        handle.write(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest='mode')
    m = sub.add_parser('measure')
    m.add_argument('--collections', required=True, help='directory holding ansible_collections/')
    m.add_argument('--keys', type=int, default=10000)
    m.add_argument('--sample', type=int, default=1000)
    m.add_argument('--repeat', type=int, default=3)
    m.add_argument('--sample-repeat', type=int, default=2)
    m.add_argument('--db-user', default='mailuser')
    m.add_argument('--db-password', required=True)
    m.add_argument('--db-name', default='mailserver')
    r = sub.add_parser('report')
    r.add_argument('--results', required=True)
    r.add_argument('--output', required=True)
    r.add_argument('--date', required=True)
    r.add_argument('--host', required=True, help='what the host is, e.g. "Debian 12.11 host, podman 4.3.1"')
    r.add_argument('--load', required=True, help='the load average before the runs')
    r.add_argument('--ansible-seconds', type=float, required=True)
    r.add_argument('--ansible-output', required=True, help='the json callback\'s output of that run')
    k = sub.add_parser('keys')
    k.add_argument('--keys', type=int, default=10000)
    args = parser.parse_args()
    if args.mode == 'measure':
        measure(args)
    elif args.mode == 'report':
        report(args)
    elif args.mode == 'keys':
        json.dump({'bench_keys': make_keys(args.keys)}, sys.stdout)
    else:
        parser.error('give measure or report')


if __name__ == '__main__':
    main()
