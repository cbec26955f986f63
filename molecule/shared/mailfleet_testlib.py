# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the scenarios' testinfra tests.

Besides looking at a host, some tests must run Ansible again the way a user would
(check mode on a converged host, a run with --diff -vvvv): run_playbook() does that
against molecule's own inventory, from the controller.
"""

import json
import os
import re
import subprocess
import threading
import time

SCENARIO_DIR = os.environ.get('MOLECULE_SCENARIO_DIRECTORY', '')
PROJECT_DIR = os.environ.get('MOLECULE_PROJECT_DIRECTORY', os.getcwd())
RECAP_RE = re.compile(r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
                      r'\s+failed=(?P<failed>\d+)', re.M)


def sql(host, query, user=None, password=None, database=None, check=True):
    """Run a query with the mariadb client on the host; return its rows as lists of strings.

    Without user, as root through the UNIX socket; with user, over TCP to 127.0.0.1
    the way Postfix connects.
    """
    argv = ['mariadb', '--batch', '--skip-column-names']
    if user is not None:
        argv += ['--protocol=TCP', '--host=127.0.0.1', '--user=' + user, '--password=' + password]
    if database:
        argv += ['--database=' + database]
    argv += ['--execute=' + query]
    command = host.run(' '.join(['%s'] * len(argv)), *argv)
    if check:
        assert command.rc == 0, 'query %r failed: %s' % (query, command.stderr)
        return [line.split('\t') for line in command.stdout.splitlines()]
    return command


def ansible_environment(**env):
    """The environment of the Ansible commands that the tests run themselves."""
    environ = dict(os.environ)
    environ.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(PROJECT_DIR, '.cache', 'collections'),
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3',
        'ANSIBLE_HOST_KEY_CHECKING': 'false',
    })
    environ.update(env)
    return environ


def playbook_command(playbook, *args, **env):
    """(argv, environ) of ansible-playbook against the scenario's inventory."""
    inventory = os.environ['MOLECULE_INVENTORY_FILE']
    environ = ansible_environment(**env)
    # A playbook of the collection is run by its name, as users run it.
    path = playbook if playbook.startswith('mailfleet.postfix_mysql.') else os.path.join(SCENARIO_DIR, playbook)
    argv = ['ansible-playbook', '-i', inventory, path] + list(args)
    return argv, environ


def wait_until(what, probe, timeout, interval=1.0):
    """Call probe() until it returns (True, seen); fail after TIMEOUT seconds, naming WHAT
    was awaited and what the last call saw. Returns the last seen value."""
    import pytest
    deadline = time.monotonic() + timeout
    while True:
        done, seen = probe()
        if done:
            return seen
        if time.monotonic() >= deadline:
            pytest.fail('waited %d s for %s; the last try saw: %s' % (timeout, what, seen))
        time.sleep(interval)


def wait_for_ssh(hosts, timeout=60):
    """Wait until Ansible reaches each of HOSTS over its inventory connection (SSH in the
    fleet scenario), with the settings of the playbook runs that come next."""
    inventory = os.environ['MOLECULE_INVENTORY_FILE']
    environ = ansible_environment()
    for host in hosts:
        def reached(host=host):
            proc = subprocess.run(['ansible', '-i', inventory, host, '-m', 'ansible.builtin.ping', '-o'], env=environ,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                  timeout=120, check=False)
            return proc.returncode == 0, proc.stdout.strip()[-1000:]

        wait_until('Ansible to reach %s over its inventory connection' % host, reached, timeout=timeout, interval=1)


def parse_recap(output):
    """Each host's counters from a PLAY RECAP, e.g. {'h1': {'ok': 5, 'changed': 0, ...}}."""
    return dict((m.group('host'), dict((k, int(v)) for k, v in m.groupdict().items() if k != 'host'))
                for m in RECAP_RE.finditer(output))


def run_playbook(playbook, *args, **env):
    """Run ansible-playbook against the scenario's inventory; return (rc, output, recap).

    recap maps each host to its counters, e.g. {'h1': {'ok': 5, 'changed': 0, ...}}.
    """
    argv, environ = playbook_command(playbook, *args, **env)
    proc = subprocess.run(argv, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=1200, check=False)
    return proc.returncode, proc.stdout, parse_recap(proc.stdout)


def inventory_vars(host):
    """The inventory variables of a testinfra host (group_vars from molecule.yml included)."""
    return host.ansible.get_variables()


def to_json(value):
    return json.dumps(value, sort_keys=True)


def scenario_vars():
    """group_vars/all of the scenario's molecule.yml: the values the tests compare against."""
    import yaml
    with open(os.path.join(SCENARIO_DIR, 'molecule.yml')) as handle:
        config = yaml.safe_load(handle)
    return config['provisioner']['inventory']['group_vars']['all']


def all_hosts():
    """Every host of the scenario, for tests that run Ansible once and then look at each host."""
    import testinfra
    return [podman_host(h) for h in testinfra.get_hosts(['ansible://all'], ansible_inventory=os.environ['MOLECULE_INVENTORY_FILE'])]


def podman_host(ansible_host):
    """The same container through testinfra's podman backend.

    Molecule's inventory reaches the containers with Ansible's podman connection, which
    testinfra can only drive through a whole Ansible run per command (seconds each);
    `podman exec` answers in milliseconds.
    """
    import testinfra
    return testinfra.get_host('podman://' + ansible_host.backend.get_hostname())


def json_report(output):
    """The report of the ansible.posix.json callback found in an ansible-playbook output.

    Other lines (-vvvv debug, warnings) may come before it: the report is the JSON
    object that starts on a line of its own and has 'plays'.
    """
    decoder = json.JSONDecoder()
    for match in re.finditer(r'^\{$', output, re.M):
        try:
            report, _end = decoder.raw_decode(output, match.start())
        except ValueError:
            continue
        if isinstance(report, dict) and 'plays' in report:
            return report
    raise AssertionError('no JSON report in the output:\n' + output[-3000:])


def run_probe(playbook, task_name, extra_vars, *args, **env):
    """Run a probe playbook with JSON extra-vars and the json callback.

    Returns (rc, {host: result of the task named task_name}, output); a looped task's
    result has its items under 'results'.
    """
    env.setdefault('ANSIBLE_STDOUT_CALLBACK', 'ansible.posix.json')
    rc, output, _recap = run_playbook(playbook, '-e', json.dumps(extra_vars), *args, **env)
    results = {}
    for play in json_report(output)['plays']:
        for task in play['tasks']:
            if task['task']['name'] == task_name:
                results.update(task['hosts'])
    return rc, results, output


SMTP_PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'smtp_probe.py')


class BackgroundProbe(object):
    """smtp_probe.py run in the container PROBE_FROM against SERVERS (addresses of the
    scenario's own network) until stop(), which returns (its JSON lines, seconds)."""

    STOP_FILE = '/tmp/mailfleet-probe-stop'

    def __init__(self, probe_from, servers, recipients, interval=0.15):
        self.probe_from = probe_from
        subprocess.run(['podman', 'exec', probe_from, 'rm', '-f', self.STOP_FILE], check=True)
        job = dict(servers=list(servers), recipients=list(recipients), rounds=5000, interval=interval,
                   deadline=600, stop_file=self.STOP_FILE)
        with open(SMTP_PROBE) as handle:
            script = handle.read()
        self.proc = subprocess.Popen(['podman', 'exec', '-i', probe_from, 'python3', '-', json.dumps(job)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
        self.lines = []
        self.proc.stdin.write(script)
        self.proc.stdin.close()
        self.reader = threading.Thread(target=lambda: self.lines.extend(json.loads(l) for l in self.proc.stdout))
        self.reader.start()
        self.started = time.time()

    def stop(self):
        subprocess.run(['podman', 'exec', self.probe_from, 'touch', self.STOP_FILE], check=True)
        self.proc.wait(60)
        self.reader.join(60)
        return self.lines, time.time() - self.started


class LoginProbe(object):
    """`doveadm auth test USER PASSWORD` twice a second inside the container NAME, bounded in
    count (600) and time, until stop(), which returns (good logins, failed ones with Dovecot's
    words)."""

    STOP_FILE = '/tmp/mailfleet-login-probe-stop'

    def __init__(self, name, user, password):
        self.name = name
        subprocess.run(['podman', 'exec', name, 'rm', '-f', self.STOP_FILE], check=True)
        # The credentials reach the loop as arguments, never as shell text.
        script = ('i=0; while [ $i -lt 600 ] && [ ! -e %s ]; do '
                  'if out=$(doveadm auth test "$1" "$2" 2>&1); then echo ok; else echo "failed: $out" | tr "\\n" " "; '
                  'echo; fi; i=$((i+1)); sleep 0.5; done' % self.STOP_FILE)
        self.proc = subprocess.Popen(['podman', 'exec', name, 'sh', '-c', script, 'probe', user, password],
                                     stdout=subprocess.PIPE, universal_newlines=True)

    def stop(self):
        subprocess.run(['podman', 'exec', self.name, 'touch', self.STOP_FILE], check=True)
        out, _err = self.proc.communicate(timeout=60)
        lines = [line for line in out.splitlines() if line.strip()]
        return [line for line in lines if line == 'ok'], [line for line in lines if line != 'ok']


def container_address(name):
    """NAME's address on the scenario's network, for probes from another container."""
    out = subprocess.run(['podman', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', name],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.split()
    assert out, 'podman names no address for %s' % name
    return out[0]
