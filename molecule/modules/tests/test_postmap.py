# -*- coding: utf-8 -*-
"""postmap_query and the postmap lookup against real Postfix and MariaDB (Debian 12 and 13).

The module is called through probe_postmap.yml on every host at once (one ansible-playbook run
with JSON output per fixture or test); its answers are compared with what the real
``postmap -q`` says on each host. The lookup is run on the hosts themselves, with
ansible-core and the collection copied there from the controller.
"""

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from mailfleet_testlib import PROJECT_DIR, SCENARIO_DIR, all_hosts, run_probe, scenario_vars

PROBE_TASK = 'Call mailfleet.postfix_mysql.postmap_query with pq_calls'
VARS = scenario_vars()
READER_PASSWORD = VARS['mailfleet_database_reader_password']
WRONG_PASSWORD = VARS['mf_postmap_wrong_password']


def table(name):
    return 'mysql:/etc/postfix/%s.cf' % name


DOMAINS = table('mysql-virtual-mailbox-domains')
MAILBOXES = table('mysql-virtual-mailbox-maps')
ALIASES = table('mysql-virtual-alias-maps')
EMAIL2EMAIL = table('mysql-email2email')
WRONG_PASSWORD_TABLE = table('mysql-wrong-password')
NO_SERVER_TABLE = table('mysql-no-server')
MISINDENTED_TABLE = table('mysql-misindented-password')

# The ISPmail tutorial's answers (postmap -q does no @domain fallback: the catch-all is
# asked for with its own key).
TUTORIAL = {
    DOMAINS: {'example.org': '1', 'nope.example': None},
    MAILBOXES: {'john@example.org': '1', 'user0500@example.org': '1', 'jack@example.org': None},
    ALIASES: {'jack@example.org': 'john@example.org', '@example.org': 'catchall@example.org',
              'john@example.org': None},
    EMAIL2EMAIL: {'john@example.org': 'john@example.org', 'John@Example.org': 'john@example.org',
                  'jack@example.org': None},
}
# Aliases first, then the identity map: first hit wins.
CHAIN = [ALIASES, EMAIL2EMAIL]
CHAIN_ANSWERS = {'jack@example.org': 'john@example.org', 'john@example.org': 'john@example.org',
                 '@example.org': 'catchall@example.org', 'nobody@nope.example': None}

HOSTS = all_hosts()
HOST_NAMES = sorted(h.backend.get_hostname() for h in HOSTS)


def probe(calls, *args):
    """Call the module once per entry of calls, on every host; return (rc, {host: [results]}, output)."""
    rc, results, output = run_probe('probe_postmap.yml', PROBE_TASK, {'pq_calls': calls}, *args)
    assert sorted(results) == HOST_NAMES, output[-3000:]
    items = dict((name, result['results']) for name, result in results.items())
    assert all(len(item) == len(calls) for item in items.values()), output[-3000:]
    return rc, items, output


def each_host(function):
    """function(host) on every host at once; {host name: its return value}."""
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        values = list(pool.map(function, HOSTS))
    return dict((h.backend.get_hostname(), v) for h, v in zip(HOSTS, values))


_POSTMAP_Q = r'''
import json, subprocess, sys
out = []
for table, key in json.loads(sys.argv[1]):
    p = subprocess.run(['postmap', '-q', key, table], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    out.append([table, key, p.returncode, p.stdout, p.stderr])
print(json.dumps(out))
'''


def postmap_q(host, pairs):
    """The real `postmap -q KEY TABLE`, one process per key: {(table, key): answer or None}."""
    answers = {}
    for tbl, key, rc, stdout, stderr in json.loads(host.check_output('python3 -c %s %s', _POSTMAP_Q, json.dumps(pairs))):
        assert stderr == '' and rc in (0, 1), (tbl, key, rc, stderr)
        answers[(tbl, key)] = stdout.rstrip('\n') if rc == 0 else None
    return answers


# --- the tutorial's lookups, the not-found answer, multi-row values, expect ---------------

TUTORIAL_CALLS = [dict(table=t, keys=sorted(keys)) for t, keys in sorted(TUTORIAL.items())] + [
    dict(tables=CHAIN, keys=sorted(CHAIN_ANSWERS)),
    # multi-row: expected in another order than the rows were inserted
    dict(table=ALIASES, expect={'team@example.org': ['jack@example.org', 'john@example.org']}),
    # a list must name every row
    dict(table=ALIASES, expect={'team@example.org': ['john@example.org']}),
    # two expectations wrong, one right
    dict(tables=CHAIN, expect={'jack@example.org': 'wrong@example.org', 'john@example.org': 'john@example.org',
                               'nobody@example.org': 'somebody@example.org'}),
]
I_CHAIN, I_MULTI, I_MULTI_PARTIAL, I_MISMATCH = range(len(TUTORIAL), len(TUTORIAL_CALLS))


BROKEN_CALLS = [dict(table=WRONG_PASSWORD_TABLE, keys=['example.org']),
                dict(table=NO_SERVER_TABLE, keys=['example.org']),
                dict(table=MISINDENTED_TABLE, keys=['example.org'])]
I_WRONG_PASSWORD, I_NO_SERVER, I_MISINDENTED = range(len(TUTORIAL_CALLS), len(TUTORIAL_CALLS) + len(BROKEN_CALLS))


@pytest.fixture(scope='module')
def probed():
    """Every call above in one run (a run costs seconds), with -vvvv for the password checks."""
    rc, items, output = probe(TUTORIAL_CALLS + BROKEN_CALLS, '-vvvv')
    assert rc != 0, 'the mismatching calls and the broken tables must fail the play'
    return items, output


@pytest.fixture(scope='module')
def tutorial(probed):
    return probed


@pytest.mark.parametrize('index', range(len(TUTORIAL)))
def test_tutorial_answers_equal_the_real_postmap(tutorial, index):
    items, output = tutorial
    call = TUTORIAL_CALLS[index]
    real = each_host(lambda h: postmap_q(h, [[call['table'], k] for k in call['keys']]))
    for name in HOST_NAMES:
        result = items[name][index]
        assert not result.get('failed'), result
        assert result['answers'] == TUTORIAL[call['table']], name
        assert result['answers'] == dict((k, real[name][(call['table'], k)]) for k in call['keys']), name
        assert result['changed'] is False


def test_several_tables_first_hit_wins_as_postfix_does(tutorial):
    items, _output = tutorial
    keys = sorted(CHAIN_ANSWERS)
    real = each_host(lambda h: postmap_q(h, [[t, k] for t in CHAIN for k in keys]))
    for name in HOST_NAMES:
        result = items[name][I_CHAIN]
        assert result['answers'] == CHAIN_ANSWERS, name
        first_hit = dict((k, next((real[name][(t, k)] for t in CHAIN if real[name][(t, k)] is not None), None))
                         for k in keys)
        assert result['answers'] == first_hit, name
        assert result['answered_by'] == {'jack@example.org': ALIASES, '@example.org': ALIASES,
                                         'john@example.org': EMAIL2EMAIL}


def test_not_found_is_null_not_an_error(tutorial):
    items, _output = tutorial
    for name in HOST_NAMES:
        result = items[name][list(sorted(TUTORIAL)).index(DOMAINS)]
        assert not result.get('failed'), result
        assert result['answers']['nope.example'] is None
        assert 'nope.example' not in result['answered_by']
        assert (result['found'], result['missing']) == (1, 1)


def test_multi_row_alias_is_comma_joined_and_matches_a_list_in_any_order(tutorial):
    items, _output = tutorial
    for name in HOST_NAMES:
        result = items[name][I_MULTI]
        assert not result.get('failed'), result
        assert sorted(result['answers']['team@example.org'].split(',')) == ['jack@example.org', 'john@example.org']
        partial = items[name][I_MULTI_PARTIAL]
        assert partial['failed'] and [m['key'] for m in partial['mismatches']] == ['team@example.org']


def test_expect_mismatch_fails_with_a_key_expected_got_table(tutorial):
    items, _output = tutorial
    for name in HOST_NAMES:
        result = items[name][I_MISMATCH]
        assert result['failed'] is True
        lines = result['msg'].splitlines()
        assert lines[0] == '2 of 3 expected answers differ:', result['msg']
        # columns are separated by at least two blanks
        assert re.split(r'\s{2,}', lines[1]) == ['key', 'expected', 'got']
        assert [re.split(r'\s{2,}', line) for line in lines[3:]] == [
            ['jack@example.org', 'wrong@example.org', 'john@example.org'],
            ['nobody@example.org', 'somebody@example.org', '(not found)']]
        assert result['mismatches'] == [
            {'key': 'jack@example.org', 'expected': 'wrong@example.org', 'got': 'john@example.org'},
            {'key': 'nobody@example.org', 'expected': 'somebody@example.org', 'got': '(not found)'}]
        assert result['answers']['john@example.org'] == 'john@example.org'


# --- broken tables ----------------------------------------------------------------------

@pytest.fixture(scope='module')
def broken(probed):
    return probed


def test_wrong_password_fails_with_table_host_and_access_denied(broken):
    items, _output = broken
    for name in HOST_NAMES:
        result = items[name][I_WRONG_PASSWORD]
        assert result['failed'] is True
        assert result['error_kind'] == 'access_denied'
        assert result['failed_table'] == WRONG_PASSWORD_TABLE and result['hosts'] == ['127.0.0.1']
        assert WRONG_PASSWORD_TABLE in result['msg'] and '127.0.0.1' in result['msg']
        assert 'Access denied' in result['msg']
        assert 'answers' not in result


def test_password_that_postfix_prints_is_hidden(broken):
    # An indented password line continues the user line: Postfix sends the password as
    # part of the user name, and MariaDB's "Access denied for user '...'" shows it.
    items, _output = broken
    for host in HOSTS:
        assert '\n  password = %s\n' % READER_PASSWORD in host.file('/etc/postfix/mysql-misindented-password.cf').content_string
    for name in HOST_NAMES:
        result = items[name][I_MISINDENTED]
        assert result['failed'] is True and result['error_kind'] == 'access_denied'
        assert "Access denied for user 'mailuser  password = ********'@" in result['msg'], result['msg']
        assert any('password = ********' in line for line in result['postfix_messages'])


def test_passwords_are_nowhere_in_the_output_even_with_vvvv(broken):
    _items, output = broken
    for host in HOSTS:  # the test means something only if the files hold the passwords
        assert 'password = %s\n' % WRONG_PASSWORD in host.file('/etc/postfix/mysql-wrong-password.cf').content_string
        assert 'password = %s\n' % READER_PASSWORD in host.file('/etc/postfix/mysql-misindented-password.cf').content_string
    assert 'Access denied' in output and '<%s> RUN ' % HOST_NAMES[0] in output  # -vvvv connection debug
    assert WRONG_PASSWORD not in output
    assert READER_PASSWORD not in output


def test_no_server_on_the_port_fails_with_a_connect_error(broken):
    items, _output = broken
    for name in HOST_NAMES:
        result = items[name][I_NO_SERVER]
        assert result['failed'] is True
        assert result['error_kind'] == 'connect'
        assert result['hosts'] == ['inet:127.0.0.1:3307']
        assert "Can't connect" in result['msg'] and 'inet:127.0.0.1:3307' in result['msg']


def test_stopped_database_fails_with_a_connect_error_not_not_found():
    # Debian 12 has mariadb.socket (listening on 3306 too), Debian 13 does not.
    def stop(host):
        active = [u for u in ('mariadb.socket', 'mariadb.service')
                  if host.run('systemctl is-active --quiet %s', u).rc == 0]
        host.run_test('systemctl stop mariadb.socket mariadb.service 2>/dev/null || systemctl stop mariadb.service')
        return active

    active = each_host(stop)
    try:
        for host in HOSTS:
            assert host.run('systemctl is-active --quiet mariadb.service').rc != 0
        rc, items, output = probe([dict(table=DOMAINS, expect={'example.org': 1})])
    finally:
        each_host(lambda h: [h.run_test('systemctl start %s', u) for u in reversed(active[h.backend.get_hostname()])])
    assert rc != 0
    for name in HOST_NAMES:
        result = items[name][0]
        assert result['failed'] is True
        assert result['error_kind'] == 'connect', result['msg']
        assert "Can't connect to" in result['msg'] and '127.0.0.1' in result['msg']
        assert 'not found' not in result['msg'] and 'mismatches' not in result and 'answers' not in result
    assert READER_PASSWORD not in output


# --- many keys ----------------------------------------------------------------------------

BULK_KEYS = ['nouser%04d@example.org' % i if i % 5 == 0 else 'user%04d@example.org' % i for i in range(1, 1001)]
WRAPPER = '''#!/bin/sh
echo "$*" >> /run/mf-postmap-execs.log
exec /usr/sbin/postmap.real "$@"
'''


def test_1000_keys_one_process_per_table_and_same_answers_in_parallel():
    expected = dict((k, None if k.startswith('nouser') else '1') for k in BULK_KEYS)

    def wrap(host):
        host.run_test('rm -f /run/mf-postmap-execs.log && mv /usr/sbin/postmap /usr/sbin/postmap.real '
                      '&& printf %s %s > /usr/sbin/postmap && chmod 755 /usr/sbin/postmap', '%s', WRAPPER)

    def unwrap(host):
        if host.file('/usr/sbin/postmap.real').exists:
            host.run_test('mv -f /usr/sbin/postmap.real /usr/sbin/postmap')

    try:
        each_host(wrap)
        rc, items, output = probe([dict(table=MAILBOXES, keys=BULK_KEYS, parallel=1),
                                   dict(table=MAILBOXES, keys=BULK_KEYS, parallel=4),
                                   dict(table=MAILBOXES, keys=BULK_KEYS)])
        execs = each_host(lambda h: h.file('/run/mf-postmap-execs.log').content_string.splitlines())
    finally:
        each_host(unwrap)
    assert rc == 0, output[-3000:]
    cpus = each_host(lambda h: int(h.check_output('nproc')))
    for name in HOST_NAMES:
        one, four, default = items[name]
        assert one['processes'] == 1 and four['processes'] == 4
        assert default['processes'] == min(cpus[name], 8)
        # what really ran on the host: one exec per process, all of them `postmap -q -`
        assert len(execs[name]) == 1 + 4 + default['processes'], execs[name]
        assert all(line == '-q - ' + MAILBOXES for line in execs[name])
        assert one['answers'] == expected
        assert four['answers'] == expected and default['answers'] == expected
        assert (one['found'], one['missing']) == (800, 200)


# --- the lookup, on a mail host ----------------------------------------------------------

ANSIBLE_CORE_DIR = '/opt/ansible-core'
COLLECTION_DIR = '/root/.ansible/collections/ansible_collections/mailfleet/postfix_mysql'


def debug_messages(output, prefix):
    """The JSON after prefix in every debug msg of an ansible-playbook output that starts with it."""
    found = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith('"msg": "' + prefix):
            found.append(json.loads(json.loads('{%s}' % line)['msg'][len(prefix):]))
    return found


def _controller_ansible_core():
    """(site-packages dir, [ansible, ansible_core-X.dist-info]) of the controller's ansible-core."""
    import ansible
    site = os.path.dirname(os.path.dirname(ansible.__file__))
    dist = [d for d in os.listdir(site) if d.startswith('ansible_core-') and d.endswith('.dist-info')]
    return site, ['ansible'] + dist


def _collection_files():
    """The collection's files as git tracks them (or would: new files included)."""
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=PROJECT_DIR,
                         stdout=subprocess.PIPE, check=True).stdout
    return [f for f in out.decode().split('\0') if f and os.path.isfile(os.path.join(PROJECT_DIR, f))]


def _copy_tree(container, src_dir, names, dest):
    """tar names (relative to src_dir) into dest in the container: one pipe, no per-file copies."""
    subprocess.run(['podman', 'exec', container, 'sh', '-c', 'rm -rf "$1" && mkdir -p "$1"', 'sh', dest], check=True)
    tar = subprocess.Popen(['tar', '-C', src_dir, '--exclude=__pycache__', '--null', '-T', '-', '-cf', '-'],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    untar = subprocess.Popen(['podman', 'exec', '-i', container, 'tar', '-C', dest, '-xf', '-'], stdin=tar.stdout)
    tar.stdout.close()
    tar.stdin.write(b''.join(n.encode() + b'\0' for n in names))
    tar.stdin.close()
    assert tar.wait() == 0 and untar.wait() == 0


def test_lookup_on_the_mail_host_answers_and_hides_the_password():
    site, core = _controller_ansible_core()
    files = _collection_files()
    playbook = os.path.join(COLLECTION_DIR, os.path.relpath(SCENARIO_DIR, PROJECT_DIR), 'lookup_local.yml')

    def run(host):
        name = host.backend.get_hostname()
        _copy_tree(name, site, core, ANSIBLE_CORE_DIR)
        _copy_tree(name, PROJECT_DIR, files, COLLECTION_DIR)
        # DISPLAY_TRACEBACK shows the exception's class: an AnsibleLookupError.
        return host.run('cd /root && env LC_ALL=C.UTF-8 PYTHONPATH=%s ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 '
                        'ANSIBLE_DISPLAY_TRACEBACK=error '
                        'ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_COLLECTIONS_PATH=/root/.ansible/collections '
                        'python3 -m ansible playbook -vvvv %s 2>&1', ANSIBLE_CORE_DIR, playbook)

    for name, result in each_host(run).items():
        output = result.stdout
        assert result.rc == 0, output[-5000:]
        assert debug_messages(output, 'MF-LOOKUP ') == [{
            'domains': ['1', 'NOTFOUND'], 'domain': '1', 'stranger': None,
            'aliases': ['john@example.org', 'john@example.org', 'catchall@example.org', None]}], output[-5000:]
        errors = debug_messages(output, 'MF-LOOKUP-ERROR ')
        assert len(errors) == 2 and 'MF-LOOKUP-DID-NOT-FAIL' not in output, output[-5000:]
        assert 'Access denied' in errors[0] and "Access denied for user 'mailuser  password = ********'@" in errors[1]
        # ansible-core wraps what a lookup raises: the traceback shows what the plugin raised
        assert re.search(r'plugins/lookup/postmap\.py", line \d+, in run\n\s+raise AnsibleLookupError\(', output), output
        assert 'rescued=2' in output and 'failed=0' in output
        assert WRONG_PASSWORD not in output and READER_PASSWORD not in output, name
