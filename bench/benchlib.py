# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks that start their own containers share: the tools of .venv, an inventory
of one database host and mail hosts reached through podman, and removing their containers and
network (stale ones of an earlier run first, then their own)."""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PATH=os.path.join(ROOT, '.venv', 'bin') + ':' + os.environ['PATH'],
           ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.cache', 'collections'), ANSIBLE_NOCOLOR='1',
           ANSIBLE_FORCE_COLOR='0', ANSIBLE_HOST_KEY_CHECKING='false')


class Progress(object):
    """`[HH:MM:SS +elapsed] step N of TOTAL: message` lines on stderr, so that a benchmark of
    many minutes shows where it is and how long it has run."""

    def __init__(self, total):
        self.total = total
        self.done = 0
        self.started = time.time()

    def step(self, message):
        self.done += 1
        self.say('step %d of %d: %s' % (self.done, self.total, message))

    def say(self, message):
        elapsed = int(time.time() - self.started)
        sys.stderr.write('[%s +%dm%02ds] %s\n' % (time.strftime('%H:%M:%S'), elapsed // 60, elapsed % 60, message))
        sys.stderr.flush()


def run(*argv, **kwargs):
    """A command's standard output; it must succeed (else its output's end is shown)."""
    proc = subprocess.run(argv, check=False, stdout=subprocess.PIPE, universal_newlines=True, env=ENV, **kwargs)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:])
        raise subprocess.CalledProcessError(proc.returncode, argv, proc.stdout)
    return proc.stdout


def cleanup(prefix, network):
    """Remove the containers whose names start with PREFIX, and NETWORK."""
    names = [n for n in run('podman', 'ps', '-a', '--format', '{{.Names}}').split() if n.startswith(prefix)]
    if names:
        run('podman', 'rm', '-f', '-t', '0', *names)
    if subprocess.run(['podman', 'network', 'exists', network], check=False).returncode == 0:
        run('podman', 'network', 'rm', '-f', network)


def write_inventory(path, database, mail, reader_hosts, **extra_vars):
    """An inventory (JSON) of DATABASE (name, address) and the MAIL hosts [(name, address, ...)],
    reached through podman, with the domain example.org and its user john@example.org. READER_HOSTS:
    the addresses the reader account gets. EXTRA_VARS go to all hosts."""
    data = {'all': {
        'vars': dict({
            'ansible_connection': 'containers.podman.podman', 'ansible_python_interpreter': '/usr/bin/python3',
            'ansible_become': False,
            'mailfleet_database_reader_password': 'bench-pass', 'mailfleet_postfix_db_password': 'bench-pass',
            'mailfleet_postfix_db_hosts': [database[1]],
            'mailfleet_database_reader_hosts': list(reader_hosts),
            'mailfleet_database_domains': [{'name': 'example.org'}],
            'mailfleet_database_users': [{'email': 'john@example.org', 'password_hash':
                                          '{BLF-CRYPT}$2y$05$.WedBCNZiwxY1CG3aleIleu6lYjup2CIg0BP4M4YCZsO204Czz07W'}],
        }, **extra_vars),
        'children': {
            'mail_databases': {'hosts': {database[0]: {'mailfleet_database_bind_address': database[1]}}},
            'mail_servers': {'hosts': dict((host[0], {'mailfleet_address': host[1]}) for host in mail)},
        }}}
    with open(path, 'w') as handle:
        json.dump(data, handle)


def start_ssh_container(name, address, network, image, key):
    """Start a Debian container NAME at ADDRESS on NETWORK, wait until systemd has booted it, and
    let KEY (the private key's path; its .pub is installed) log in as root over SSH."""
    run('podman', 'run', '-d', '--name', name, '--hostname', name, '--network', network, '--ip', address,
        '--systemd=always', image, '/lib/systemd/systemd')
    for _attempt in range(100):
        state = subprocess.run(['podman', 'exec', name, 'systemctl', 'is-system-running'], stdout=subprocess.PIPE,
                               universal_newlines=True, check=False).stdout.strip()
        if state in ('running', 'degraded'):
            break
        time.sleep(0.2)
    run(os.path.join(ROOT, 'tools', 'enable-ssh.sh'), name, key + '.pub')
