# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import chrooted_map_readers, redact

# postconf -F '*/*/chroot' '*/*/command' on Debian 12's master.cf, plus a submission entry.
DEBIAN_FIELDS = '''smtp/inet/chroot = y
smtp/inet/command = smtpd
pickup/unix/chroot = y
pickup/unix/command = pickup
cleanup/unix/chroot = y
cleanup/unix/command = cleanup
rewrite/unix/chroot = y
rewrite/unix/command = trivial-rewrite
virtual/unix/chroot = n
virtual/unix/command = virtual
submission/inet/chroot = -
submission/inet/command = smtpd -o syslog_name=postfix/submission
'''


def test_chrooted_map_readers_on_debian_defaults():
    assert chrooted_map_readers(DEBIAN_FIELDS) == ['cleanup/unix', 'rewrite/unix', 'smtp/inet']


def test_no_chrooted_map_readers_when_chroot_is_off():
    assert chrooted_map_readers(DEBIAN_FIELDS.replace('= y', '= n')) == []


def test_every_daemon_that_reads_the_maps_counts_virtual_included():
    # virtual(8) looks the recipient up in virtual_mailbox_maps: chrooted, it cannot reach the socket either.
    assert chrooted_map_readers(DEBIAN_FIELDS.replace('virtual/unix/chroot = n', 'virtual/unix/chroot = y')) == [
        'cleanup/unix', 'rewrite/unix', 'smtp/inet', 'virtual/unix']
    for command in ('smtpd', 'cleanup', 'trivial-rewrite', 'virtual'):
        fields = 'x/unix/chroot = y\nx/unix/command = %s -v\n' % command
        assert chrooted_map_readers(fields) == ['x/unix'], command


def test_a_secret_that_begins_another_hides_all_of_the_longer_one():
    # Longest first: an old password that is the start of the new one must not leave the
    # new one's tail in sight.
    assert redact('password = Pw-2026-new-tail', ['Pw-2026', 'Pw-2026-new-tail']) == 'password = ********'
    assert redact('password = Pw-2026-new-tail', ['Pw-2026-new-tail', 'Pw-2026']) == 'password = ********'
