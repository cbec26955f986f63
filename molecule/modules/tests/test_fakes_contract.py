"""The unit tests' fakes held to real Postfix: every kind of answer that FakePostconf and
FakePostfix (tests/unit/plugins) give is asked of real postconf and postmap on Debian 12
(Postfix 3.7) and Debian 13 (Postfix 3.10), and must be the same text, or where the fake
shortens Postfix's own text, contained in it. A unit test that passes against a fake that
answers what Postfix never would proves nothing; this is what keeps them honest.

postconf is asked in a scratch copy of the configuration directory (CONTRACT_DIR), so that
the scenario's own main.cf is never changed.
"""

import os
import re
import shlex
import sys

import pytest

from mailfleet_testlib import PROJECT_DIR

sys.path.insert(0, os.path.join(PROJECT_DIR, '.cache', 'collections'))
sys.path.insert(0, os.path.join(PROJECT_DIR, 'tests', 'unit', 'plugins'))

from fake_postconf import DEFAULTS, FakePostconf  # noqa: E402  pylint: disable=wrong-import-position
from fake_postmap import FakePostfix  # noqa: E402  pylint: disable=wrong-import-position

CONTRACT_DIR = '/etc/postfix-contract'
POSTCONF = '/usr/sbin/postconf'
POSTMAP = '/usr/sbin/postmap'
# main.cf settings the fake and the real copy both hold.
MAIN_CF = {'virtual_alias_maps': 'hash:/etc/postfix/virtual', 'relayhost': '[mx.example.org]:25'}


@pytest.fixture(scope='module')
def contract_dir(host):
    """A copy of the host's Postfix configuration with MAIN_CF set and nothing of ours in it."""
    host.check_output('rm -rf %s && cp -a /etc/postfix %s' % (CONTRACT_DIR, CONTRACT_DIR))
    names = host.check_output("postconf -c %s -n | sed 's/ =.*//' | grep -E '^(virtual_|proxy_read_maps|relayhost"
                              "|smtpd_sender_login_maps)' || true" % CONTRACT_DIR).split()
    if names:
        host.check_output('postconf -c %s -X %s' % (CONTRACT_DIR, ' '.join(names)))
    host.check_output('postconf -c %s -e %s' % (CONTRACT_DIR, ' '.join(
        shlex.quote('%s=%s' % item) for item in sorted(MAIN_CF.items()))))
    yield CONTRACT_DIR
    host.check_output('rm -rf %s' % CONTRACT_DIR)


def both(host, fake, argv):
    """(the fake's answer, the host's) to ARGV, each (rc, stdout, stderr)."""
    real = host.run(' '.join(shlex.quote(a) for a in argv))
    return fake(list(argv)), (real.rc, real.stdout, real.stderr)


def fake_for(host, config_dir):
    version = host.check_output('postconf -h mail_version')
    return FakePostconf(MAIN_CF, version=version, config_dir=config_dir)


def test_mail_version(host, contract_dir):
    fake, real = both(host, fake_for(host, contract_dir), [POSTCONF, '-c', contract_dir, '-h', 'mail_version'])
    assert fake == real


def test_explicit_settings_and_the_warning_for_an_unknown_name(host, contract_dir):
    argv = [POSTCONF, '-c', contract_dir, '-n', 'virtual_alias_maps', 'relayhost', 'virtual_mailbox_maps',
            'no_such_parameter_mailfleet']
    fake, real = both(host, fake_for(host, contract_dir), argv)
    assert fake == real


def test_a_value_and_a_default(host, contract_dir):
    fake_postconf = fake_for(host, contract_dir)
    fake, real = both(host, fake_postconf, [POSTCONF, '-c', contract_dir, '-h', 'relayhost'])
    assert fake == real
    # The fake's proxy_read_maps default is Postfix's, shortened to the parameters the tests use.
    fake, real = both(host, fake_postconf, [POSTCONF, '-c', contract_dir, '-h', 'proxy_read_maps'])
    assert (fake[0], fake[2]) == (real[0], real[2])
    assert set(DEFAULTS['proxy_read_maps'].split()) <= set(real[1].split())


def test_set_and_remove(host, contract_dir):
    fake_postconf = fake_for(host, contract_dir)
    for argv in ([POSTCONF, '-c', contract_dir, '-e', 'smtpd_banner=$myhostname ESMTP contract'],
                 [POSTCONF, '-c', contract_dir, '-n', 'smtpd_banner'],
                 [POSTCONF, '-c', contract_dir, '-X', 'smtpd_banner'],
                 [POSTCONF, '-c', contract_dir, '-n', 'smtpd_banner']):
        fake, real = both(host, fake_postconf, argv)
        assert fake == real, argv


def test_master_cf_fields_and_services(host, contract_dir):
    fake_postconf = fake_for(host, contract_dir)
    fake, real = both(host, fake_postconf, [POSTCONF, '-c', contract_dir, '-F', 'proxymap/unix/process_limit'])
    assert fake == real
    # The fake's chroot and command fields are those of Debian 12's master.cf.
    fake, real = both(host, fake_postconf, [POSTCONF, '-c', contract_dir, '-F', '*/*/chroot', '*/*/command'])
    assert (fake[0], fake[2]) == (real[0], real[2])
    field = re.compile(r'^[^/ ]+/[a-z-]+/(chroot|command) = \S.*$')
    assert all(field.match(line) for line in real[1].splitlines())
    if host.check_output('postconf -h mail_version').startswith('3.7.'):
        assert set(fake[1].splitlines()) <= set(real[1].splitlines())
    fake, real = both(host, fake_postconf, [POSTCONF, '-c', contract_dir, '-M'])
    assert (fake[0], fake[2]) == (real[0], real[2])
    real_services = set(' '.join(line.split()) for line in real[1].splitlines())
    if host.check_output('postconf -h mail_version').startswith('3.7.'):
        assert set(fake[1].splitlines()) <= real_services


def test_a_configuration_directory_that_is_not_there(host):
    # The fake answers a call without -c CONFIG_DIR the way postconf answers for a directory
    # without main.cf.
    fake = FakePostconf(config_dir='/etc/postfix-contract')([POSTCONF, '-h', 'mail_version'])
    real = host.run('%s -c /etc/postfix-nowhere -h mail_version' % POSTCONF)
    assert (fake[0] != 0) == (real.rc != 0)
    pattern = r'^/usr/sbin/postconf: fatal: open \S+/main\.cf: No such file or directory$'
    assert re.match(pattern, fake[2].strip()) and re.match(pattern, real.stderr.strip()), real.stderr


@pytest.mark.parametrize('table, keys', [
    ('mysql:/etc/postfix/mysql-virtual-alias-maps.cf', ['jack@example.org', 'nobody@example.org', 'jack@example.org']),
    ('mysql:/etc/postfix/mysql-email2email.cf', ['John@Example.org', 'john@example.org']),
    ('mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf', ['nope.example']),
])
def test_postmap_answers_keys_from_standard_input(host, table, keys):
    """FakePostfix prints what real postmap -q - prints: key TAB value for each key found, in the
    order asked (a key asked twice, twice), nothing for the others; exit 0 when one was found."""
    data = ''.join(key + '\n' for key in keys)
    real = host.run('printf %%s %s | %s -q - %s' % (shlex.quote(data), POSTMAP, table))
    answers = dict(line.split('\t', 1) for line in real.stdout.splitlines())
    fake = FakePostfix({table: answers}).answer([POSTMAP, '-q', '-', table], data)
    assert (fake.rc, fake.stdout, fake.stderr) == (real.rc, real.stdout, real.stderr)
