# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks that start their own containers share: the tools of .venv, and
removing their containers and network (stale ones of an earlier run first, then their own)."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PATH=os.path.join(ROOT, '.venv', 'bin') + ':' + os.environ['PATH'],
           ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.cache', 'collections'), ANSIBLE_NOCOLOR='1',
           ANSIBLE_FORCE_COLOR='0', ANSIBLE_HOST_KEY_CHECKING='false')


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
