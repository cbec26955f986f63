# -*- coding: utf-8 -*-
"""The postfix role on real Debian hosts: files, main.cf, Postfix's own answers, safety."""

import json
import os
import time

import pytest
import yaml

from mailfleet_testlib import all_hosts, run_playbook, scenario_vars

testinfra_hosts = ['ansible://converged?ansible_inventory=' + os.environ.get('MOLECULE_INVENTORY_FILE', '')]

MAPS = {
    'virtual-mailbox-domains': "SELECT 1 FROM virtual_domains WHERE name='%s'",
    'virtual-mailbox-maps': "SELECT 1 FROM virtual_users WHERE email='%s'",
    'virtual-alias-maps': "SELECT destination FROM virtual_aliases WHERE source='%s'",
    'email2email': "SELECT email FROM virtual_users WHERE email='%s'",
}
PASSWORD = scenario_vars()['mailfleet_postfix_db_password'] if os.environ.get('MOLECULE_SCENARIO_DIRECTORY') else ''


def converged_hosts():
    return [h for h in all_hosts() if h.backend.get_hostname() != 'mf-postfix-fresh']


def snapshot(host):
    """Checksums and modes of main.cf and the client files: what a failed run must not touch."""
    result = host.run("cd /etc/postfix && stat -c '%%n %%a %%U:%%G' main.cf mysql-*.cf && sha256sum main.cf mysql-*.cf")
    assert result.rc == 0, result.stderr
    return result.stdout


def postmap(host, key, table):
    return host.run('postmap -q %s %s', key, table)


@pytest.mark.parametrize('name', sorted(MAPS))
def test_client_file_is_root_postfix_0640(host, name):
    client = host.file('/etc/postfix/mysql-%s.cf' % name)
    assert client.user == 'root'
    assert client.group == 'postfix'
    assert client.mode == 0o640


@pytest.mark.parametrize('name, query', sorted(MAPS.items()))
def test_client_file_has_the_tutorial_content(host, name, query):
    lines = [line for line in host.file('/etc/postfix/mysql-%s.cf' % name).content_string.splitlines()
             if line and not line.startswith('#')]
    # Debian 12's Postfix 3.7.11 gets its single host twice (it would put a lone host out
    # of service for 60 s after one failure); Debian 13's 3.10 has retry_interval instead.
    release = tuple(int(part) for part in host.check_output('postconf -h mail_version').split('.')[:2])
    if release >= (3, 10):
        hosts, options = '127.0.0.1', ['retry_interval = 2']
    else:
        hosts, options = '127.0.0.1 127.0.0.1', []
    assert lines == ['user = mailuser', 'password = ' + PASSWORD, 'hosts = ' + hosts,
                     'dbname = mailserver'] + options + ['query = ' + query]


def leftover_temporary_files(host):
    """The client files module's temporary files (.FILE.cf.XXXXXXXX.new) in /etc/postfix."""
    return host.run("find /etc/postfix -maxdepth 1 -name '.*.cf.*.new'").stdout.split()


def test_no_temporary_file_is_left_behind(host):
    assert leftover_temporary_files(host) == []


@pytest.mark.parametrize('parameter, value', [
    # Through proxymap (the role's default), which keeps the database connections few.
    ('virtual_mailbox_domains', 'proxy:mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf'),
    ('virtual_mailbox_maps', 'proxy:mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf'),
    ('virtual_alias_maps', 'proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, '
                           'proxy:mysql:/etc/postfix/mysql-email2email.cf'),
])
def test_main_cf_points_at_the_maps(host, parameter, value):
    assert host.check_output('postconf -h %s', parameter) == value


def test_other_main_cf_settings_stay(host):
    # Debian's own settings, written by the package, are not the role's to remove.
    assert host.check_output('postconf -n -h myhostname') != ''
    assert 'smtpd_relay_restrictions' in host.check_output('postconf -n')


def test_postfix_check_is_silent(host):
    result = host.run('postfix check')
    assert result.rc == 0 and result.stdout == '' and result.stderr == ''


def test_postfix_runs(host):
    service = host.service('postfix')
    if not service.is_running:
        print(host.run('journalctl -u postfix -u postfix@- --no-pager -n 50').stdout)
    assert service.is_running and service.is_enabled


@pytest.mark.parametrize('key, table, answer', [
    ('example.org', 'mysql:/etc/postfix/mysql-virtual-mailbox-domains.cf', '1'),
    ('john@example.org', 'mysql:/etc/postfix/mysql-virtual-mailbox-maps.cf', '1'),
    ('jack@example.org', 'mysql:/etc/postfix/mysql-virtual-alias-maps.cf', 'john@example.org'),
    ('john@example.org', 'mysql:/etc/postfix/mysql-email2email.cf', 'john@example.org'),
    ('@example.org', 'mysql:/etc/postfix/mysql-virtual-alias-maps.cf', 'catchall@example.org'),
])
def test_tutorial_postmap_answers(host, key, table, answer):
    result = postmap(host, key, table)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == answer


def test_catch_all_takes_unknown_local_parts_but_not_real_users(host):
    """Postfix's own resolution (cleanup rewrites recipients through virtual_alias_maps)."""
    host.run('postsuper -d ALL')
    host.check_output('postconf -e defer_transports=virtual')
    try:
        host.check_output('postfix reload')
        for sender, recipient in (('to-john@test.invalid', 'john@example.org'),
                                  ('to-nobody@test.invalid', 'nobody@example.org')):
            result = host.run('printf "Subject: catch-all test\\n\\nhello\\n" | sendmail -f %s %s', sender, recipient)
            assert result.rc == 0, result.stderr
        recipients = {}
        for _attempt in range(60):
            entries = [json.loads(line) for line in host.check_output('postqueue -j').splitlines() if line.strip()]
            recipients = dict((e['sender'], [r['address'] for r in e['recipients']]) for e in entries)
            if len(recipients) == 2 and all(e['queue_name'] == 'deferred' for e in entries):
                break
            time.sleep(0.5)
        assert recipients == {'to-john@test.invalid': ['john@example.org'],
                              'to-nobody@test.invalid': ['catchall@example.org']}
    finally:
        host.run('postsuper -d ALL')
        host.run('postconf -X defer_transports')
        host.run('postfix reload')


def test_check_mode_on_converged_hosts_changes_nothing():
    before = [snapshot(h) for h in converged_hosts()]
    rc, output, recap = run_playbook('converge.yml', '--check', '--diff')
    assert rc == 0, output
    assert set(recap) == {'mf-postfix-deb12', 'mf-postfix-deb13'}
    assert all(counts['changed'] == 0 for counts in recap.values()), output
    assert [snapshot(h) for h in converged_hosts()] == before


def test_check_mode_on_a_fresh_host_writes_nothing():
    rc, output, recap = run_playbook('converge.yml', '--check', '-e', 'mf_target=fresh')
    assert rc == 0, output
    assert recap['mf-postfix-fresh']['changed'] > 0  # truthful: the packages would be installed
    fresh = [h for h in all_hosts() if h.backend.get_hostname() == 'mf-postfix-fresh'][0]
    assert not fresh.file('/etc/postfix').exists
    assert not fresh.package('postfix').is_installed
    assert not fresh.package('mariadb-server').is_installed


def test_password_never_in_output_with_diff_and_vvvv_even_when_files_change():
    # A changed option makes every client file change, so a diff would have something to show.
    # The tests after this one start from these changed files; nothing needs them undone.
    rc, output, recap = run_playbook('postfix-only.yml', '--diff', '-vvvv', '-e',
                                     '{"mailfleet_postfix_map_options": {"expansion_limit": "100"}}')
    assert rc == 0, output
    assert all(counts['changed'] > 0 for counts in recap.values()), output
    assert PASSWORD not in output
    assert PASSWORD.split('#')[1] not in output
    # The diff still shows what changes, with the password masked.
    assert '+expansion_limit = 100' in output
    assert 'password = ********' in output


def test_main_cf_changed_by_hand_is_put_back():
    """The role skips its postconf call only when main.cf is right: drift is still corrected."""
    hosts = converged_hosts()
    for h in hosts:
        h.check_output('postconf -e virtual_alias_maps=proxy:mysql:/etc/postfix/mysql-email2email.cf')
    rc, output, recap = run_playbook('postfix-only.yml', '--diff', '-e',
                                     '{"mailfleet_postfix_map_options": {"expansion_limit": "100"}}')
    assert rc == 0, output
    assert all(counts['changed'] > 0 for counts in recap.values()), output
    assert '+virtual_alias_maps = proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, ' in output
    for h in hosts:
        assert h.check_output('postconf -h virtual_alias_maps') == (
            'proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, proxy:mysql:/etc/postfix/mysql-email2email.cf')


def test_wrong_owner_and_mode_are_corrected_in_place():
    hosts = converged_hosts()
    path = '/etc/postfix/mysql-email2email.cf'
    before = [h.check_output('sha256sum %s', path) for h in hosts]
    for h in hosts:
        h.check_output('chgrp root %s && chmod 0604 %s', path, path)
    # The options of the test before, so that only owner and mode differ.
    rc, output, recap = run_playbook('postfix-only.yml', '--diff', '-e',
                                     '{"mailfleet_postfix_map_options": {"expansion_limit": "100"}}')
    assert rc == 0, output
    assert all(counts['changed'] > 0 for counts in recap.values()), output
    assert 'root:root 0604' in output and 'root:postfix 0640' in output
    for h, checksum in zip(hosts, before):
        client = h.file(path)
        assert (client.user, client.group, client.mode) == ('root', 'postfix', 0o640)
        assert h.check_output('sha256sum %s', path) == checksum


def test_wrong_password_fails_and_changes_nothing():
    before = [snapshot(h) for h in converged_hosts()]
    wrong = 'Wr0ng#secret-never-shown'
    rc, output, _recap = run_playbook('postfix-only.yml', '-vvv', '-e', json.dumps({'mailfleet_postfix_db_password': wrong}))
    assert rc != 0
    assert 'Access denied' in output
    assert 'mysql-virtual-mailbox-domains.cf' in output and '127.0.0.1' in output
    assert wrong not in output and PASSWORD not in output
    assert [snapshot(h) for h in converged_hosts()] == before
    assert not any(leftover_temporary_files(h) for h in converged_hosts())


def test_stopped_database_fails_and_changes_nothing():
    hosts = converged_hosts()
    before = [snapshot(h) for h in hosts]
    for h in hosts:
        h.check_output('systemctl stop mariadb.socket mariadb.service')
    try:
        # A pending change (any value other than the current one) makes the role validate.
        rc, output, _recap = run_playbook('postfix-only.yml', '-e', '{"mailfleet_postfix_map_options": {"expansion_limit": "200"}}')
        assert rc != 0
        assert "Can't connect" in output and '127.0.0.1' in output
        assert [snapshot(h) for h in hosts] == before
    finally:
        for h in hosts:
            h.run('systemctl start mariadb.socket mariadb.service')


def test_localhost_with_chrooted_daemons_is_refused():
    extra = json.dumps({'mailfleet_postfix_db_hosts': ['localhost'], 'mailfleet_postfix_proxy': False})
    rc, output, _recap = run_playbook('postfix-only.yml', '-e', extra)
    assert rc != 0
    assert '127.0.0.1' in output and 'mailfleet_postfix_proxy' in output and 'smtp/inet' in output


def test_unsupported_option_is_refused_on_postfix_before_3_9():
    rc, output, recap = run_playbook('postfix-only.yml', '-e', '{"mailfleet_postfix_map_options": {"retry_interval": "30"}}')
    assert rc != 0
    assert 'Postfix 3.7' in output and 'retry_interval' in output
    # Debian 13's Postfix 3.10 knows the option: the host was not stopped by Debian 12's failure.
    assert recap['mf-postfix-deb13']['failed'] == 0, output
    assert recap['mf-postfix-deb13']['changed'] > 0, output


def test_validation_catches_what_postfix_itself_refuses():
    """A value Postfix rejects (3.10 wants seconds as a number) never reaches the live files."""
    deb13 = [h for h in converged_hosts() if h.backend.get_hostname() == 'mf-postfix-deb13']
    before = [snapshot(h) for h in deb13]
    rc, output, _recap = run_playbook('postfix-only.yml', '--limit', 'mf-postfix-deb13', '-e',
                                      '{"mailfleet_postfix_map_options": {"retry_interval": "30s"}}')
    assert rc != 0
    assert 'bad numerical configuration: retry_interval = 30s' in output
    assert [snapshot(h) for h in deb13] == before


# ---------------------------------------------------------------- maps with a life cycle

def client_files(host):
    return sorted(host.check_output('ls /etc/postfix').split())


def checksums(host):
    return dict(line.split()[::-1] for line in host.check_output('cd /etc/postfix && sha256sum mysql-*.cf').splitlines())


def where_postfix_delivers(host, recipients):
    """Where the RUNNING Postfix sends mail for each recipient (its cleanup rewrites through
    virtual_alias_maps as loaded at its last reload), read from the deferred queue."""
    host.run('postsuper -d ALL')
    host.check_output('postconf -e defer_transports=virtual')
    try:
        host.check_output('postfix reload')
        for index, recipient in enumerate(recipients):
            result = host.run('printf "Subject: where\\n\\nhello\\n" | sendmail -f from-%s@test.invalid %s',
                              str(index), recipient)
            assert result.rc == 0, result.stderr
        found = {}
        for _attempt in range(60):
            entries = [json.loads(line) for line in host.check_output('postqueue -j').splitlines() if line.strip()]
            found = dict((e['sender'], sorted(r['address'] for r in e['recipients'])) for e in entries)
            if len(found) == len(recipients) and all(e['queue_name'] == 'deferred' for e in entries):
                break
            time.sleep(0.5)
        return dict((recipient, found.get('from-%d@test.invalid' % index)) for index, recipient in enumerate(recipients))
    finally:
        host.run('postsuper -d ALL')
        host.run('postconf -X defer_transports')
        host.run('postfix reload')


# Without the identity map, postmap's literal lookup of john finds nothing in the aliases:
# the checks say so (and a check of the retired map itself would be refused).
RETIRE_EMAIL2EMAIL = json.dumps({
    'mailfleet_postfix_maps': [{'name': 'email2email', 'state': 'absent'}],
    'mailfleet_postfix_checks': [{'parameter': 'virtual_alias_maps',
                                  'expect': {'jack@example.org': 'john@example.org', 'john@example.org': None}}],
})


def test_a_retired_map_leaves_main_cf_and_disk_and_the_running_postfix():
    hosts = converged_hosts()
    try:
        rc, output, recap = run_playbook('postfix-only.yml', '--diff', '-e', RETIRE_EMAIL2EMAIL)
        assert rc == 0, output
        assert all(counts['changed'] > 0 for counts in recap.values()), output
        assert PASSWORD not in output
        for h in hosts:
            assert 'mysql-email2email.cf' not in client_files(h)
            assert h.check_output('postconf -h virtual_alias_maps') == 'proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf'
            check = h.run('postfix check')
            assert (check.rc, check.stdout, check.stderr) == (0, '', '')
        # Again: nothing left to do. The checks' answers are left for the playbook.
        rc, output, recap = run_playbook('postfix-only.yml', '-e', RETIRE_EMAIL2EMAIL)
        assert rc == 0 and all(counts['changed'] == 0 for counts in recap.values()), output
        assert output.count('checks answered: jack@example.org=john@example.org john@example.org=(not found)') == len(hosts), output
        # Without the identity map, the catch-all takes john's mail: what retiring it means, and
        # proof that the running Postfix was reloaded with the new main.cf.
        assert where_postfix_delivers(hosts[0], ['john@example.org']) == {'john@example.org': ['catchall@example.org']}
    finally:
        rc, output, _recap = run_playbook('postfix-only.yml')
        assert rc == 0, output
    for h in hosts:
        assert 'mysql-email2email.cf' in client_files(h)
    assert where_postfix_delivers(hosts[0], ['john@example.org']) == {'john@example.org': ['john@example.org']}


def test_retiring_in_check_mode_changes_nothing():
    before = [snapshot(h) for h in converged_hosts()]
    rc, output, recap = run_playbook('postfix-only.yml', '--check', '--diff', '-e', RETIRE_EMAIL2EMAIL)
    assert rc == 0, output
    assert all(counts['changed'] > 0 for counts in recap.values()), output
    assert ('-virtual_alias_maps = proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, '
            'proxy:mysql:/etc/postfix/mysql-email2email.cf') in output
    assert [snapshot(h) for h in converged_hosts()] == before


def test_a_retired_map_still_named_by_another_setting_changes_nothing():
    hosts = converged_hosts()
    for h in hosts:
        h.check_output('postconf -e smtpd_sender_login_maps=mysql:/etc/postfix/mysql-email2email.cf')
    try:
        before = [snapshot(h) for h in hosts]
        rc, output, _recap = run_playbook('postfix-only.yml', '-e', RETIRE_EMAIL2EMAIL)
        assert rc != 0
        assert ('main.cf smtpd_sender_login_maps still names /etc/postfix/mysql-email2email.cf (map email2email)'
                in output), output
        assert [snapshot(h) for h in hosts] == before
    finally:
        for h in hosts:
            h.check_output('postconf -X smtpd_sender_login_maps')


@pytest.mark.parametrize('extra, fragments', [
    ({'mailfleet_postfix_maps': [{'name': 'email2email', 'state': 'gone'}]},
     ['mailfleet_postfix_maps', 'state must be one of']),
    ({'mailfleet_postfix_maps': [{'name': 'x/y', 'query': 'SELECT 1'}]},
     ["mailfleet_postfix_maps[0] ('x/y'): the name must be letters"]),
    ({'mailfleet_postfix_maps': [{'name': 'extra'}]},
     ["mailfleet_postfix_maps: map 'extra': the query must not be empty"]),
    ({'mailfleet_postfix_map_options': {'tls_verify': True}},
     ["mailfleet_postfix_map_options: 'tls_verify' is not a mysql_table(5) option"]),
    ({'mailfleet_postfix_db_hosts': ['db1:port']}, ['mailfleet_postfix_db_hosts', 'the port must be a number']),
    ({'mailfleet_postfix_db_password': ' padded'}, ['mailfleet_postfix_db_password starts or ends with a blank']),
    ({'mailfleet_postfix_db_password': ['Pw-List-One-913', 'Pw-List-Two-913']},
     ['mailfleet_postfix_db_password must be a single string, not a list']),
    ({'mailfleet_postfix_extra_settings': {'virtual_alias_maps': 'hash:/etc/postfix/virtual'}},
     ['mailfleet_postfix_extra_settings sets virtual_alias_maps, which the maps set']),
    ({'mailfleet_postfix_sender_login_maps': ['senders']},
     ["mailfleet_postfix_sender_login_maps: 'senders' is not a present map"]),
    ({'mailfleet_postfix_checks': [{'map': 'email2email', 'parameter': 'virtual_alias_maps', 'expect': {}}]},
     ['mutually exclusive', 'map|parameter']),
    ({'mailfleet_postfix_maps': [{'name': 'email2email', 'state': 'absent'}]},
     ["mailfleet_postfix_checks[3]: map 'email2email' is not a present map"]),
    ({'mailfleet_postfix_db_user': 'root'}, ["mailfleet_postfix_db_user: 'root' is an account of the database server"]),
    ({'mailfleet_postfix_db_password': u'Te5t#line\u2028separated'},
     ['mailfleet_postfix_db_password contains a control character or a line separator']),
    ({'mailfleet_postfix_db_name': 'mail%server'}, ["mailfleet_postfix_db_name: 'mail%server' must be 1 to 64 letters"]),
    ({'mailfleet_postfix_mailname': 'mail.example.org\npostfix postfix/main_mailer_type select No configuration'},
     ['mailfleet_postfix_mailname: ', 'a mail name is one domain name']),
], ids=['state', 'name', 'no-query', 'option', 'port', 'password-blank', 'password-list', 'settings-fight', 'sender-login', 'checks',
        'check-of-a-retired-map', 'user-root', 'password-line-separator', 'dbname-percent', 'mailname-newline'])
def test_bad_input_fails_on_the_controller_before_the_host_is_asked(extra, fragments):
    before = [snapshot(h) for h in converged_hosts()]
    rc, output, recap = run_playbook('postfix-only.yml', '-e', json.dumps(extra))
    assert rc != 0
    for fragment in fragments:
        assert fragment in output, output
    assert 'Traceback' not in output and PASSWORD not in output and 'Pw-List-One-913' not in output
    # Refused by the argument spec or the first task: the host was never asked anything.
    assert 'Read what Postfix this host has' not in output
    assert all(counts['changed'] == 0 for counts in recap.values())
    assert [snapshot(h) for h in converged_hosts()] == before


# ------------------------------------------------------------ what was there before

def first_copies(host, name):
    return host.check_output("find /etc/postfix -maxdepth 1 -name '%s.before-mailfleet.*~' | sort" % name).split()


@pytest.mark.parametrize('name', ['main.cf', 'master.cf'])
def test_the_files_as_debian_left_them_are_kept_once_before_the_first_change(name):
    for h in converged_hosts():
        # converge, idempotence and every test before this one changed main.cf: still one copy.
        (copy,) = first_copies(h, name)
        assert h.check_output("stat -c '%%a %%U:%%G' %s", copy) == '640 root:root'
        text = h.check_output('cat %s', copy)
        assert 'mysql:' not in text and 'mailfleet' not in text
    # Check mode on a host never changed keeps nothing.
    fresh = [h for h in all_hosts() if h.backend.get_hostname() == 'mf-postfix-fresh'][0]
    assert first_copies(fresh, name) == []


def test_overriding_maps_by_name_changes_only_those_and_the_starting_point_reads_them_back(tmp_path):
    """Two maps overridden by name: one query, and the identity map in a file of its own
    written by hand (no header), mariadb-email2email.cf as the trixie edition of the ISPmail
    guide names it, which the map adopts under that name."""
    hosts = converged_hosts()
    before = [(checksums(h), h.check_output('postconf -h proxy_read_maps')) for h in hosts]
    hand_made = '/etc/postfix/mariadb-email2email.cf'
    query = "SELECT destination FROM virtual_aliases WHERE source='%s' AND destination <> ''"
    override = json.dumps({'mailfleet_postfix_maps': [{'name': 'virtual-alias-maps', 'query': query},
                                                      {'name': 'email2email', 'file': 'mariadb-email2email.cf'}]})
    for h in hosts:
        h.check_output("grep -v '^#' /etc/postfix/mysql-email2email.cf > %s && chgrp postfix %s && chmod 0640 %s",
                       hand_made, hand_made, hand_made)
    try:
        rc, output, recap = run_playbook('postfix-only.yml', '--diff', '-e', override)
        assert rc == 0 and PASSWORD not in output, output
        for h, (old, _proxy_read_maps) in zip(hosts, before):
            new = checksums(h)
            assert sorted(name for name in new if new[name] != old.get(name)) == ['mysql-virtual-alias-maps.cf']
            assert 'query = %s\n' % query in h.check_output('cat /etc/postfix/mysql-virtual-alias-maps.cf') + '\n'
            assert h.check_output('postconf -h virtual_alias_maps') == (
                'proxy:mysql:/etc/postfix/mysql-virtual-alias-maps.cf, proxy:mysql:%s' % hand_made)
            assert h.check_output('head -1 %s', hand_made).startswith('# Managed by mailfleet.postfix_mysql')
            assert h.check_output("stat -c '%%a %%U:%%G' %s", hand_made) == '640 root:postfix'
            (copy,) = first_copies(h, 'mariadb-email2email.cf')
            assert h.check_output("stat -c '%%a %%U:%%G' %s", copy) == '640 root:postfix'
            assert h.check_output('cat %s', copy) == h.check_output("grep -v '^#' %s", hand_made)
            assert postmap(h, 'john@example.org', 'proxy:mysql:%s' % hand_made).stdout.strip() == 'john@example.org'
        # The starting point read from the hosts as they are now names the query and the map's own
        # file. Its files, in host_vars beside an inventory of the groups, with the password from
        # the "vault", give the role nothing to change: the same configuration, read back.
        inventory = tmp_path / 'groups.yml'
        inventory.write_text('mail_servers:\n  children:\n    converged:\nmail_databases:\n  children:\n    converged:\n')
        # The containers are reached as root, without sudo.
        rc, output, recap = run_playbook('mailfleet.postfix_mysql.starting_point', '-i', str(inventory),
                                         '-e', json.dumps({'mailfleet_starting_point_dir': str(tmp_path / 'host_vars'),
                                                           'ansible_become': False}))
        # It writes on the controller only: the hosts are compared with what they were at the end.
        assert rc == 0 and PASSWORD not in output, output
        for h in hosts:
            read = dict((role, (tmp_path / 'host_vars' / h.backend.get_hostname() / ('%s.yml' % role)).read_text())
                        for role in ('postfix', 'database'))
            assert PASSWORD not in read['postfix'] + read['database']
            found = yaml.safe_load(read['postfix'].split('---\n', 1)[1])
            assert found['mailfleet_postfix_maps'] == [{'name': 'virtual-alias-maps', 'query': query},
                                                       {'name': 'email2email', 'file': 'mariadb-email2email.cf'}], read
            assert found['mailfleet_postfix_db_password'] == '{{ vault_mailfleet_postfix_db_password }}'
            found = yaml.safe_load(read['database'].split('---\n', 1)[1])
            assert found == dict(mailfleet_database_name='mailserver', mailfleet_database_reader_user='mailuser',
                                 mailfleet_database_reader_password='{{ vault_mailfleet_postfix_db_password }}',
                                 mailfleet_database_reader_hosts=['127.0.0.1']), read
        rc, output, recap = run_playbook('postfix-only.yml', '--check', '-i', str(inventory),
                                         '-e', json.dumps({'vault_mailfleet_postfix_db_password': PASSWORD}))
        assert rc == 0 and all(recap[h.backend.get_hostname()]['changed'] == 0 for h in hosts), output
    finally:
        rc, output, _recap = run_playbook('postfix-only.yml')
        for h, (_sums, proxy_read_maps) in zip(hosts, before):
            h.check_output('rm -f %s %s.before-mailfleet.*~ && postconf -e proxy_read_maps=%s && postfix reload',
                           hand_made, hand_made, proxy_read_maps)
        assert rc == 0, output
    assert [(checksums(h), h.check_output('postconf -h proxy_read_maps')) for h in hosts] == before
