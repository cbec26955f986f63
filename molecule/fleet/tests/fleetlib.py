# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet scenario's tests share: its hosts, restarting one of them, waiting for
the replica, and telling whether the fleet is still as converge.yml left it.

A test that stops a host, rotates the reader account or renews a certificate puts the
fleet back itself; conftest.py checks before every test that it did (fleet_problems), so
that a test that could not restore it is named by the next one instead of taking it down.
"""

import os
import socket
import subprocess

import testinfra

from mailfleet_testlib import wait_for_ssh, wait_until

DB1, DB2 = 'mf-fleet-db1', 'mf-fleet-db2'
MAIL = ['mf-fleet-mail1', 'mf-fleet-mail2', 'mf-fleet-mail3']
ADDRESS = {DB1: '10.213.47.11', DB2: '10.213.47.12',
           'mf-fleet-mail1': '10.213.47.21', 'mf-fleet-mail2': '10.213.47.22', 'mf-fleet-mail3': '10.213.47.23'}
HOSTS = [DB1, DB2] + MAIL
# The reader account that converge.yml sets up and the mail hosts' client files name.
READER = 'mailuser'
PKI = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'pki')
SERVER_CERTIFICATE = '/etc/mysql/mailfleet-tls/server-cert.pem'


def node(name):
    return testinfra.get_host('podman://' + name)


def stop_host(name):
    subprocess.run(['podman', 'stop', '-t', '5', name], check=True, stdout=subprocess.DEVNULL)


def platform_mac(name):
    """The MAC address that molecule.yml gives the container NAME (--mac-address)."""
    import yaml
    with open(os.path.join(os.environ['MOLECULE_SCENARIO_DIRECTORY'], 'molecule.yml')) as handle:
        platforms = yaml.safe_load(handle)['platforms']
    options = [option for platform in platforms if platform['name'] == name for option in platform.get('extra_opts', [])]
    return [option.split('=', 1)[1] for option in options if option.startswith('--mac-address=')][0]


def start_host(name):
    """Start a stopped fleet container and wait until Ansible reaches it over SSH again,
    which is what the tests do next. It must come back with its own MAC address: with
    another one, the controller and the other hosts would go on sending to the old one
    from their neighbour caches (molecule.yml)."""
    subprocess.run(['podman', 'start', name], check=True, stdout=subprocess.DEVNULL)
    mac = node(name).check_output('cat /sys/class/net/eth0/address')
    assert mac == platform_mac(name), '%s came back with the MAC %s, not its own %s' % (name, mac, platform_mac(name))

    def booted():
        state = node(name).run('systemctl is-system-running').stdout.strip()
        return state in ('running', 'degraded'), 'systemctl is-system-running: %r' % state

    wait_until('%s to finish booting' % name, booted, timeout=60, interval=0.5)
    wait_for_ssh([name], timeout=60)


def replica_status():
    return node(DB2).check_output('mariadb --execute=%s', 'SHOW SLAVE STATUS\\G')


def wait_for_replication(timeout=60):
    """Wait until the replica's IO and SQL threads run again; fail with its last status."""
    def running():
        status = replica_status()
        wanted = ('Slave_IO_Running: Yes', 'Slave_SQL_Running: Yes')
        seen = [line.strip() for line in status.splitlines()
                if line.strip().startswith(('Slave_IO_Running', 'Slave_SQL_Running', 'Last_IO_Error',
                                            'Last_SQL_Error', 'Master_Host'))]
        return all(line in status for line in wanted), '; '.join(seen) or status

    wait_until('the replica %s to run its IO and SQL threads again' % DB2, running, timeout=timeout)


def fleet_problems(thorough=True):
    """What differs from the fleet that converge.yml left, as sentences; [] when nothing:
    what a test stops, rotates or renews. Without THOROUGH, only whether every host runs
    and takes SSH connections (a tenth of a second, where the rest asks each host)."""
    problems = []
    states = subprocess.run(['podman', 'container', 'inspect', '--format', '{{.Name}} {{.State.Running}}'] + HOSTS,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    running = [line.split()[0] for line in states.stdout.splitlines() if line.endswith(' true')]
    for name in HOSTS:
        if name not in running:
            problems.append('%s is not running' % name)
            continue
        try:
            socket.create_connection((ADDRESS[name], 22), timeout=3).close()
        except OSError as error:
            problems.append('the controller cannot open an SSH connection to %s (%s): %s' % (name, ADDRESS[name], error))
    if not thorough:
        return problems
    for name in MAIL:
        if name in running:
            users = sorted(set(node(name).check_output("sed -n 's/^user = //p' /etc/postfix/mysql-*.cf").split()))
            if users != [READER]:
                problems.append('the client files of %s name %s, not %s' % (name, ', '.join(users) or 'no user', READER))
    if DB1 in running:
        # The reader's host entries that are locked, or that no longer REQUIRE SSL.
        for line in node(DB1).check_output(
                "mariadb --batch --skip-column-names --execute=%s",
                "SELECT CONCAT(User, '@', Host), JSON_VALUE(Priv, '$.account_locked'), JSON_VALUE(Priv, '$.ssl_type') "
                "FROM mysql.global_priv WHERE User = '%s'" % READER).splitlines():
            account, locked, ssl_type = line.split('\t')
            if locked == 'true':
                problems.append('the reader account %s is locked' % account)
            if ssl_type != '1':
                problems.append('the reader account %s does not require TLS (ssl_type %s)' % (account, ssl_type))
    for name in (DB1, DB2):
        if name in running:
            with open(os.path.join(PKI, name + '.crt')) as handle:
                first = handle.read().strip()
            if node(name).check_output('cat %s', SERVER_CERTIFICATE).strip() != first:
                problems.append('%s has another certificate than the one converge.yml gave it' % name)
    return problems


def start_stopped_hosts():
    """Start the fleet's containers that a test left stopped; the names of those started."""
    states = subprocess.run(['podman', 'container', 'inspect', '--format', '{{.Name}} {{.State.Running}}'] + HOSTS,
                            stdout=subprocess.PIPE, universal_newlines=True, check=False)
    stopped = [line.split()[0] for line in states.stdout.splitlines() if line.endswith(' false')]
    for name in stopped:
        start_host(name)
    return stopped
