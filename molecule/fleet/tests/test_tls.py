# -*- coding: utf-8 -*-
"""TLS between the mail hosts and the database hosts, and between the replica and its
primary: every account REQUIRE SSL (a plaintext login with the right password is refused),
the client files verify the server against the fleet's CA and name, a wrong CA or a
certificate for another name fails before anything goes live and says it is TLS, and a
renewed server certificate is loaded without a restart and without a single 4xx."""

import json
import os
import subprocess

import pytest

from fleetlib import ADDRESS, DB1, DB2, MAIL, PKI, node
from mailfleet_testlib import BackgroundProbe, run_playbook, scenario_vars

SITE = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), 'playbooks', 'site.yml')
PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''
RECIPIENTS = {'john@example.org': 250, 'jack@example.org': 250, 'ann@example.com': 250, 'nobody@example.com': 550}
LIVE_FILE = '/etc/postfix/mysql-virtual-mailbox-domains.cf'


def root_sql(name, query):
    return node(name).check_output('mariadb --batch --skip-column-names --execute=%s', query)


def ask_with(name, edit):
    """postmap -q through a copy of the live client file changed by the sed script EDIT."""
    host = node(name)
    host.check_output('umask 077 && sed %s %s > /root/tls-check.cf', edit, LIVE_FILE)
    try:
        return host.run('postmap -q example.org mysql:/root/tls-check.cf')
    finally:
        host.run('rm -f /root/tls-check.cf')


def etc_postfix(name):
    """Every file of /etc/postfix with its checksum, owner and mode."""
    return node(name).check_output("cd /etc/postfix && find . -type f -printf '%p %u:%g %m ' -exec sha256sum {} \\;")


def mariadb_pid(name):
    return node(name).check_output('systemctl show --property=MainPID --value mariadb')


def served_certificate(server, client='mf-fleet-mail1'):
    """The SHA-256 fingerprint of the certificate SERVER presents to a MySQL client."""
    return node(client).check_output(
        'openssl s_client -starttls mysql -connect %s:3306 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint '
        '-sha256', server)


def file_fingerprint(path):
    return subprocess.run(['openssl', 'x509', '-noout', '-fingerprint', '-sha256', '-in', path], check=True,
                          stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()


def test_the_reader_and_replication_accounts_require_tls():
    for name in (DB1, DB2):
        types = root_sql(name, "SELECT DISTINCT User, ssl_type FROM mysql.user WHERE User IN "
                               "('mailuser', 'mailuser_b', 'replicator') ORDER BY User").splitlines()
        assert types and all(line.split('\t')[1] == 'ANY' for line in types), (name, types)


def test_a_plaintext_login_with_the_right_password_is_refused():
    for name in MAIL:
        assert ask_with(name, 's/^//').stdout.strip() == '1', name
        plaintext = ask_with(name, '/^tls_/d')
        assert plaintext.stdout == '' and 'Access denied' in plaintext.stderr, (name, plaintext.stderr)


def test_the_client_files_verify_the_server_against_the_fleet_ca():
    ca = open(os.path.join(PKI, 'ca.crt')).read().strip() + '\n'
    for name in MAIL:
        host = node(name)
        lines = host.file(LIVE_FILE).content_string.splitlines()
        ca_file = [line.split(' = ', 1)[1] for line in lines if line.startswith('tls_CAfile = ')]
        assert len(ca_file) == 1 and 'tls_verify_cert = yes' in lines, lines
        assert host.file(ca_file[0]).content_string == ca and host.file(ca_file[0]).mode == 0o644
        # Read through proxymap: the chrooted services could not open the CA file.
        assert host.check_output('postconf -h virtual_mailbox_domains') == 'proxy:mysql:' + LIVE_FILE


def test_the_replica_reads_its_primary_over_verified_tls():
    status = node(DB2).check_output('mariadb --execute=%s', 'SHOW SLAVE STATUS\\G')
    for line in ('Master_SSL_Allowed: Yes', 'Master_SSL_Verify_Server_Cert: Yes', 'Slave_IO_Running: Yes',
                 'Master_SSL_CA_File: /etc/mysql/mailfleet-tls/ca.pem'):
        assert line in status, status


def refused_before_going_live(name, extra_vars, hosts_entries=()):
    """Run site.yml on mail host NAME with EXTRA_VARS; the run must fail as TLS and change nothing."""
    host = node(name)
    before = etc_postfix(name)
    if hosts_entries:
        host.check_output('cp /etc/hosts /root/hosts.saved && printf %s >> /etc/hosts', ''.join(hosts_entries))
    try:
        rc, output, recap = run_playbook(SITE, '--limit', name, '-e', json.dumps(extra_vars))
    finally:
        if hosts_entries:
            host.check_output('cat /root/hosts.saved > /etc/hosts && rm /root/hosts.saved')
    assert rc != 0 and recap[name]['failed'] == 1 and recap[name]['changed'] == 0, output[-3000:]
    assert 'so nothing was changed' in output and 'the TLS connection to the database failed' in output, output[-3000:]
    assert '"error_kind": "tls"' in output, output[-3000:]
    assert PASSWORD not in output
    assert etc_postfix(name) == before
    return output


def test_a_ca_that_did_not_sign_the_servers_fails_before_anything_goes_live():
    other_ca = open(os.path.join(PKI, 'other', 'ca.crt')).read()
    output = refused_before_going_live(MAIL[1], {'mailfleet_postfix_db_tls_ca_certificate': other_ca})
    assert 'certificate' in output


def test_a_certificate_for_another_name_fails_before_anything_goes_live():
    # The database hosts reached under names their certificates do not carry.
    entries = ['%s db%d.other-name.test\n' % (ADDRESS[db], index) for index, db in enumerate((DB1, DB2), 1)]
    output = refused_before_going_live(
        MAIL[0], {'mailfleet_postfix_db_hosts': ['db1.other-name.test', 'db2.other-name.test']}, entries)
    assert 'Validation of SSL server certificate failed' in output or 'certificate' in output, output[-3000:]


@pytest.mark.timed
def test_a_renewed_server_certificate_is_loaded_without_a_restart_or_a_4xx():
    renewed = os.path.join(PKI, 'renewed')
    pids = dict((name, mariadb_pid(name)) for name in (DB1, DB2))
    probe = BackgroundProbe(DB2, [ADDRESS[m] for m in MAIL], sorted(RECIPIENTS))
    try:
        try:
            rc, output, recap = run_playbook(SITE, '--limit', 'mail_databases', '-e', 'mailfleet_test_pki=%s' % renewed)
            second = run_playbook(SITE, '--limit', 'mail_databases', '-e', 'mailfleet_test_pki=%s' % renewed)
        finally:
            lines, _seconds = probe.stop()
        assert rc == 0 and all(recap[db]['changed'] >= 1 for db in (DB1, DB2)), output[-3000:]
        assert second[0] == 0 and all(counts['changed'] == 0 for counts in second[2].values()), second[1][-3000:]
        for db in (DB1, DB2):
            assert mariadb_pid(db) == pids[db], db
            assert served_certificate(ADDRESS[db]) == file_fingerprint(os.path.join(renewed, db + '.crt')), db
        wrong = [line for line in lines if line['error'] or line['codes'] != RECIPIENTS]
        assert lines and not wrong, wrong[:5]
    finally:
        # Back to the first certificates, loaded the same way, whatever failed above.
        rc, output, recap = run_playbook(SITE, '--limit', 'mail_databases')
    assert rc == 0, output[-3000:]
    for db in (DB1, DB2):
        assert served_certificate(ADDRESS[db]) == file_fingerprint(os.path.join(PKI, db + '.crt')), db
        assert mariadb_pid(db) == pids[db], db


def test_tls_can_be_required_after_the_mail_hosts_moved_to_it():
    """The way a running fleet turns TLS on: a run that does not require it yet lets a plaintext
    login in, and the next ordinary run requires it again."""
    try:
        rc, output, recap = run_playbook(SITE, '--limit', 'mail_databases',
                                         '-e', 'mailfleet_database_reader_require_tls=false')
        assert rc == 0 and recap[DB1]['changed'] >= 1, output[-3000:]
        assert ask_with(MAIL[0], '/^tls_/d').stdout.strip() == '1'
    finally:
        rc, output, recap = run_playbook(SITE, '--limit', 'mail_databases')
    assert rc == 0, output[-3000:]
    test_the_reader_and_replication_accounts_require_tls()
    assert 'Access denied' in ask_with(MAIL[0], '/^tls_/d').stderr
