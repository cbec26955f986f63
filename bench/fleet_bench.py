# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wall time of playbooks/site.yml over SSH for 1, 4, 8 and 16 mail hosts, beside the ping floor.

Not a test: writes docs/fleet-benchmark.md and docs/fleet-benchmark.png. Starts and removes
its own containers (mf-fbench-*) on its own network (mf-fbench, 10.213.48.0/24): one
database host and up to 16 Debian 12 mail hosts, reached over SSH the way a fleet is
(a key made for the run, each container's own host keys, pipelining and ControlPersist
in the run's ansible.cfg). Podman only runs the containers.

For each number of mail hosts: the first run of site.yml (packages installed), a no-op
re-run (must report changed=0), and the floor: a play that only runs ansible.builtin.ping
on the same hosts, with the same settings. Then, at the largest size, the no-op re-run
with what an admin would try to go faster: Ansible's default 5 forks, more forks,
`strategy: free`, and mitogen (from PyPI, requirements/bench.txt) where it runs.

    make bench-fleet        # or .venv/bin/python bench/fleet_bench.py after `make setup`
    FLEET_BENCH_SIZES="1 4 8" make bench-fleet
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import ENV, ROOT, Progress, cleanup, run, start_ssh_container

OUT = os.environ.get('FLEET_BENCH_OUT', os.path.join(ROOT, 'docs', 'fleet-benchmark.md'))
PLOT = os.path.splitext(OUT)[0] + '.png'
SIZES = [int(n) for n in os.environ.get('FLEET_BENCH_SIZES', '1 4 8 16').split()]
IMAGE = os.environ.get('FLEET_BENCH_IMAGE', 'localhost/mailfleet-debian:bookworm')
LOGS = os.environ.get('FLEET_BENCH_LOGS', os.path.join(ROOT, '.cache', 'fleet-bench'))
NET, PREFIX = 'mf-fbench', '10.213.48'
DB = ('mf-fbench-db', PREFIX + '.10')


def mail_hosts(count):
    """The COUNT mail hosts of one size: names and addresses of their own (a new container on an
    address of a removed one is unreachable until the host's neighbour entry for it expires)."""
    base = 20 + 20 * SIZES.index(count)
    return [('mf-fbench-s%d-mail%d' % (count, i), '%s.%d' % (PREFIX, base + i)) for i in range(1, count + 1)]


SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
PING = """---
- name: Floor
  hosts: mail_databases:mail_servers
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""


# A Python that logs each start: one line per module run on the host (with pipelining, the
# module arrives on its standard input).
COUNTING_PYTHON = '/usr/local/bin/mailfleet-bench-python3'
COUNTING_LOG = '/run/mailfleet-bench-module-runs'
COUNTING_SCRIPT = '#!/bin/sh\necho "$$" >> %s\nexec /usr/bin/python3 "$@"\n' % COUNTING_LOG


def module_runs(label, config, path, names):
    """Module runs of one no-op site.yml on each of NAMES, counted by COUNTING_PYTHON."""
    for name in names:
        run('podman', 'exec', '-i', name, 'sh', '-c', 'cat > %s && chmod 755 %s && rm -f %s'
            % (COUNTING_PYTHON, COUNTING_PYTHON, COUNTING_LOG), input=COUNTING_SCRIPT)
    _seconds, changed = timed(label, config, '-i', path, '-e', 'ansible_python_interpreter=' + COUNTING_PYTHON, SITE)
    if changed:
        sys.exit('the counted no-op re-run changed something (see %s)' % LOGS)
    return dict((name, len(run('podman', 'exec', name, 'cat', COUNTING_LOG).split())) for name in names)


def start(name, address, key):
    start_ssh_container(name, address, NET, IMAGE, key)


def write_config(work, forks, strategy=None, mitogen=None, ssh_dir=None):
    """The run's ansible.cfg: SSH with pipelining and ControlPersist, as a fleet would use. SSH_DIR
    holds the master connections and the known host keys: new containers of the same addresses
    get a directory of their own (their host keys are new, and a master of a removed one hangs)."""
    ssh_dir = ssh_dir or os.path.join(work, 'ssh')
    if not os.path.isdir(os.path.join(ssh_dir, 'cp')):
        os.makedirs(os.path.join(ssh_dir, 'cp'))
    lines = ['[defaults]', 'forks = %d' % forks, 'callbacks_enabled = ansible.builtin.profile_tasks',
             'interpreter_python = /usr/bin/python3']
    if strategy:
        lines.append('strategy = %s' % strategy)
    if mitogen:
        lines += ['strategy_plugins = %s' % mitogen, 'strategy = mitogen_%s' % (strategy or 'linear')]
    lines += ['[ssh_connection]', 'pipelining = True',
              'ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o StrictHostKeyChecking=accept-new '
              '-o UserKnownHostsFile=%s/known_hosts' % ssh_dir,
              'control_path_dir = %s/cp' % ssh_dir]
    path = os.path.join(work, 'ansible.cfg')
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    return path


def inventory(work, count, key):
    data = {'all': {
        'vars': {
            'ansible_user': 'root', 'ansible_ssh_private_key_file': key, 'ansible_become': False,
            'mailfleet_database_reader_password': 'bench-pass', 'mailfleet_postfix_db_password': 'bench-pass',
            'mailfleet_postfix_db_hosts': [DB[1]],
            # Every address up front: a size's first run does not change the database host.
            'mailfleet_database_reader_hosts': [address for size in SIZES for _name, address in mail_hosts(size)],
            'mailfleet_database_domains': [{'name': 'example.org'}],
            'mailfleet_database_aliases': [{'source': 'jack@example.org', 'destination': 'john@example.org'}],
            'mailfleet_postfix_checks': [{'map': 'virtual-mailbox-domains', 'expect': {'example.org': '1'}}],
        },
        'children': {
            'mail_databases': {'hosts': {DB[0]: {'ansible_host': DB[1], 'mailfleet_address': DB[1],
                                                 'mailfleet_database_bind_address': DB[1]}}},
            'mail_servers': {'hosts': dict((name, {'ansible_host': address, 'mailfleet_address': address})
                                           for name, address in (mail_hosts(count) if count else []))},
        }}}
    path = os.path.join(work, 'inventory-%d.json' % count)
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return path


def timed(label, config, *argv):
    """Seconds of one ansible-playbook run (its output kept in LOGS/label.log); the recap."""
    env = dict(ENV, ANSIBLE_CONFIG=config)
    # Host keys are checked as a fleet checks them: learnt on first contact (ssh_args).
    env.pop('ANSIBLE_HOST_KEY_CHECKING', None)
    started = time.time()
    proc = subprocess.run(['ansible-playbook'] + list(argv), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    seconds = time.time() - started
    with open(os.path.join(LOGS, label + '.log'), 'w') as handle:
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.exit('FAILED: %s (see %s)\n%s' % (label, os.path.join(LOGS, label + '.log'), proc.stdout[-3000:]))
    changed = sum(int(n) for n in re.findall(r'changed=(\d+)', proc.stdout.split('PLAY RECAP')[-1]))
    return seconds, changed


def mitogen_plugins():
    """The strategy plugin directory of mitogen, or (None, why not)."""
    try:
        import ansible_mitogen  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError as exc:
        return None, 'not installed (%s): pip install -r requirements/bench.txt' % exc
    return os.path.join(os.path.dirname(sys.modules['ansible_mitogen'].__file__), 'plugins', 'strategy'), None


def slope(points):
    """Least-squares seconds per host of [(hosts, seconds)]."""
    n = len(points)
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def main():
    os.makedirs(LOGS, exist_ok=True)
    cleanup('mf-fbench-', NET)
    work = tempfile.mkdtemp(prefix='fleet_bench.')
    key = os.path.join(work, 'id_ed25519')
    load = open('/proc/loadavg').read().split()[:3]
    rows, variants = [], []
    try:
        run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key)
        with open(os.path.join(work, 'ping.yml'), 'w') as handle:
            handle.write(PING)
        run('podman', 'network', 'create', '--subnet', PREFIX + '.0/24', NET)
        start(DB[0], DB[1], key)
        largest = max(SIZES)
        config = write_config(work, forks=max(largest, 5))
        plugins, why_not = mitogen_plugins()
        # The database host, each size up to the largest, then the variants of the largest
        # (three, and mitogen where it can be loaded).
        progress = Progress(1 + SIZES.index(largest) + 1 + 3 + (1 if plugins else 0))
        counted = {}
        progress.step('database host (not timed)')
        timed('db', config, '-i', inventory(work, 0, key), SITE)
        for count in SIZES:
            for name, address in mail_hosts(count):
                start(name, address, key)
            path = inventory(work, count, key)
            config = write_config(work, forks=max(largest, 5), ssh_dir=os.path.join(work, 'ssh-%d' % count))
            progress.step('%d mail host(s): first run, no-op re-run, ping floor' % count)
            # The first run of the hosts that are new at this size only: the others are done.
            first, _changed = timed('first-%d' % count, config, '-i', path, SITE)
            noop, changed = timed('noop-%d' % count, config, '-i', path, SITE)
            if changed:
                sys.exit('the no-op re-run of %d hosts changed something (see %s)' % (count, LOGS))
            floor, _changed = timed('floor-%d' % count, config, '-i', path, os.path.join(work, 'ping.yml'))
            rows.append((count, first, noop, floor))
            progress.say('  first %.1fs  no-op %.1fs  ping floor %.1fs' % (first, noop, floor))
            if count == largest:
                counted = module_runs('counted-noop-%d' % count, config, path, [DB[0]] + [n for n, _a in mail_hosts(count)])
                break
            # Fresh mail hosts for the next size's first run.
            for name, _address in mail_hosts(count):
                run('podman', 'rm', '-f', '-t', '0', name)
        path = inventory(work, largest, key)
        tries = [('5 forks (Ansible\'s default)', dict(forks=5)),
                 ('%d forks' % max(largest, 5), dict(forks=max(largest, 5))),
                 ('%d forks, strategy free' % max(largest, 5), dict(forks=max(largest, 5), strategy='free'))]
        if plugins:
            tries.append(('%d forks, mitogen' % max(largest, 5), dict(forks=max(largest, 5), mitogen=plugins)))
        for label, settings in tries:
            progress.step('no-op of %d mail hosts with %s' % (largest, label))
            config = write_config(work, ssh_dir=os.path.join(work, 'ssh-%d' % largest), **settings)
            tag = re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')
            try:
                noop, changed = timed('variant-noop-%s' % tag, config, '-i', path, SITE)
                floor, _changed = timed('variant-floor-%s' % tag, config, '-i', path, os.path.join(work, 'ping.yml'))
                variants.append((label, noop, floor, None if not changed else 'changed=%d' % changed))
            except SystemExit as exc:
                variants.append((label, None, None, 'failed: %s' % str(exc).splitlines()[0]))
            progress.say('  %s: %r' % (label, variants[-1]))
        if not plugins:
            variants.append(('mitogen', None, None, why_not))
        write(rows, variants, load, counted)
    finally:
        cleanup('mf-fbench-', NET)
        shutil.rmtree(work, ignore_errors=True)


def plot(rows):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    hosts = [r[0] for r in rows]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    for index, (label, style) in enumerate((('first run', 'o-'), ('no-op re-run', 's-'), ('ping floor', '^--')), 1):
        axes.plot(hosts, [r[index] for r in rows], style, label=label)
    axes.set_xlabel('mail hosts (plus one database host)')
    axes.set_ylabel('wall time of site.yml (s)')
    axes.set_xticks(hosts)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend()
    axes.set_title('playbooks/site.yml over SSH (pipelining, ControlPersist)')
    figure.tight_layout()
    figure.savefig(PLOT)


def write(rows, variants, load, counted):
    by_hosts = dict((r[0], r) for r in rows)
    low, high = rows[0], rows[-1]
    noop_slope = slope([(r[0], r[2]) for r in rows])
    floor_slope = slope([(r[0], r[3]) for r in rows])
    eight = by_hosts.get(8, high)
    try:
        plot(rows)
        plotted = '![wall time against mail hosts](%s)' % os.path.basename(PLOT)
    except ImportError as exc:
        plotted = '(no plot: %s; `pip install -r requirements/bench.txt`)' % exc

    def verdict(value, limit):
        return 'met' if value <= limit else 'MISSED'
    lines = [
        '# Fleet benchmark: site.yml over SSH, 1 to %d mail hosts' % high[0],
        '',
        'Not a test: wall time of `playbooks/site.yml` for %s mail hosts (Debian 12 containers) reading one'
        % ', '.join(str(r[0]) for r in rows),
        'database host, over SSH as a fleet is reached: a key of the run, each container\'s own host keys,',
        '`pipelining = True` and `ssh_args = -o ControlMaster=auto -o ControlPersist=120s`; forks at least the',
        'number of hosts. First run (Postfix installed) and no-op re-run (changed=0, checked), beside the floor:',
        'a play that only runs `ansible.builtin.ping` on the same hosts (database host included), with the same',
        'settings. The database host is converged once before (its reader account lists every address), so a',
        'first run is the mail hosts\' first run plus the database play\'s no-op.',
        '',
        'Reproduce: `make bench-fleet` (or `FLEET_BENCH_SIZES="1 4 8" make bench-fleet`). Measured on %s, %d CPU(s),'
        % (time.strftime('%Y-%m-%d'), os.cpu_count()),
        'load average before the run: %s, ansible-core %s.' % (' '.join(load), ansible_version()),
        '',
        plotted,
        '',
        '| mail hosts | first run (s) | no-op re-run (s) | ping floor (s) | no-op / floor |',
        '| --- | --- | --- | --- | --- |',
    ]
    for count, first, noop, floor in rows:
        lines.append('| %d | %.1f | %.1f | %.1f | %.1f |' % (count, first, noop, floor, noop / floor))
    lines += [
        '',
        'No-op cost of each extra mail host (least-squares slope): %.2f s per host (ping floor: %.2f s per host).'
        % (noop_slope, floor_slope),
        '',
        '## Targets',
        '',
        '| target | measured | verdict |',
        '| --- | --- | --- |',
        '| no-op re-run within 3x the SSH ping floor at %d mail hosts | %.1fx | %s |' % (
            eight[0], eight[2] / eight[3], verdict(eight[2] / eight[3], 3)),
        '| %d mail hosts first run within 2x the wall time of %d (first run) | %.2fx | %s |' % (
            eight[0], low[0], eight[1] / low[1], verdict(eight[1] / low[1], 2)),
        '',
        '## Going faster: no-op re-run of %d mail hosts' % high[0],
        '',
        '| settings | no-op re-run (s) | ping floor (s) | no-op / floor | note |',
        '| --- | --- | --- | --- | --- |',
    ]
    for label, noop, floor, note in variants:
        if noop is None:
            lines.append('| %s | - | - | - | %s |' % (label, note))
        else:
            lines.append('| %s | %.1f | %.1f | %.1f | %s |' % (label, noop, floor, noop / floor, note or ''))
    measured = [(noop, label) for label, noop, _floor, _note in variants if noop is not None]
    fastest = min(measured)[1] if measured else None
    if not any('mitogen' in label for _noop, label in measured):
        mitogen_verdict = 'did not run (see the table)'
    elif 'mitogen' in fastest:
        mitogen_verdict = 'was the fastest here'
    else:
        mitogen_verdict = 'was slower than plain SSH with pipelining here'
    mail_runs = sorted(set(n for name, n in counted.items() if name != DB[0]))
    lines += [
        '',
        '## Module runs of an unchanged host',
        '',
        'Counted in one more no-op re-run of %d mail hosts, with `ansible_python_interpreter` set to a wrapper on'
        % high[0],
        'the host that logs each start of Python (each module run starts it once): each mail host %s, the'
        % (' to '.join(str(n) for n in mail_runs) or '-'),
        'database host %s. The ping floor is one.' % counted.get(DB[0], '-'),
        '',
        '## Reading the numbers',
        '',
        '- A no-op run of a mail host is one module run, `mysql_maps`: the packages, the service, the client',
        '  files, main.cf, the recovery service and the checks; its input is checked on the controller first,',
        '  at no round trip. The database host costs two: `mariadb_server_settings` (with the packages and the',
        '  service) and `mail_database`. What remains above the floor is mostly the controller\'s own work for',
        '  each task and host (the input checks, the skipped install tasks), on the same 2 CPUs as the hosts.',
        '- Every container shares the controller\'s %d CPU(s): past a few hosts the module runs queue for the CPU,'
        % os.cpu_count(),
        '  which is the per-host slope above; on real hosts, each with its own CPU, only the controller\'s share',
        '  remains. The first run is dominated by installing Postfix (apt, CPU-bound here).',
        '- Recommended, from the table above: SSH with `pipelining = True` and `ControlPersist` (as measured),',
        '  and forks at least the number of hosts a run should change at once (`mailfleet_serial` batches',
        '  still apply). Fastest no-op here: %s. `strategy: free` gains nothing, since every host runs the same'
        % (fastest or 'none measured'),
        '  few tasks; mitogen %s.' % mitogen_verdict,
        '',
        'Logs of every run (profile_tasks): `%s/`.' % os.path.relpath(LOGS, ROOT),
        '',
    ]
    with open(OUT, 'w') as handle:
        handle.write('\n'.join(lines))
    print('wrote', OUT)


def ansible_version():
    return re.search(r'core ([0-9.]+)', run('ansible', '--version')).group(1)


if __name__ == '__main__':
    main()
