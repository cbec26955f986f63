# -*- coding: utf-8 -*-
"""Servers built by hand from the ISPmail guide (prepare.yml), adopted the way the adoption
guide says: the starting point read from each server, site.yml with --check --diff, the first
real run, a password rotation and a changed reader password, each while an SMTP probe (from
the other server's address) and a Dovecot login probe (with the password John set in the
webmail) run. Nothing may be refused, and nothing of the admin's or the users' lost.

Each server is a fleet of its own (database and mail host in one, as in the guide), with the
inventory the guide has its admin write: the starting point's files in host_vars, the vault's
password and the one mailbox the admin chose to declare in group_vars. The tests build on
each other, in this order.
"""

import concurrent.futures
import contextlib
import json
import os

import pytest
import yaml

from mailfleet_testlib import (PROJECT_DIR, SCENARIO_DIR, BackgroundProbe, LoginProbe, all_hosts, container_address,
                               run_playbook, scenario_vars, sql)

SITE = 'mailfleet.postfix_mysql.site'
ROTATE = 'mailfleet.postfix_mysql.rotate_db_password'
MAPS = ('virtual-mailbox-domains', 'virtual-mailbox-maps', 'virtual-alias-maps', 'email2email')
JOHN = 'john@example.org'
# What John chose in the webmail (Roundcube's password plugin writes its hash).
WEBMAIL_PASSWORD = 'Winter rain#2026'
# The recipients the SMTP probe asks for: the guide's mailbox and alias, a mailbox the admin
# made in the webmail, and one that does not exist.
REAL = ['john@example.org', 'jack@example.org', 'office@example.org']
UNKNOWN = 'nobody@example.org'
# New reader passwords for the rotation: Dovecot 2.3 cannot take a blank in its connect
# string, 2.4 can; both get the characters that need Dovecot's quoting.
ROTATED = {'bookworm': 'R0tated#"quoted\\pass', 'trixie': 'R0tated #"quoted\\ pass%{x}'}
DOVECOT_FILES = {'bookworm': '/etc/dovecot/dovecot-sql.conf.ext', 'trixie': '/etc/dovecot/conf.d/auth-sql.conf.ext'}
HEADER = '# Managed by mailfleet.postfix_mysql'
# The probes' counts, kept for the record beside make test's other logs.
PROBE_LOG = os.path.join(PROJECT_DIR, '.cache', 'test-logs', 'adopt-probes.jsonl')

# What a run must not change when it changes nothing: files, modes and owners of Postfix's,
# Dovecot's and MariaDB's settings and of systemd's units, and every account, grant and row.
FILES_STATE = ("cd /etc && find postfix dovecot mysql systemd/system -printf '%p %m %u:%g\\n' | sort && "
               "find postfix dovecot mysql -type f -exec sha256sum {} + | sort")
DATABASE_STATE = (
    'SELECT User, Host, Priv FROM mysql.global_priv ORDER BY User, Host',
    'SELECT * FROM mysql.db ORDER BY Host, Db, User',
    'SELECT * FROM mysql.tables_priv ORDER BY Host, Db, User, Table_name',
    'SELECT * FROM mysql.columns_priv ORDER BY Host, Db, User, Table_name, Column_name',
    'SELECT * FROM mailserver.virtual_domains ORDER BY id',
    'SELECT * FROM mailserver.virtual_users ORDER BY id',
    'SELECT * FROM mailserver.virtual_aliases ORDER BY id',
)


def built(name):
    """How prepare.yml built NAME: the host_vars of molecule.yml."""
    with open(os.path.join(SCENARIO_DIR, 'molecule.yml')) as handle:
        return yaml.safe_load(handle)['provisioner']['inventory']['host_vars'][name]


def hand_password():
    return scenario_vars()['mf_hand_reader_password']


def john_hash():
    # molecule.yml doubles each $ for molecule's own variable expansion.
    return scenario_vars()['mf_john_hash'].replace('$$', '$')


def state(host):
    return host.check_output(FILES_STATE), [sql(host, query) for query in DATABASE_STATE]


@pytest.fixture(scope='module')
def servers():
    return dict((h.backend.get_hostname(), h) for h in all_hosts())


@pytest.fixture(scope='module')
def inventories(servers, tmp_path_factory):
    """{name: directory}: the inventory of each server as the guide has its admin write it:
    hosts.yml with the server in both groups, group_vars/all.yml with the vault's password and
    the mailbox the admin declares, and host_vars/NAME/ filled by the starting point."""
    found = {}
    for name in servers:
        directory = tmp_path_factory.mktemp(name)
        (directory / 'hosts.yml').write_text(yaml.safe_dump({'all': {'children': {
            'mail_servers': {'hosts': {name: None}}, 'mail_databases': {'hosts': {name: None}}}}}))
        (directory / 'group_vars').mkdir()
        (directory / 'group_vars' / 'all.yml').write_text(yaml.safe_dump({
            # The containers are reached as root, without sudo.
            'ansible_become': False,
            # The "vault": the password the client files have today.
            'vault_mailfleet_postfix_db_password': hand_password(),
            # The guide's test mailbox, with the hash it was made with; John has changed his
            # password in the webmail since (the second test).
            'mailfleet_database_domains': [{'name': 'example.org'}],
            'mailfleet_database_users': [{'email': JOHN, 'password_hash': john_hash()}],
        }))
        found[name] = directory
    return found


def on_each(servers, inventories, playbook, *args, **per_host):
    """PLAYBOOK on every server at once, each with its own inventory, plus the extra vars
    per_host['extra'](name) if given: {name: (rc, output, recap)}."""
    extra = per_host.get('extra', lambda name: {})

    def run(name):
        return run_playbook(playbook, '-i', str(inventories[name] / 'hosts.yml'), '-e', json.dumps(extra(name)), *args)

    with concurrent.futures.ThreadPoolExecutor(len(servers)) as pool:
        futures = dict((name, pool.submit(run, name)) for name in servers)
        return dict((name, future.result()) for name, future in futures.items())


@contextlib.contextmanager
def probes(servers, step):
    """For the block's duration: SMTP sessions from each server to the other's address (RCPT
    for REAL and UNKNOWN), and Dovecot logins as John with his webmail password on each.
    Yields {name: {'smtp': [session], 'logins': n, 'failed_logins': [line]}}, filled at the
    end, and logs the counts of STEP in PROBE_LOG."""
    names = sorted(servers)
    smtp = dict((name, BackgroundProbe(other, [container_address(name)], REAL + [UNKNOWN]))
                for name, other in zip(names, reversed(names)))
    logins = dict((name, LoginProbe(name, JOHN, WEBMAIL_PASSWORD)) for name in names)
    outcome = {}
    try:
        yield outcome
    finally:
        for name in names:
            sessions, _seconds = smtp[name].stop()
            good, failed = logins[name].stop()
            outcome[name] = dict(smtp=sessions, logins=len(good), failed_logins=failed)
        os.makedirs(os.path.dirname(PROBE_LOG), exist_ok=True)
        with open(PROBE_LOG, 'a') as log:
            for name in names:
                seen = outcome[name]
                log.write(json.dumps(dict(
                    step=step, host=name, smtp_sessions=len(seen['smtp']),
                    refused_or_failed=len([s for s in seen['smtp'] if s['error'] or any(
                        s['codes'].get(rcpt) != 250 for rcpt in REAL)]),
                    unknown_accepted=len([s for s in seen['smtp'] if s['codes'].get(UNKNOWN) == 250]),
                    logins=seen['logins'], failed_logins=len(seen['failed_logins']))) + '\n')


def probe_problems(outcome):
    """Every refused or deferred real recipient, accepted unknown one, broken session and
    failed login that the probes saw, one line each."""
    problems = []
    for name, seen in sorted(outcome.items()):
        if not seen['smtp']:
            problems.append('%s: no SMTP session was made' % name)
        for session in seen['smtp']:
            if session['error']:
                problems.append('%s: %s' % (name, session['error']))
                continue
            for rcpt in REAL:
                if session['codes'].get(rcpt) != 250:
                    problems.append('%s: RCPT %s got %s' % (name, rcpt, session['codes'].get(rcpt)))
            if not 500 <= (session['codes'].get(UNKNOWN) or 0) < 600:
                problems.append('%s: RCPT %s got %s' % (name, UNKNOWN, session['codes'].get(UNKNOWN)))
        if not seen['logins']:
            problems.append('%s: no Dovecot login worked' % name)
        problems.extend('%s: %s' % (name, line) for line in seen['failed_logins'])
    return problems


def client_file(name, map_name):
    return '/etc/postfix/%s%s.cf' % (built(name)['mf_client_file_prefix'], map_name)


def first_copies(host, path):
    """The copies the role kept of PATH before its first change."""
    return host.check_output('ls -1d %s.before-mailfleet.*~ 2>/dev/null || true' % path).split()


def locked(host, account):
    rows = sql(host, "SELECT JSON_VALUE(Priv, '$.account_locked') FROM mysql.global_priv WHERE User = '%s'" % account)
    assert rows, 'no account %s' % account
    return all(row[0] in ('1', 'true') for row in rows)


def login_works(host, password=WEBMAIL_PASSWORD):
    return host.run('doveadm auth test %s %s', JOHN, password).rc == 0


# ------------------------------------------------------------ read, then look

def test_the_starting_point_reads_each_edition_as_it_was_built(servers, inventories):
    results = on_each(servers, inventories, 'mailfleet.postfix_mysql.starting_point', extra=lambda name: {
        'mailfleet_starting_point_dir': str(inventories[name] / 'host_vars')})
    for name, (rc, output, _recap) in results.items():
        assert rc == 0, output[-3000:]
        assert hand_password() not in output
        edition = built(name)
        read = dict((role, (inventories[name] / 'host_vars' / name / ('%s.yml' % role)).read_text())
                    for role in ('postfix', 'database'))
        assert hand_password() not in read['postfix'] + read['database']
        postfix = yaml.safe_load(read['postfix'].split('---\n', 1)[1])
        # Adopting renames nothing: the bookworm edition's files have the role's own names, the
        # trixie edition's are kept with `file`.
        maps = [] if edition['mf_client_file_prefix'] == 'mysql-' else [
            {'name': map_name, 'file': 'mariadb-%s.cf' % map_name} for map_name in MAPS]
        assert postfix == dict(
            mailfleet_postfix_db_user=edition['mf_reader'],
            mailfleet_postfix_db_password='{{ vault_mailfleet_postfix_db_password }}',
            mailfleet_postfix_db_hosts=[edition['mf_reader_host']],
            mailfleet_postfix_db_name='mailserver',
            mailfleet_postfix_proxy=False,
            **(dict(mailfleet_postfix_maps=maps) if maps else {})), read['postfix']
        database = yaml.safe_load(read['database'].split('---\n', 1)[1])
        assert database == dict(
            mailfleet_database_name='mailserver', mailfleet_database_reader_user=edition['mf_reader'],
            mailfleet_database_reader_password='{{ vault_mailfleet_postfix_db_password }}',
            mailfleet_database_reader_hosts=[edition['mf_reader_host']]), read['database']


def test_check_mode_with_the_diff_changes_nothing_on_the_servers(servers, inventories):
    # John changes his password in the webmail first, as the guide's users do.
    for name, host in servers.items():
        webmail_hash = host.check_output('doveadm pw -s BLF-CRYPT -p %s', WEBMAIL_PASSWORD)
        sql(host, "UPDATE mailserver.virtual_users SET password = '%s' WHERE email = '%s'" % (webmail_hash, JOHN))
        assert login_works(host), name
    before = dict((name, state(host)) for name, host in servers.items())
    for name, (rc, output, recap) in on_each(servers, inventories, SITE, '--check', '--diff').items():
        assert rc == 0, output[-3000:]
        assert hand_password() not in output
        # Truthful: the first real run will change things, and says so.
        assert recap[name]['changed'] > 0, output[-3000:]
        assert state(servers[name]) == before[name]


# ------------------------------------------------------------ the first run

def test_the_first_run_refuses_no_recipient_and_no_login_and_keeps_what_is_theirs(servers, inventories):
    before = dict((name, state(host)) for name, host in servers.items())
    with probes(servers, 'site.yml, the first run') as outcome:
        results = on_each(servers, inventories, SITE, '--diff')
    for name, (rc, output, _recap) in results.items():
        assert rc == 0, output[-3000:]
        assert hand_password() not in output
    assert probe_problems(outcome) == []

    for name, host in servers.items():
        _files, (accounts, db_grants, table_grants, column_grants, domains, users, aliases) = before[name]
        _files, (accounts_now, db_grants_now, table_grants_now, column_grants_now, domains_now, users_now,
                 aliases_now) = state(host)
        # The rows, John's webmail password and the admin's mailbox with its quota among them,
        # the accounts (the reader's password included) and the grants are as they were.
        assert (domains_now, users_now, aliases_now) == (domains, users, aliases)
        assert login_works(host)
        assert accounts_now == accounts and db_grants_now == db_grants
        assert (table_grants_now, column_grants_now) == (table_grants, column_grants)
        # Every client file keeps its name, is the collection's now, and was kept once as built.
        for map_name in MAPS:
            path = client_file(name, map_name)
            assert host.check_output('head -1 %s', path).startswith(HEADER), path
            assert host.check_output("stat -c '%%a %%U:%%G' %s", path) == '640 root:postfix'
            (copy,) = first_copies(host, path)
            assert host.check_output("stat -c '%%a %%U:%%G' %s", copy) == '640 root:postfix'
            assert host.check_output('cmp %s /root/as-built/postfix/%s && echo same', copy,
                                     os.path.basename(path)) == 'same'
        # main.cf and master.cf: one copy as built if the run changed them, none otherwise.
        for path in ('/etc/postfix/main.cf', '/etc/postfix/master.cf'):
            as_built = '/root/as-built/postfix/' + os.path.basename(path)
            if host.run('cmp -s %s %s', path, as_built).rc == 0:
                assert first_copies(host, path) == [], path
            else:
                (copy,) = first_copies(host, path)
                assert host.check_output('cmp %s %s && echo same', copy, as_built) == 'same'
        # Dovecot's files are not the postfix role's business.
        path = DOVECOT_FILES[built(name)['mf_edition']]
        assert host.check_output('cmp %s /root/as-built/dovecot/%s && echo same', path,
                                 path[len('/etc/dovecot/'):]) == 'same'

    for name, (rc, output, recap) in on_each(servers, inventories, SITE).items():
        assert rc == 0 and recap[name]['changed'] == 0, output[-3000:]


# ------------------------------------------------------------ the password rotation

def test_a_password_dovecot_2_3_cannot_take_is_refused_before_anything_moves(servers, inventories):
    (name,) = [name for name in servers if built(name)['mf_edition'] == 'bookworm']
    host = servers[name]
    before = state(host)
    rc, output, _recap = run_playbook(ROTATE, '-i', str(inventories[name] / 'hosts.yml'),
                                      '-e', json.dumps({'vault_mailfleet_postfix_db_password': 'Two words#2.3'}))
    assert rc != 0
    assert ('mailfleet_postfix_db_password holds a blank, and Dovecot 2.3 on this host '
            '(/etc/dovecot/dovecot-sql.conf.ext) splits its connect string at blanks') in output, output[-3000:]
    assert 'Two words' not in output and hand_password() not in output
    assert state(host) == before


def test_an_account_the_inventory_does_not_know_is_refused_before_anything_moves(servers, inventories):
    (name,) = [name for name in servers if built(name)['mf_edition'] == 'trixie']
    host = servers[name]
    path = DOVECOT_FILES['trixie']
    host.check_output('sed -i "s/^  user = mailserver$/  user = webmail/" %s', path)
    try:
        before = state(host)
        rc, output, _recap = run_playbook(ROTATE, '-i', str(inventories[name] / 'hosts.yml'),
                                          '-e', json.dumps({'vault_mailfleet_postfix_db_password': ROTATED['trixie']}))
        assert rc != 0
        assert ('%s line 4: Dovecot logs in as webmail, which is neither a reader account (mailserver, mailserver_b) '
                'nor mailfleet_database_dovecot_user' % path) in output, output[-3000:]
        assert ROTATED['trixie'] not in output and hand_password() not in output
        assert state(host) == before
    finally:
        host.run('sed -i "s/^  user = webmail$/  user = mailserver/" %s', path)
    assert host.check_output('cmp %s /root/as-built/dovecot/conf.d/auth-sql.conf.ext && echo same', path) == 'same'


def test_a_rotation_leaves_dovecot_alone_when_told_then_moves_it_without_a_refused_login(servers, inventories):
    def new_password(name):
        return {'vault_mailfleet_postfix_db_password': ROTATED[built(name)['mf_edition']]}

    # Told to leave Dovecot alone, the rotation moves Postfix but does not lock the account
    # Dovecot still names, and says which file names it.
    with probes(servers, 'rotate_db_password.yml, Dovecot left alone') as outcome:
        results = on_each(servers, inventories, ROTATE, '-e', 'mailfleet_rotation_move_dovecot=false', extra=new_password)
    assert probe_problems(outcome) == []
    for name, (rc, output, _recap) in results.items():
        host, edition = servers[name], built(name)
        dovecot_file = DOVECOT_FILES[edition['mf_edition']]
        assert rc != 0, output[-3000:]
        assert '%s was not locked: on %s, Dovecot (%s) still name(s) it' % (
            edition['mf_reader'], name, dovecot_file) in output, output[-3000:]
        assert '%s_b' % edition['mf_reader'] not in host.file(dovecot_file).content_string
        assert not locked(host, edition['mf_reader']), name

    # The next run moves Dovecot too. Dovecot ends on the other account with its file's owner
    # and mode kept, and the old account is locked.
    with probes(servers, 'rotate_db_password.yml') as outcome:
        results = on_each(servers, inventories, ROTATE, extra=new_password)
    assert probe_problems(outcome) == []
    for name, (rc, output, _recap) in results.items():
        host, edition = servers[name], built(name)
        assert rc == 0, output[-3000:]
        assert ROTATED[edition['mf_edition']] not in output and hand_password() not in output
        config = host.file(DOVECOT_FILES[edition['mf_edition']])
        assert '%s_b' % edition['mf_reader'] in config.content_string, name
        assert (config.user, config.group, config.mode) == ('root', 'root', 0o640)
        assert locked(host, edition['mf_reader']), name
        # From scratch, the rewritten file logs users in too.
        assert host.run('systemctl restart dovecot').rc == 0
        assert login_works(host), name

    # With the new password in the vault, the next ordinary run has nothing to do.
    for name, (rc, output, recap) in on_each(servers, inventories, SITE, extra=new_password).items():
        assert rc == 0 and recap[name]['changed'] == 0, output[-3000:]


def test_a_changed_reader_password_alone_is_refused_and_no_login_fails(servers, inventories):
    """A new password in the vault without the rotation: the database role does not change the
    password of the account in use (Postfix and Dovecot log in with it), and says what to run."""
    before = dict((name, state(host)) for name, host in servers.items())
    with probes(servers, 'site.yml, a changed reader password') as outcome:
        results = on_each(servers, inventories, SITE, '--diff', extra=lambda name: {
            'vault_mailfleet_postfix_db_password': 'Changed#in-the-vault-only'})
    assert probe_problems(outcome) == []
    for name, (rc, output, _recap) in results.items():
        assert rc != 0, output[-3000:]
        assert 'has another password than the one given' in output, output[-3000:]
        assert 'run the playbook mailfleet.postfix_mysql.rotate_db_password' in output, output[-3000:]
        assert 'Changed#in-the-vault-only' not in output
        assert state(servers[name]) == before[name]
