"""Stand-in for the pip bootstrap script that ansible-test downloads from a host these
machines cannot reach. ansible-test runs it inside a fresh virtual environment as
``python get-pip.py [pip options] pip==X`` to put pip there; ensurepip does the same
from the interpreter's own wheel, then pip installs the pinned version from the
package index.
"""
import ensurepip
import os
import subprocess
import sys

# Options only the real script understands.
IGNORED = {'--no-setuptools', '--no-wheel'}

ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
cert = '/etc/ssl/certs/ca-certificates.crt'
if os.path.exists(cert):
    # ansible-test does not pass PIP_CERT on; the index's chain needs the system bundle.
    args = ['--cert', cert] + args
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
