# -*- coding: utf-8 -*-
"""The postconf module on real Debian hosts (Postfix 3.7 and 3.10).

Tests with the ``host`` fixture look at each host after converge. The others call the
module once through probe_postconf.yml on every host (one ansible-playbook run, JSON
output) and compare main.cf's fingerprint (inode, mtime, checksum) before and after; each
undoes what it changed, so that the last tests find the converged configuration.
"""

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from mailfleet_testlib import SCENARIO_DIR, all_hosts, run_playbook, scenario_vars

MAIN_CF = '/etc/postfix/main.cf'
SECOND_DIR = scenario_vars()['mf_postconf_second_dir']
PROBE_TASK = 'Call mailfleet.postfix_mysql.postconf with pc_args'
HOSTS = all_hosts()

with open(os.path.join(SCENARIO_DIR, 'vars', 'settings.yml')) as _handle:
    _SETTINGS = yaml.safe_load(_handle)
SETTINGS = _SETTINGS['mf_postconf_settings']
SECOND_SETTINGS = _SETTINGS['mf_postconf_second_settings']


def render(value):
    """A value as the module writes it to main.cf."""
    if isinstance(value, list):
        return ', '.join(render(item) for item in value)
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return str(value)


def probe(args, check=False, diff=False):
    """Call the module once on every host; return (rc, {host: task result}, output)."""
    extra = json.dumps({'pc_args': args, 'pc_check': check, 'pc_diff': diff})
    rc, output, _recap = run_playbook('probe_postconf.yml', '-e', extra,
                                      ANSIBLE_STDOUT_CALLBACK='ansible.posix.json')
    match = re.search(r'^\{$', output, re.M)
    assert match, output
    report, _end = json.JSONDecoder().raw_decode(output, match.start())
    results = {}
    for play in report['plays']:
        for task in play['tasks']:
            if task['task']['name'] == PROBE_TASK:
                results.update(task['hosts'])
    assert sorted(results) == sorted(h.backend.get_hostname() for h in HOSTS), output
    return rc, results, output


def fingerprint(host, path=MAIN_CF):
    """What any rewrite of the file changes: inode, mtime (ns), content."""
    return host.check_output('stat -c %s %s && sha256sum %s', '%i %y', path, path)


def fingerprints(path=MAIN_CF):
    """{host name: fingerprint}, both hosts looked at in parallel."""
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        prints = pool.map(lambda h: fingerprint(h, path), HOSTS)
    return dict(zip((h.backend.get_hostname() for h in HOSTS), prints))


def on_all_hosts(command, *args):
    for h in HOSTS:
        h.run_test(command, *args)


# --- after converge --------------------------------------------------------------------
@pytest.mark.parametrize('name', sorted(SETTINGS))
def test_converged_value_is_set_explicitly(host, name):
    assert host.check_output('postconf -n -h %s', name) == render(SETTINGS[name])


@pytest.mark.parametrize('name', sorted(SECOND_SETTINGS))
def test_second_instance_has_its_values(host, name):
    assert host.check_output('postconf -c %s -n -h %s', SECOND_DIR, name) == render(SECOND_SETTINGS[name])


@pytest.mark.parametrize('name', sorted(SECOND_SETTINGS))
def test_config_dir_task_left_default_instance_alone(host, name):
    assert host.check_output('postconf -h %s', name) != render(SECOND_SETTINGS[name])


# --- single calls ------------------------------------------------------------------------

def test_config_dir_call_rewrites_only_that_instance():
    default_before = fingerprints()
    second_before = fingerprints(SECOND_DIR + '/main.cf')
    try:
        rc, results, output = probe({'config_dir': SECOND_DIR, 'settings': {'delay_warning_time': '4h'}})
        assert rc == 0, output
        assert all(r['changed'] for r in results.values()), output
        assert fingerprints() == default_before
        second_after = fingerprints(SECOND_DIR + '/main.cf')
        assert all(second_after[h] != second_before[h] for h in second_before)
        for h in HOSTS:
            assert h.check_output('postconf -c %s -n -h delay_warning_time', SECOND_DIR) == '4h'
            assert h.check_output('postconf -n -h delay_warning_time') == ''
    finally:
        on_all_hosts('postconf -c %s -X delay_warning_time', SECOND_DIR)


def test_same_settings_again_change_nothing_and_keep_main_cf():
    before = fingerprints()
    rc, results, output = probe({'settings': SETTINGS})
    assert rc == 0, output
    assert [(r['changed'], r['changes']) for r in results.values()] == [(False, {})] * len(HOSTS), output
    assert fingerprints() == before


@pytest.mark.parametrize('settings', [
    {'virtual_mailbox_domains': 'example.org,example.net',
     'mydestination': ['$myhostname', 'localhost.$mydomain', 'localhost'],
     'smtpd_banner': '$myhostname   ESMTP  $mail_name,  no UCE',
     'smtpd_recipient_restrictions': 'permit_mynetworks,reject_unauth_destination '
                                     'check_policy_service {  inet:127.0.0.1:10023,   timeout=10s }',
     'message_size_limit': '52428800',
     'disable_vrfy_command': 'yes'},
    {'virtual_mailbox_domains': ' example.org  ,,  example.net ',
     'virtual_alias_maps': 'hash:/etc/postfix/virtual   regexp:/etc/postfix/virtual.regexp'},
], ids=['commas-yaml-list-free-text-blanks-group-scalars', 'blanks-and-empty-items'])
def test_same_values_written_differently_change_nothing(settings):
    before = fingerprints()
    rc, results, output = probe({'settings': settings})
    assert rc == 0, output
    assert [(r['changed'], r['changes']) for r in results.values()] == [(False, {})] * len(HOSTS), output
    assert fingerprints() == before


def test_order_and_free_text_commas_still_count():
    settings = {'virtual_mailbox_domains': 'example.net, example.org',
                'smtpd_banner': '$myhostname ESMTP $mail_name no UCE'}
    rc, results, output = probe({'settings': settings}, check=True)
    assert rc == 0, output
    for result in results.values():
        assert result['changed'] is True
        assert sorted(result['changes']) == sorted(settings), output


def test_check_mode_reports_the_change_and_writes_nothing():
    before = fingerprints()
    rc, results, output = probe({'settings': {'message_size_limit': 10240000,
                                              'virtual_mailbox_domains': 'example.org, example.net'}}, check=True)
    assert rc == 0, output
    for result in results.values():
        assert result['changed'] is True
        assert result['changes'] == {'message_size_limit': {'before': '52428800', 'after': '10240000'}}
    assert fingerprints() == before
    for h in HOSTS:
        assert h.check_output('postconf -h message_size_limit') == '52428800'


def test_diff_shows_only_the_changed_lines():
    settings = dict(SETTINGS, message_size_limit=10240000, mydestination='$myhostname localhost.$mydomain localhost')
    try:
        rc, results, output = probe({'settings': settings}, diff=True)
        assert rc == 0, output
        for result in results.values():
            assert result['changed'] is True
            assert result['diff'] == {'before': 'message_size_limit = 52428800\n',
                                      'after': 'message_size_limit = 10240000\n',
                                      'before_header': MAIN_CF, 'after_header': MAIN_CF}
        for h in HOSTS:
            assert h.check_output('postconf -n -h message_size_limit') == '10240000'
    finally:
        on_all_hosts('postconf -e message_size_limit=52428800')


def test_absent_removes_an_explicit_setting():
    on_all_hosts('postconf -e delay_warning_time=4h')
    rc, results, output = probe({'settings': ['delay_warning_time'], 'state': 'absent'})
    assert rc == 0, output
    for result in results.values():
        assert result['changed'] is True
        assert result['changes'] == {'delay_warning_time': {'before': '4h', 'after': None}}
    for h in HOSTS:
        assert not re.search(r'^delay_warning_time\b', h.check_output('postconf -n'), re.M)
        assert h.check_output('postconf -h delay_warning_time') == h.check_output('postconf -d -h delay_warning_time')


def test_absent_on_unset_names_changes_nothing():
    on_all_hosts('postconf -X delay_warning_time')
    before = fingerprints()
    rc, results, output = probe({'settings': ['delay_warning_time', 'mf_obsolete_parameter'], 'state': 'absent'})
    assert rc == 0, output
    assert [(r['changed'], r['changes']) for r in results.values()] == [(False, {})] * len(HOSTS), output
    assert fingerprints() == before


def test_unknown_name_fails_naming_it_and_writes_nothing():
    before = fingerprints()
    rc, results, output = probe({'settings': {'message_size_limit': 10240000,
                                              'virtual_mailbox_domian': 'example.com'}})
    assert rc != 0, output
    for result in results.values():
        assert result.get('failed') is True, output
        assert 'virtual_mailbox_domian' in result['msg']
    assert fingerprints() == before


def test_allow_unknown_sets_an_unknown_name():
    try:
        rc, results, output = probe({'settings': {'mf_submission_notice': 'Authorized use only'},
                                     'allow_unknown': True})
        assert rc == 0, output
        for result in results.values():
            assert result['changed'] is True
            assert result['unknown'] == ['mf_submission_notice']
        for h in HOSTS:
            h.run_test('grep -Fx %s %s', 'mf_submission_notice = Authorized use only', MAIN_CF)
    finally:
        on_all_hosts('postconf -X mf_submission_notice')


def test_allow_unknown_again_changes_nothing():
    on_all_hosts('postconf -e %s', 'mf_submission_notice=Authorized use only')
    try:
        before = fingerprints()
        rc, results, output = probe({'settings': {'mf_submission_notice': 'Authorized use only'},
                                     'allow_unknown': True})
        assert rc == 0, output
        assert [(r['changed'], r['changes']) for r in results.values()] == [(False, {})] * len(HOSTS), output
        assert fingerprints() == before
    finally:
        on_all_hosts('postconf -X mf_submission_notice')


@pytest.mark.parametrize('banner', ['$myhostname ESMTP\nno UCE', '$myhostname ESMTP\n'],
                         ids=['inner-newline', 'trailing-newline'])
def test_value_with_a_newline_fails_and_writes_nothing(banner):
    before = fingerprints()
    rc, results, output = probe({'settings': {'message_size_limit': 10240000, 'smtpd_banner': banner}})
    assert rc != 0, output
    for result in results.values():
        assert result.get('failed') is True, output
        assert 'smtpd_banner' in result['msg'] and 'newline' in result['msg']
    assert fingerprints() == before


# --- after all of the above -----------------------------------------------------------------

def test_postfix_check_is_silent(host):
    result = host.run('postfix check')
    assert (result.rc, result.stdout, result.stderr) == (0, '', '')


def test_postconf_has_no_warnings(host):
    result = host.run('postconf -n')
    assert result.rc == 0 and result.stderr == ''
    for name in sorted(SETTINGS):
        assert '%s = %s\n' % (name, render(SETTINGS[name])) in result.stdout
