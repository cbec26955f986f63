# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import re
import stat

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_control import (
    ConfigLock,
    PendingReload,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.modules import mysql_maps
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins import fake_postconf
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postconf import FakePostconf
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postmap import FakePostfix
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.module_harness import run_main

PASSWORD = 'S3cr3t-pw#1'
OLD_PASSWORD = 'Old-pw#0'
POSTMAP = '/usr/sbin/postmap'
POSTFIX = '/usr/sbin/postfix'
OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
MAPS = [
    {'name': 'virtual-mailbox-domains', 'parameter': 'virtual_mailbox_domains',
     'query': "SELECT 1 FROM virtual_domains WHERE name='%s'"},
    {'name': 'email2email', 'parameter': 'virtual_alias_maps',
     'query': "SELECT email FROM virtual_users WHERE email='%s'"},
]
ACCESS_DENIED = (
    "postmap: warning: connect to mysql server 10.0.0.1: Access denied for user "
    "'mailuser'@'10.0.0.9' (using password: YES)\n"
    "postmap: fatal: table {table}: query error: Resource temporarily unavailable\n")


@pytest.fixture
def run_module(monkeypatch, tmp_path):
    """Run main() with args (config_dir, owner and group preset), a fake postmap and a
    fake postconf whose main.cf (run_module.postconf) lives as long as the test."""
    postconf = FakePostconf()

    def postconf_now(argv):
        if argv[0].endswith('/postconf') and argv[1:3] != ['-c', run.config_dir]:
            # Every postconf call names the configuration directory: without -c the host's
            # other Postfix (/etc/postfix) would be read or changed.
            return (1, '', 'postconf: fatal: the fake is asked without -c %s: %s\n' % (run.config_dir, ' '.join(argv)))
        if argv[0] == POSTFIX:
            # postfix -c DIR status|check|reload: the answers in run_module.postfix.
            run.postfix_calls.append(argv[3])
            return run.postfix[argv[3]]
        # Whatever run_module.postconf is when the module calls it (a test may swap it).
        return run.postconf(argv)

    def run(args, fake=None):
        fake = fake if fake is not None else FakePostfix()
        monkeypatch.setattr(mysql_maps, 'PostmapRunner', fake)
        full = dict(maps=MAPS, hosts=['10.0.0.1'], user='mailuser', password=PASSWORD, dbname='mailserver',
                    config_dir=str(tmp_path), owner=OWNER, group=GROUP)
        full.update(args)
        run.config_dir = full['config_dir']
        kind, result, module = run_main(monkeypatch, mysql_maps.main, full, bin_dir='/usr/sbin', commands=postconf_now)
        return kind, result, module, fake

    run.postconf = postconf
    run.postfix = {'status': (0, '', ''), 'check': (0, '', ''), 'reload': (0, '', '')}
    run.postfix_calls = []
    return run


def files_of(tmp_path):
    return dict((name, (tmp_path / name).read_text()) for name in sorted(os.listdir(str(tmp_path))))


def test_first_run_writes_every_file_validated_and_0640(run_module, tmp_path):
    kind, result, module, fake = run_module({})
    assert kind == 'exit' and result['changed'] is True
    assert [(f['name'], f['reasons']) for f in result['files']] == [
        ('virtual-mailbox-domains', ['created']), ('email2email', ['created'])]
    assert sorted(files_of(tmp_path)) == ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf']
    assert run_module.postconf.main_cf == {
        'virtual_mailbox_domains': 'mysql:%s/mysql-virtual-mailbox-domains.cf' % tmp_path,
        'virtual_alias_maps': 'mysql:%s/mysql-email2email.cf' % tmp_path}
    for name in files_of(tmp_path):
        assert stat.S_IMODE(os.stat(str(tmp_path / name)).st_mode) == 0o640
    text = (tmp_path / 'mysql-email2email.cf').read_text()
    assert 'password = %s\n' % PASSWORD in text and "query = SELECT email FROM virtual_users WHERE email='%s'\n" in text
    # One lookup per new file, through its temporary file in the same directory.
    assert len(fake.jobs) == 2
    for argv, data in fake.jobs:
        assert argv[:4] == [POSTMAP, '-c', str(tmp_path), '-q'] and data == 'probe@mailfleet.invalid\n'
        assert argv[-1].startswith('mysql:%s/.mysql-' % tmp_path) and argv[-1].endswith('.new')
    assert PASSWORD in module.no_log_values
    assert PASSWORD not in json.dumps(result)


def test_second_run_changes_nothing_and_asks_nothing(run_module, tmp_path):
    run_module({})
    before = dict((n, os.stat(str(tmp_path / n)).st_mtime_ns) for n in files_of(tmp_path))
    kind, result, _module, fake = run_module({})
    assert kind == 'exit' and result['changed'] is False
    assert fake.jobs == [] and run_module.postconf.writes() == [
        ['/usr/sbin/postconf', '-c', str(tmp_path), '-e',
         'virtual_mailbox_domains=mysql:%s/mysql-virtual-mailbox-domains.cf' % tmp_path,
         'virtual_alias_maps=mysql:%s/mysql-email2email.cf' % tmp_path]]
    assert dict((n, os.stat(str(tmp_path / n)).st_mtime_ns) for n in files_of(tmp_path)) == before


def test_check_mode_reports_and_writes_nothing(run_module, tmp_path):
    kind, result, _module, fake = run_module({'_ansible_check_mode': True})
    assert kind == 'exit' and result['changed'] is True
    assert files_of(tmp_path) == {} and fake.jobs == [] and run_module.postconf.writes() == []
    assert sorted(result['main_cf']) == ['virtual_alias_maps', 'virtual_mailbox_domains']


def test_diff_masks_the_old_and_the_new_password(run_module, tmp_path):
    run_module({'password': OLD_PASSWORD})
    kind, result, module, _fake = run_module({'_ansible_diff': True, 'options': {'expansion_limit': 100}})
    assert kind == 'exit' and result['changed'] is True
    shown = json.dumps(result['diff'])
    assert PASSWORD not in shown and OLD_PASSWORD not in shown
    first = result['diff'][0]
    assert first['before_header'] == str(tmp_path / 'mysql-virtual-mailbox-domains.cf')
    assert 'password = ********\n' in first['before'] and 'password = ********\n' in first['after']
    assert 'expansion_limit = 100\n' in first['after'] and 'expansion_limit' not in first['before']
    assert OLD_PASSWORD in module.no_log_values


def test_diff_of_owner_and_mode_only(run_module, tmp_path):
    run_module({})
    os.chmod(str(tmp_path / 'mysql-email2email.cf'), 0o600)
    kind, result, _module, fake = run_module({'_ansible_diff': True})
    assert kind == 'exit' and result['changed'] is True
    assert result['files'][1]['reasons'] == ['mode'] and fake.jobs == []
    assert result['diff'] == [{
        'before_header': str(tmp_path / 'mysql-email2email.cf') + ' (owner, group, mode)',
        'after_header': str(tmp_path / 'mysql-email2email.cf') + ' (owner, group, mode)',
        'before': '%s:%s 0600\n' % (OWNER, GROUP), 'after': '%s:%s 0640\n' % (OWNER, GROUP)}]
    assert stat.S_IMODE(os.stat(str(tmp_path / 'mysql-email2email.cf')).st_mode) == 0o640


def test_failed_validation_names_the_map_and_changes_nothing(run_module, tmp_path):
    run_module({'password': OLD_PASSWORD})
    before = files_of(tmp_path)
    fake = FakePostfix(error_for=lambda table: ACCESS_DENIED.format(table=table) if 'email2email' in table else None)
    kind, result, _module, _fake = run_module({}, fake)
    assert kind == 'fail' and result['changed'] is False
    assert result['failed_map'] == 'email2email' and result['error_kind'] == 'access_denied'
    assert result['hosts'] == ['10.0.0.1']
    live = str(tmp_path / 'mysql-email2email.cf')
    assert result['msg'].startswith('map email2email: Postfix cannot use the new %s, so nothing was changed: '
                                    % live)
    assert 'Access denied' in result['msg'] and '%s (new)' % live in result['msg']
    assert '.new' not in result['msg'].replace(live + ' (new)', '')
    assert PASSWORD not in json.dumps(result) and OLD_PASSWORD not in json.dumps(result)
    # The first map passed, but it does not go live alone; no temporary file is left.
    assert files_of(tmp_path) == before
    assert len(run_module.postconf.writes()) == 1  # the first run's


def test_validate_false_asks_nothing(run_module, tmp_path):
    kind, result, _module, fake = run_module({'validate': False})
    assert kind == 'exit' and result['changed'] is True and fake.jobs == []


@pytest.mark.parametrize('args, message', [
    ({'mode': '0644'}, 'gives others access'),
    ({'mode': 'rw-r-----'}, 'not an octal file mode'),
    ({'group': 'no-such-group-here'}, 'group no-such-group-here does not exist on this host: is Postfix installed?'),
    ({'owner': 'no-such-user-here'}, 'owner no-such-user-here does not exist'),
    ({'config_dir': '/nonexistent/postfix'}, '/nonexistent/postfix is not a directory: is Postfix installed?'),
    ({'password': PASSWORD + '\n'}, 'password contains a control character or a line separator'),
    ({'password': [PASSWORD, 'other']}, 'password must be a single string, not a list'),
    ({'options': {'password': 'x'}}, 'options: password is written from its own variable'),
    ({'maps': [dict(MAPS[0], name='a/b')]}, "maps[0] ('a/b'): the name must be"),
    ({'options': {'retry_interval': 10}}, 'retry_interval needs Postfix 3.9 or later, and this host has Postfix 3.7.11'),
    ({'hosts': ['localhost']}, 'Use 127.0.0.1 (TCP) instead, or set proxy'),
    ({'settings': {'virtual_alias_maps': 'hash:/x'}}, 'settings sets virtual_alias_maps, which the maps set'),
    ({'maps': [dict(MAPS[0], parameter='virtual_mailbox_domain')]}, "unknown Postfix parameter(s) virtual_mailbox_domain (map 'virtual-mailbox-domains')"),
    ({'timeout': 0}, 'timeout must be a positive number'),
    ({'maps': [{'name': 'x', 'parameter': 'virtual_alias_maps'}]}, 'state is present but all of the following are missing: query'),
])
def test_bad_input_is_refused_before_anything_is_written(run_module, tmp_path, args, message):
    kind, result, _module, fake = run_module(args)
    assert kind == 'fail' and message in result['msg']
    assert PASSWORD not in json.dumps(result)
    assert files_of(tmp_path) == {} and fake.jobs == [] and run_module.postconf.writes() == []


@pytest.mark.parametrize('value, mode', [
    ('0640', 0o640), ('640', 0o640), (0o600, 0o600), ('0750', 0o750), ('x', None), ('99', None), ('17777', None),
])
def test_parse_mode(value, mode):
    assert mysql_maps.parse_mode(value) == mode


def test_a_retired_map_leaves_main_cf_first_and_then_its_file_goes(run_module, tmp_path):
    run_module({})
    retired = [MAPS[0], dict(MAPS[1], state='absent')]
    kind, result, _module, fake = run_module({'maps': retired, '_ansible_diff': True})
    assert kind == 'exit' and result['changed'] is True and fake.jobs == []
    assert sorted(files_of(tmp_path)) == ['mysql-virtual-mailbox-domains.cf']
    assert result['files'][1] == dict(name='email2email', path=str(tmp_path / 'mysql-email2email.cf'),
                                      state='absent', changed=True, reasons=['removed'])
    assert result['main_cf'] == {'virtual_alias_maps': {
        'before': 'mysql:%s/mysql-email2email.cf' % tmp_path, 'after': None}}
    assert 'virtual_alias_maps' not in run_module.postconf.main_cf
    # The diff shows the removed file with its password masked, and the main.cf line.
    assert 'password = ********' in result['diff'][0]['before'] and result['diff'][0]['after'] == ''
    assert result['diff'][1]['before'] == 'virtual_alias_maps = mysql:%s/mysql-email2email.cf\n' % tmp_path
    assert PASSWORD not in json.dumps(result)
    kind, result, _module, _fake = run_module({'maps': retired})
    assert kind == 'exit' and result['changed'] is False


def test_a_retired_map_of_a_shared_parameter_keeps_the_others(run_module, tmp_path):
    maps = MAPS + [{'name': 'virtual-alias-maps', 'parameter': 'virtual_alias_maps',
                    'query': "SELECT destination FROM virtual_aliases WHERE source='%s'"}]
    run_module({'maps': maps})
    assert run_module.postconf.main_cf['virtual_alias_maps'] == (
        'mysql:%s/mysql-email2email.cf, mysql:%s/mysql-virtual-alias-maps.cf' % (tmp_path, tmp_path))
    kind, result, _module, _fake = run_module({'maps': [MAPS[0], dict(MAPS[1], state='absent'), maps[2]]})
    assert kind == 'exit' and result['changed'] is True
    assert run_module.postconf.main_cf['virtual_alias_maps'] == 'mysql:%s/mysql-virtual-alias-maps.cf' % tmp_path


def test_a_retired_map_still_named_elsewhere_stops_everything(run_module, tmp_path):
    run_module({})
    path = str(tmp_path / 'mysql-email2email.cf')
    run_module.postconf.main_cf['smtpd_recipient_restrictions'] = 'check_recipient_access mysql:%s' % path
    run_module.postconf.master.append('submission inet n - y - - smtpd -o x=mysql:%s' % path)
    writes = len(run_module.postconf.writes())
    kind, result, _module, _fake = run_module({'maps': [MAPS[0], dict(MAPS[1], state='absent')]})
    assert kind == 'fail' and 'a retired map is still in use' in result['msg']
    assert 'main.cf smtpd_recipient_restrictions still names %s (map email2email)' % path in result['msg']
    assert 'master.cf service submission inet still names' in result['msg']
    assert os.path.exists(path) and len(run_module.postconf.writes()) == writes


def test_only_retiring_needs_no_password(run_module, tmp_path):
    run_module({})
    retired = [dict(m, state='absent', query=None) for m in MAPS]
    kind, result, _module, _fake = run_module({'maps': retired, 'password': None, 'hosts': []})
    assert kind == 'exit' and result['changed'] is True
    assert files_of(tmp_path) == {} and run_module.postconf.main_cf == {}


def test_proxy_union_sender_login_and_settings_after_proxymap_serves_the_tables(run_module, tmp_path):
    maps = MAPS + [{'name': 'aliases', 'parameter': 'virtual_alias_maps', 'query': 'SELECT 1'}]
    kind, result, _module, _fake = run_module({
        'maps': maps, 'proxy': True, 'union_parameters': ['virtual_alias_maps'],
        'sender_login_maps': ['email2email'], 'settings': {'relayhost': '', 'smtpd_banner': '$myhostname ESMTP'}})
    assert kind == 'exit' and result['changed'] is True
    table = 'proxy:mysql:%s/mysql-%s.cf'
    assert run_module.postconf.main_cf == {
        'virtual_mailbox_domains': table % (tmp_path, 'virtual-mailbox-domains'),
        'virtual_alias_maps': 'unionmap:{%s, %s}' % (table % (tmp_path, 'email2email'), table % (tmp_path, 'aliases')),
        'smtpd_sender_login_maps': table % (tmp_path, 'email2email'),
        'relayhost': '',
        'smtpd_banner': '$myhostname ESMTP',
        'proxy_read_maps': ' '.join([fake_postconf.DEFAULTS['proxy_read_maps']] + [
            table % (tmp_path, name) for name in ('virtual-mailbox-domains', 'email2email', 'aliases')]),
    }
    # proxy_read_maps first, with a reload, and only then the parameters that name the tables:
    # a daemon that asked proxymap for a table it does not serve would die.
    writes = run_module.postconf.writes()
    assert len(writes) == 2 and [arg.split('=')[0] for arg in writes[0][-1:]] == ['proxy_read_maps']
    assert run_module.postfix_calls == ['status', 'check', 'reload', 'status', 'check', 'reload']
    # A retired map's table leaves proxy_read_maps in the same write as virtual_alias_maps (postconf
    # reads every table file main.cf names: postfix check would warn about the missing file).
    retired = {'maps': maps[:2] + [dict(maps[2], state='absent')], 'proxy': True,
               'sender_login_maps': ['email2email'], 'settings': {'relayhost': '', 'smtpd_banner': '$myhostname ESMTP'}}
    kind, result, _module, _fake = run_module(retired)
    assert kind == 'exit' and result['changed'] is True and len(run_module.postconf.writes()) == 3
    assert table % (tmp_path, 'aliases') not in run_module.postconf.main_cf['proxy_read_maps']
    assert table % (tmp_path, 'email2email') in run_module.postconf.main_cf['proxy_read_maps']
    assert not os.path.exists(str(tmp_path / 'mysql-aliases.cf'))
    kind, result, _module, _fake = run_module(retired)
    assert (kind, result['changed']) == ('exit', False)


def test_main_cf_changed_by_hand_is_put_back_and_the_files_are_left_alone(run_module, tmp_path):
    run_module({})
    run_module.postconf.main_cf['virtual_alias_maps'] = 'hash:/etc/postfix/virtual'
    kind, result, _module, fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and fake.jobs == []
    assert result['main_cf'] == {'virtual_alias_maps': {'before': 'hash:/etc/postfix/virtual',
                                                        'after': 'mysql:%s/mysql-email2email.cf' % tmp_path}}
    assert not any(f['changed'] for f in result['files'])


def test_equivalent_spellings_of_main_cf_are_unchanged(run_module, tmp_path):
    run_module({})
    run_module.postconf.main_cf['virtual_alias_maps'] = '  mysql:%s/mysql-email2email.cf ,' % tmp_path
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is False


def test_a_postfix_that_does_not_answer_is_named(run_module, tmp_path):
    run_module.postconf.version = None
    kind, result, _module, _fake = run_module({})
    assert kind == 'fail' and 'config_dir: postconf -c %s does not answer' % tmp_path in result['msg']
    assert files_of(tmp_path) == {}


def test_new_files_arrive_through_atomic_move_never_readable_by_others(run_module, tmp_path, monkeypatch):
    from ansible.module_utils import basic
    seen = []
    real = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, **kwargs):
        seen.append((os.path.basename(dest), stat.S_IMODE(os.stat(src).st_mode)))
        real(self, src, dest, **kwargs)
        # What atomic_move itself leaves for a new file, before the group and mode are set.
        seen.append(('after', stat.S_IMODE(os.stat(dest).st_mode) & 0o007))

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    kind, _result, _module, _fake = run_module({})
    assert kind == 'exit'
    assert seen == [('mysql-virtual-mailbox-domains.cf', 0o640), ('after', 0),
                    ('mysql-email2email.cf', 0o640), ('after', 0)]


def test_a_failed_main_cf_write_says_the_client_files_are_live(run_module, tmp_path):
    postconf = run_module.postconf
    real = postconf

    def refusing(argv):
        if '-e' in argv:
            postconf.calls.append(list(argv))
            return (1, '', 'postconf: fatal: open %s/main.cf for writing: Read-only file system\n' % tmp_path)
        return real(argv)

    run_module.postconf = refusing
    kind, result, _module, _fake = run_module({})
    run_module.postconf = postconf
    assert kind == 'fail' and result['changed'] is True
    assert result['msg'].startswith('the client files were updated, main.cf was not: postconf failed to set '
                                    'virtual_mailbox_domains, virtual_alias_maps')
    assert 'Read-only file system' in result['msg']
    assert sorted(files_of(tmp_path)) == ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf']


# ------------------------------------------------------------ the reload a change owes

def test_a_change_is_checked_and_reloaded_and_the_debt_settled(run_module, tmp_path):
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is True
    assert result['reload_reason'] == 'this run changed the configuration'
    assert run_module.postfix_calls == ['status', 'check', 'reload']
    assert PendingReload(str(tmp_path)).owed() is None


def test_a_run_killed_before_its_reload_is_paid_by_the_next_run(run_module, tmp_path):
    run_module({})
    # What a run killed between its change and its reload leaves behind.
    PendingReload(str(tmp_path)).record('mailfleet.postfix_mysql.mysql_maps')
    run_module.postfix_calls[:] = []
    kind, result, _module, fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is True
    assert result['reload_reason'].startswith('an earlier run changed the configuration (')
    assert [f['changed'] for f in result['files']] == [False, False] and result['main_cf'] == {}
    assert fake.jobs == [] and run_module.postfix_calls == ['status', 'check', 'reload']
    assert PendingReload(str(tmp_path)).owed() is None
    kind, result, _module, _fake = run_module({})
    assert result['changed'] is False and result['reloaded'] is False and result['reload_reason'] is None


def test_check_mode_reports_the_debt_and_leaves_it(run_module, tmp_path):
    run_module({})
    PendingReload(str(tmp_path)).record('mailfleet.postfix_mysql.mysql_maps')
    run_module.postfix_calls[:] = []
    kind, result, _module, _fake = run_module({'_ansible_check_mode': True})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is False
    assert result['reload_reason'].startswith('an earlier run')
    assert run_module.postfix_calls == [] and PendingReload(str(tmp_path)).owed() is not None


def test_a_failed_postfix_check_keeps_the_debt_for_the_next_run(run_module, tmp_path):
    run_module.postfix['check'] = (1, '', 'postfix/postfix-script: fatal: something is wrong with ' + PASSWORD)
    kind, result, _module, _fake = run_module({})
    assert kind == 'fail' and result['changed'] is True
    assert 'Postfix was not reloaded, so it still serves the old one; the next run tries again' in result['msg']
    assert PASSWORD not in json.dumps(result)
    assert run_module.postfix_calls == ['status', 'check']
    assert PendingReload(str(tmp_path)).owed() is not None
    run_module.postfix['check'] = (0, '', '')
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is True
    assert PendingReload(str(tmp_path)).owed() is None


def test_a_stopped_postfix_is_not_reloaded_and_owes_nothing(run_module, tmp_path):
    run_module.postfix['status'] = (1, '', 'postfix/postfix-script: the Postfix mail system is not running')
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is False
    assert run_module.postfix_calls == ['status'] and PendingReload(str(tmp_path)).owed() is None


def test_reload_false_leaves_the_reload_and_the_debt_to_the_caller(run_module, tmp_path):
    kind, result, _module, _fake = run_module({'reload': False})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is False
    assert result['reload_reason'] is None and run_module.postfix_calls == []
    assert PendingReload(str(tmp_path)).owed() is None


def test_a_failed_validation_owes_no_reload(run_module, tmp_path):
    fake = FakePostfix(error_for=lambda table: ACCESS_DENIED.format(table=table))
    kind, result, _module, _fake = run_module({}, fake=fake)
    assert kind == 'fail' and 'nothing was changed' in result['msg']
    assert run_module.postfix_calls == [] and PendingReload(str(tmp_path)).owed() is None


# ------------------------------------------------------------ two runs at once, killed runs

def test_a_held_lock_fails_with_nothing_changed_and_names_the_holder(run_module, tmp_path):
    holder = ConfigLock(str(tmp_path), 'mailfleet.postfix_mysql.mysql_maps').acquire(0)
    try:
        kind, result, _module, fake = run_module({'lock_timeout': 1})
    finally:
        holder.release()
    assert kind == 'fail'
    assert result['msg'].startswith('nothing was changed: another run (mailfleet.postfix_mysql.mysql_maps, pid %d, '
                                    'since ' % os.getpid())
    assert 'is changing the Postfix configuration in %s; gave up after waiting 1 s' % tmp_path in result['msg']
    assert files_of(tmp_path) == {} and fake.jobs == [] and run_module.postconf.writes() == []


def test_the_lock_is_free_again_after_a_run(run_module, tmp_path):
    run_module({})
    kind, result, _module, _fake = run_module({'lock_timeout': 0})
    assert kind == 'exit' and result['changed'] is False


def test_temporary_files_of_a_killed_run_are_removed_without_a_change(run_module, tmp_path):
    run_module({})
    leftover = tmp_path / '.mysql-email2email.cf.k1ll3d_x.new'
    leftover.write_text('password = %s\n' % PASSWORD)
    other = tmp_path / '.mysql-notes.txt'
    other.write_text('not ours')
    kind, result, _module, _fake = run_module({'_ansible_check_mode': True})
    assert result['changed'] is False and result['leftovers_removed'] == [] and leftover.exists()
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is False
    assert result['leftovers_removed'] == [str(leftover)] and not leftover.exists() and other.exists()


@pytest.mark.parametrize('version, hosts_line, retry_line', [
    ('3.7.11', 'hosts = 10.0.0.1 10.0.0.1\n', None),
    ('3.10.5', 'hosts = 10.0.0.1\n', 'retry_interval = 2\n'),
])
def test_client_files_get_the_fastest_recovery_of_their_release(run_module, tmp_path, version, hosts_line, retry_line):
    run_module.postconf.version = version
    kind, _result, _module, _fake = run_module({})
    text = (tmp_path / 'mysql-email2email.cf').read_text()
    assert kind == 'exit' and hosts_line in text
    assert (retry_line in text) if retry_line else ('retry_interval' not in text)


# ------------------------------------------------------------ two reader accounts used in turn

def refused_for(user):
    """A fake postmap whose database refuses USER (locked by a rotation, or another password)."""
    def error_for(table):
        with open(table[len('mysql:'):]) as handle:
            return ACCESS_DENIED.format(table=table) if 'user = %s\n' % user in handle.read() else None
    return FakePostfix(error_for=error_for)


def test_files_a_rotation_moved_to_the_standby_account_stay_there(run_module, tmp_path):
    run_module({'user': 'mailuser_b'})
    kind, result, _module, fake = run_module({'standby_user': 'mailuser_b'})
    assert kind == 'exit' and result['changed'] is False and result['user'] == 'mailuser_b' and fake.jobs == []


def test_a_host_that_missed_a_rotation_moves_to_the_account_that_has_the_password(run_module, tmp_path):
    run_module({'password': OLD_PASSWORD})
    kind, result, _module, fake = run_module({'standby_user': 'mailuser_b'}, fake=refused_for('mailuser'))
    assert kind == 'exit' and result['changed'] is True and result['user'] == 'mailuser_b'
    text = (tmp_path / 'mysql-email2email.cf').read_text()
    assert 'user = mailuser_b\n' in text and 'password = %s\n' % PASSWORD in text
    # Both accounts were asked: the refused one first, each through its temporary files.
    assert len(fake.jobs) == 4
    kind, result, _module, _fake = run_module({'standby_user': 'mailuser_b'})
    assert result['changed'] is False and result['user'] == 'mailuser_b'


def test_a_password_neither_account_has_changes_nothing_and_names_both(run_module, tmp_path):
    run_module({'password': OLD_PASSWORD})
    before = files_of(tmp_path)
    fake = FakePostfix(error_for=lambda table: ACCESS_DENIED.format(table=table))
    kind, result, _module, _fake = run_module({'standby_user': 'mailuser_b'}, fake=fake)
    assert kind == 'fail' and result['changed'] is False
    assert 'nothing was changed: the database refused both reader accounts (mailuser and mailuser_b)' in result['msg']
    assert files_of(tmp_path) == before and PASSWORD not in json.dumps(result)


def test_the_standby_account_must_differ_from_the_user(run_module, tmp_path):
    kind, result, _module, _fake = run_module({'standby_user': 'mailuser'})
    assert kind == 'fail'
    assert result['problems'] == ["standby_user: 'mailuser' is also user; give an account of its own"]


# ------------------------------------------------------------ TLS to the database

CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2E=\n-----END CERTIFICATE-----\n'
NEW_CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTmV3=\n-----END CERTIFICATE-----\n'
TLS_FAILED = (
    "postmap: warning: connect to mysql server 10.0.0.1: TLS/SSL error: self-signed certificate in certificate chain\n"
    "postmap: fatal: table {table}: query error: Application error\n")


def ca_files(tmp_path):
    return sorted(name for name in os.listdir(str(tmp_path)) if name.startswith('mysql-ca-'))


def test_tls_writes_the_ca_and_the_client_files_verify_the_server(run_module, tmp_path):
    kind, result, _module, fake = run_module({'tls_ca_certificate': CA, 'proxy': True})
    assert kind == 'exit' and result['changed'] is True
    (ca_name,) = ca_files(tmp_path)
    assert result['tls_ca_file'] == str(tmp_path / ca_name)
    assert (tmp_path / ca_name).read_text() == CA and stat.S_IMODE(os.stat(result['tls_ca_file']).st_mode) == 0o644
    text = (tmp_path / 'mysql-email2email.cf').read_text()
    assert 'tls_CAfile = %s\n' % result['tls_ca_file'] in text and 'tls_verify_cert = yes\n' in text
    # The CA was there when the new files were validated.
    assert fake.jobs
    kind, result, _module, fake = run_module({'tls_ca_certificate': CA, 'proxy': True})
    assert (kind, result['changed'], result['ca_files_removed'], fake.jobs) == ('exit', False, [], [])


def test_a_new_ca_is_validated_before_it_goes_live_and_the_old_one_goes_after(run_module, tmp_path):
    run_module({'tls_ca_certificate': CA, 'proxy': True})
    (old,) = ca_files(tmp_path)
    kind, result, _module, fake = run_module({'tls_ca_certificate': NEW_CA, 'proxy': True})
    assert kind == 'exit' and result['changed'] is True and fake.jobs
    assert ca_files(tmp_path) == [os.path.basename(result['tls_ca_file'])] and old not in ca_files(tmp_path)
    assert result['ca_files_removed'] == [str(tmp_path / old)]
    assert result['tls_ca_file'] in (tmp_path / 'mysql-email2email.cf').read_text()


def test_a_ca_that_does_not_verify_changes_nothing_and_says_tls(run_module, tmp_path):
    run_module({'tls_ca_certificate': CA, 'proxy': True})
    before = files_of(tmp_path)
    fake = FakePostfix(error_for=lambda table: TLS_FAILED.format(table=table))
    kind, result, _module, _fake = run_module({'tls_ca_certificate': NEW_CA, 'proxy': True}, fake)
    assert kind == 'fail' and result['changed'] is False and result['error_kind'] == 'tls'
    assert 'the TLS connection to the database failed' in result['msg']
    # The new CA file, named by no live file, is gone with the temporary client files.
    assert files_of(tmp_path) == before


def test_tls_files_with_chrooted_readers_need_proxymap(run_module, tmp_path):
    kind, result, _module, _fake = run_module({'tls_ca_certificate': CA, 'proxy': False})
    assert kind == 'fail' and 'tls_ca_certificate' in result['msg'] and 'proxy' in result['msg']
    assert 'every lookup would fail' in result['msg'] and ca_files(tmp_path) == []


@pytest.mark.parametrize('args, message', [
    ({'tls_ca_certificate': 'not a certificate'}, 'tls_ca_certificate must be the CA certificate(s) in PEM form'),
    ({'tls_ca_certificate': CA + '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n'},
     'tls_ca_certificate holds a private key'),
    ({'tls_ca_certificate': CA, 'options': {'tls_CAfile': '/etc/ssl/ca.pem'}}, 'tls_ca_certificate and options'),
])
def test_bad_tls_input_is_refused_before_anything_is_written(run_module, tmp_path, args, message):
    kind, result, _module, _fake = run_module(dict(args, proxy=True))
    assert kind == 'fail' and message in result['msg'] and os.listdir(str(tmp_path)) == []


def test_the_proxymap_process_limit_bounds_the_connections_and_is_set_once(run_module, tmp_path):
    kind, result, _module, _fake = run_module({'proxy': True, 'proxymap_process_limit': 4, '_ansible_diff': True})
    assert kind == 'exit' and result['master_cf'] == {'proxymap/unix/process_limit': {'before': '-', 'after': '4'}}
    assert run_module.postconf.master_fields['proxymap/unix/process_limit'] == '4'
    assert any(d.get('before_header') == 'master.cf' and d['after'] == 'proxymap/unix/process_limit = 4\n'
               for d in result['diff'])
    kind, result, _module, _fake = run_module({'proxy': True, 'proxymap_process_limit': 4})
    assert (kind, result['changed'], result['master_cf']) == ('exit', False, {})
    # Without proxymap, or without a limit, master.cf is not touched.
    run_module.postconf.master_fields['proxymap/unix/process_limit'] = '-'
    kind, result, _module, _fake = run_module({'proxy': False, 'proxymap_process_limit': 4})
    assert result['master_cf'] == {} and run_module.postconf.master_fields['proxymap/unix/process_limit'] == '-'


def test_a_proxymap_process_limit_below_one_is_refused(run_module, tmp_path):
    kind, result, _module, _fake = run_module({'proxy': True, 'proxymap_process_limit': 0})
    assert kind == 'fail' and 'proxymap_process_limit' in result['msg'] and os.listdir(str(tmp_path)) == []


def test_tables_reached_only_through_a_parameter_are_listed_before_a_unionmap_hides_them(run_module, tmp_path):
    """proxymap does not look inside unionmap:{...}: a table served so far through
    $virtual_alias_maps must be listed by itself before the parameter becomes a unionmap."""
    table = 'proxy:mysql:%s/mysql-%s.cf'
    run_module.postconf.main_cf.update(
        virtual_mailbox_domains=table % (tmp_path, 'virtual-mailbox-domains'),
        virtual_alias_maps=table % (tmp_path, 'email2email'))
    kind, result, _module, _fake = run_module({'proxy': True, 'union_parameters': []})
    assert kind == 'exit' and 'proxy_read_maps' in result['main_cf']
    listed = run_module.postconf.main_cf['proxy_read_maps'].split()
    assert table % (tmp_path, 'email2email') in listed and table % (tmp_path, 'virtual-mailbox-domains') in listed
    assert run_module.postconf.writes()[0][-1].startswith('proxy_read_maps=')


def test_new_proxied_tables_with_reload_false_change_nothing(run_module, tmp_path):
    kind, result, _module, _fake = run_module({'proxy': True, 'reload': False})
    assert kind == 'fail' and 'run with reload=true' in result['msg'] and run_module.postconf.writes() == []


def posix_acl(*entries):
    """The binary form of a POSIX ACL (system.posix_acl_*): (tag, permissions, id) each."""
    import struct
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', tag, perm, ident) for tag, perm, ident in entries)


# Owner rw, the user nobody r, group r, mask r, others nothing.
NOBODY_MAY_READ = posix_acl((0x01, 6, 0xffffffff), (0x02, 4, 65534), (0x04, 4, 0xffffffff), (0x10, 4, 0xffffffff),
                            (0x20, 0, 0xffffffff))


def test_a_rewritten_client_file_keeps_no_acl_or_attribute_put_on_it_by_hand(run_module, tmp_path):
    run_module({'password': OLD_PASSWORD})
    live = str(tmp_path / 'mysql-virtual-mailbox-domains.cf')
    os.setxattr(live, 'system.posix_acl_access', NOBODY_MAY_READ)
    os.setxattr(live, 'user.note', b'put here by hand')
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is True
    assert PASSWORD in (tmp_path / 'mysql-virtual-mailbox-domains.cf').read_text()
    assert [name for name in os.listxattr(live) if not name.startswith('security.')] == []
    assert stat.S_IMODE(os.stat(live).st_mode) == 0o640


def test_a_new_client_file_drops_the_acl_its_directory_would_give_it(run_module, tmp_path):
    os.setxattr(str(tmp_path), 'system.posix_acl_default', NOBODY_MAY_READ)
    kind, _result, _module, _fake = run_module({})
    assert kind == 'exit'
    for name in ('mysql-virtual-mailbox-domains.cf', 'mysql-email2email.cf'):
        path = str(tmp_path / name)
        assert [attr for attr in os.listxattr(path) if not attr.startswith('security.')] == [], name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640, name


def test_a_file_of_a_server_built_by_hand_keeps_its_name(run_module, tmp_path):
    # The trixie edition's file, written by hand: the map takes it over under its own name.
    hand_made = tmp_path / 'mariadb-email2email.cf'
    hand_made.write_text('user = mailserver\npassword = %s\nhosts = localhost\ndbname = mailserver\n'
                         "query = SELECT email FROM virtual_users WHERE email='%%s'\n" % OLD_PASSWORD)
    os.chmod(str(hand_made), 0o640)
    maps = [MAPS[0], dict(MAPS[1], file='mariadb-email2email.cf')]
    kind, result, module, fake = run_module({'maps': maps, '_ansible_diff': True})
    assert kind == 'exit' and result['changed'] is True
    assert [(f['path'], f['reasons']) for f in result['files']] == [
        (str(tmp_path / 'mysql-virtual-mailbox-domains.cf'), ['created']), (str(hand_made), ['content'])]
    assert sorted(files_of(tmp_path)) == ['mariadb-email2email.cf', 'mysql-virtual-mailbox-domains.cf']
    assert run_module.postconf.main_cf['virtual_alias_maps'] == 'mysql:%s' % hand_made
    assert 'password = %s\n' % PASSWORD in hand_made.read_text()
    # Validated through a temporary file beside it, named after it.
    assert any(argv[-1].startswith('mysql:%s/.mariadb-email2email.cf.' % tmp_path) for argv, _data in fake.jobs)
    assert OLD_PASSWORD not in json.dumps(result) and OLD_PASSWORD in module.no_log_values
    kind, result, _module, _fake = run_module({'maps': maps})
    assert kind == 'exit' and result['changed'] is False


def test_a_ca_file_named_only_by_files_of_their_own_names_stays_while_they_name_it(run_module, tmp_path):
    maps = [dict(entry, file='mariadb-%s.cf' % entry['name']) for entry in MAPS]
    kind, result, _module, _fake = run_module({'maps': maps, 'tls_ca_certificate': CA, 'proxy': True})
    assert kind == 'exit' and result['changed'] is True
    (old,) = ca_files(tmp_path)
    kind, result, _module, _fake = run_module({'maps': maps, 'tls_ca_certificate': CA, 'proxy': True})
    assert (kind, result['changed'], result['ca_files_removed'], ca_files(tmp_path)) == ('exit', False, [], [old])
    # A new CA that does not verify: the live files still name the old one, which stays.
    before = files_of(tmp_path)
    fake = FakePostfix(error_for=lambda table: TLS_FAILED.format(table=table))
    kind, result, _module, _fake = run_module({'maps': maps, 'tls_ca_certificate': NEW_CA, 'proxy': True}, fake)
    assert kind == 'fail' and files_of(tmp_path) == before
    kind, result, _module, _fake = run_module({'maps': maps, 'tls_ca_certificate': NEW_CA, 'proxy': True})
    assert kind == 'exit' and result['ca_files_removed'] == [str(tmp_path / old)]


def test_temporary_files_of_a_killed_run_are_found_whatever_the_client_files_are_called(run_module, tmp_path):
    run_module({})
    leftover = tmp_path / '.mariadb-email2email.cf.a1b2c3_d.new'
    leftover.write_text('password = %s\n' % PASSWORD)
    # Not the module's: not eight of mkstemp's characters, or not a client file's name.
    others = [tmp_path / '.mariadb-email2email.cf.notes.new', tmp_path / '.main.cfg.a1b2c3_d.new',
              tmp_path / 'mariadb-email2email.cf.a1b2c3_d.new']
    for other in others:
        other.write_text('not ours')
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['leftovers_removed'] == [str(leftover)] and not leftover.exists()
    assert all(other.exists() for other in others)


# ------------------------------------------------------------ copies of what was there

HAND_MADE = ('user = mailuser\npassword = %s\nhosts = 127.0.0.1\ndbname = mailserver\n'
             "query = SELECT email FROM virtual_users WHERE email='%%s'\n" % OLD_PASSWORD)


def text_of(path):
    with open(path, 'rb') as handle:
        return handle.read()


def copies_in(tmp_path):
    return sorted(name for name in os.listdir(str(tmp_path)) if '.before-mailfleet.' in name)


def test_backup_keeps_main_cf_and_a_hand_written_client_file_once_before_the_first_change(run_module, tmp_path):
    (tmp_path / 'main.cf').write_text('myhostname = mail.example.org\n')
    hand_made = tmp_path / 'mysql-email2email.cf'
    hand_made.write_text(HAND_MADE)
    os.chmod(str(hand_made), 0o644)
    kind, result, module, _fake = run_module({'backup': True, '_ansible_check_mode': True})
    assert kind == 'exit' and result['changed'] is True and result['backup_files'] == [] and copies_in(tmp_path) == []
    kind, result, module, _fake = run_module({'backup': True})
    assert kind == 'exit' and result['changed'] is True
    assert [os.path.basename(path).split('.before-mailfleet.')[0] for path in result['backup_files']] == [
        'main.cf', 'mysql-email2email.cf']
    assert copies_in(tmp_path) == sorted(os.path.basename(path) for path in result['backup_files'])
    main_copy, client_copy = result['backup_files']
    assert text_of(main_copy) == b'myhostname = mail.example.org\n'
    # As it was, but never readable by others: it holds the old password.
    assert text_of(client_copy) == HAND_MADE.encode() and stat.S_IMODE(os.stat(client_copy).st_mode) == 0o640
    assert OLD_PASSWORD not in json.dumps(result)
    # The next change: one copy per file is enough, and the collection's own files are not copied.
    kind, result, _module, _fake = run_module({'backup': True, 'password': 'An0ther-pw#2'})
    assert kind == 'exit' and result['changed'] is True and result['backup_files'] == []
    assert len(copies_in(tmp_path)) == 2


def test_without_backup_nothing_is_copied(run_module, tmp_path):
    (tmp_path / 'main.cf').write_text('myhostname = mail.example.org\n')
    (tmp_path / 'mysql-email2email.cf').write_text(HAND_MADE)
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and result['backup_files'] == [] and copies_in(tmp_path) == []


def test_a_hand_written_file_of_a_retired_map_is_copied_before_it_goes(run_module, tmp_path):
    run_module({})
    old = tmp_path / 'mariadb-old-aliases.cf'
    old.write_text(HAND_MADE)
    maps = MAPS + [{'name': 'old-aliases', 'file': 'mariadb-old-aliases.cf', 'state': 'absent'}]
    kind, result, _module, _fake = run_module({'maps': maps, 'backup': True})
    assert kind == 'exit' and not old.exists()
    (copy,) = result['backup_files']
    assert copy.startswith(str(old) + '.before-mailfleet.') and text_of(copy) == HAND_MADE.encode()


def test_a_copy_that_cannot_be_made_changes_nothing(run_module, tmp_path, monkeypatch):
    (tmp_path / 'mysql-email2email.cf').write_text(HAND_MADE)
    before = files_of(tmp_path)

    def no_space(module, path, now=None):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(mysql_maps, 'keep_first_copy', no_space)
    kind, result, _module, _fake = run_module({'backup': True})
    assert kind == 'fail' and result['changed'] is False
    assert result['msg'].startswith('nothing was changed: cannot keep a copy of a file before changing it')
    assert files_of(tmp_path) == before and run_module.postconf.writes() == []


def test_a_copy_keeps_the_bytes_and_the_owner_of_the_file(run_module, tmp_path):
    main_cf = tmp_path / 'main.cf'
    main_cf.write_bytes(b'# r\xe9seau d\xe9fini \xe0 la main\nmyhostname = mail.example.org\n')
    os.chmod(str(main_cf), 0o644)
    kind, result, _module, _fake = run_module({'backup': True})
    (copy,) = result['backup_files']
    info = os.stat(copy)
    assert text_of(copy) == b'# r\xe9seau d\xe9fini \xe0 la main\nmyhostname = mail.example.org\n'
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (os.getuid(), os.getgid(), 0o640)
    assert re.match(r'^main\.cf\.before-mailfleet\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$', os.path.basename(copy))


def host_answers(postconf, answers):
    """Run_module's commands: ANSWERS for dpkg-query and systemctl, postconf for the rest."""
    def answer(argv):
        for prefix, canned in answers.items():
            if ' '.join(argv).startswith(prefix):
                return canned
        return postconf(argv)
    return answer


def test_missing_packages_are_named_and_nothing_is_read_or_written(run_module, tmp_path):
    postconf = run_module.postconf
    run_module.postconf = host_answers(postconf, {
        '/usr/sbin/dpkg-query -W': (1, 'postfix\tii \n', 'dpkg-query: no packages found matching postfix-mysql'),
        '/usr/sbin/systemctl is-active': (0, '', ''),
        '/usr/sbin/systemctl is-enabled': (0, 'enabled\n', ''),
    })
    kind, result, _module, fake = run_module({'packages': ['postfix', 'postfix-mysql'], 'service': 'postfix'})
    assert kind == 'exit' and result['changed'] is False
    assert (result['missing_packages'], result['installed']) == (['postfix-mysql'], False)
    assert files_of(tmp_path) == {} and fake.jobs == [] and postconf.calls == []


def test_an_installed_host_says_so_and_a_stopped_postfix_is_started_once_the_files_are_there(run_module, tmp_path):
    started = []
    run_module.postconf = host_answers(run_module.postconf, {
        '/usr/sbin/dpkg-query -W': (0, 'postfix\tii \npostfix-mysql\tii \n', ''),
        '/usr/sbin/systemctl is-active': (3, '', ''),
        '/usr/sbin/systemctl is-enabled': (0, 'enabled\n', ''),
    })
    answer = run_module.postconf

    def commands(argv):
        if argv[:2] == ['/usr/sbin/systemctl', 'start']:
            started.append((argv[2], sorted(files_of(tmp_path))))
            return 0, '', ''
        return answer(argv)
    run_module.postconf = commands
    kind, result, _module, _fake = run_module({'packages': ['postfix', 'postfix-mysql'], 'service': 'postfix'})
    assert kind == 'exit' and result['changed'] is True
    assert (result['missing_packages'], result['installed']) == ([], True)
    assert (result['service_active'], result['service_enabled']) == (False, True)
    assert result['service_changes'] == ['start']
    assert started == [('postfix', ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf'])]


def test_check_mode_says_what_would_be_done_to_a_stopped_service(run_module, tmp_path):
    run_module.postconf = host_answers(run_module.postconf, {
        '/usr/sbin/systemctl is-active': (3, '', ''),
        '/usr/sbin/systemctl is-enabled': (1, 'disabled\n', ''),
    })
    kind, result, _module, _fake = run_module({'service': 'postfix', '_ansible_check_mode': True})
    assert kind == 'exit' and result['service_changes'] == ['enable', 'start'] and files_of(tmp_path) == {}


def test_host_rules_name_the_caller_s_variables(run_module, tmp_path):
    run_module.postconf.version = None
    kind, result, _module, _fake = run_module({'labels': {'config_dir': 'mailfleet_postfix_config_dir'}})
    assert kind == 'fail' and 'mailfleet_postfix_config_dir: postconf -c %s does not answer' % tmp_path in result['msg']


def test_the_recovery_service_follows_the_first_present_map_once_the_maps_are_in_place(
        run_module, tmp_path, monkeypatch):
    asked = []

    def manage(module, client_file, config_dir, state):
        asked.append((client_file, config_dir, state, sorted(files_of(tmp_path))))
        return ['start']
    monkeypatch.setattr(mysql_maps, 'manage_recovery_service', manage)
    kind, result, _module, _fake = run_module({'recovery_service': 'present'})
    assert kind == 'exit' and result['recovery_service_changes'] == ['start']
    assert asked == [(str(tmp_path / 'mysql-virtual-mailbox-domains.cf'), str(tmp_path), 'present',
                      ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf'])]
    # Unchanged maps: the service alone changes the run.
    kind, result, _module, _fake = run_module({'recovery_service': 'present'})
    assert kind == 'exit' and result['changed'] is True and [f['changed'] for f in result['files']] == [False, False]


def test_a_recovery_service_that_cannot_be_put_in_place_fails_after_the_maps(run_module, tmp_path, monkeypatch):
    def manage(module, client_file, config_dir, state):
        raise mysql_maps.RecoveryServiceError('systemctl start failed: no systemd')
    monkeypatch.setattr(mysql_maps, 'manage_recovery_service', manage)
    kind, result, _module, _fake = run_module({'recovery_service': 'present'})
    assert kind == 'fail' and result['msg'] == ('the maps are in place, but the database recovery service is not: '
                                                'systemctl start failed: no systemd')
    assert sorted(files_of(tmp_path)) == ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf']


def test_without_the_recovery_service_option_the_service_is_left_alone(run_module, monkeypatch):
    monkeypatch.setattr(mysql_maps, 'manage_recovery_service', None)
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and 'recovery_service_changes' not in result


def test_checks_are_asked_of_the_configuration_in_place_in_the_same_run(run_module, tmp_path):
    table = 'mysql:%s/mysql-email2email.cf' % tmp_path
    fake = FakePostfix({table: {'john@example.org': 'john@example.org'}})
    checks = [{'table': table, 'expect': {'john@example.org': 'john@example.org', 'x@example.org': None},
               'item': {'map': 'email2email'}}]
    kind, result, module, fake = run_module({'checks': checks}, fake)
    assert kind == 'exit' and result['changed'] is True
    assert [(c['item'], c['failed'], c['answers']) for c in result['checks']] == [
        ({'map': 'email2email'}, False, {'john@example.org': 'john@example.org', 'x@example.org': None})]
    # The new files were validated first, then the live table was asked.
    assert fake.jobs[-1] == ([POSTMAP, '-c', str(tmp_path), '-q', '-', table], 'john@example.org\nx@example.org\n')
    assert PASSWORD not in json.dumps(result)


def test_a_failed_check_fails_the_run_saying_the_configuration_is_in_place(run_module, tmp_path):
    table = 'mysql:%s/mysql-email2email.cf' % tmp_path
    checks = [{'table': table, 'expect': {'john@example.org': 'john@example.org'}, 'item': 'identity'}]
    kind, result, _module, _fake = run_module({'checks': checks}, FakePostfix({table: {}}))
    assert kind == 'fail'
    assert result['msg'].startswith('the configuration is in place, but 1 of 1 checks failed: check 1: '
                                    '1 of 1 expected answers differ:')
    assert result['changed'] is True and result['checks'][0]['failed'] is True
    assert sorted(files_of(tmp_path)) == ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf']


def test_checks_are_not_asked_in_check_mode(run_module, tmp_path):
    checks = [{'table': 'mysql:%s/mysql-email2email.cf' % tmp_path, 'keys': ['a@x'], 'item': 'a'}]
    kind, result, _module, fake = run_module({'checks': checks, '_ansible_check_mode': True})
    assert kind == 'exit' and 'checks' not in result and fake.jobs == []


class Killed(BaseException):
    """The module process killed at this point: nothing after it runs (not even except or finally
    clauses that catch Exception)."""


def kill_at(monkeypatch, run_module, point):
    """Make the run die when it reaches POINT: 'move N' (before the Nth atomic_move), 'main.cf'
    (before postconf writes main.cf), 'master.cf' (before it writes a master.cf field), 'reload'
    (before postfix reload)."""
    from ansible.module_utils import basic
    moves = []
    real_move = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, **kwargs):
        moves.append(dest)
        if point == 'move %d' % len(moves):
            raise Killed(point)
        real_move(self, src, dest, **kwargs)
    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    answer = run_module.postconf

    def postconf(argv):
        if point == 'main.cf' and '-e' in argv or point == 'master.cf' and '-F' in argv and '=' in argv[-1]:
            raise Killed(point)
        return answer(argv)
    run_module.postconf = postconf
    if point == 'reload':
        real_reload = run_module.postfix['reload']

        class KillingAnswers(dict):
            def __getitem__(self, key):
                if key == 'reload':
                    raise Killed(point)
                return dict.__getitem__(self, key)
        run_module.postfix = KillingAnswers(run_module.postfix, reload=real_reload)

    def restore():
        monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', real_move)
        run_module.postconf = answer
        run_module.postfix = {'status': (0, '', ''), 'check': (0, '', ''), 'reload': (0, '', '')}
    return restore


@pytest.mark.parametrize('point, main_cf_only', [
    ('move 1', False), ('move 2', False), ('main.cf', False), ('reload', False), ('main.cf', True), ('reload', True),
])
def test_a_run_killed_at_any_step_owes_its_reload_and_the_next_run_finishes(
        run_module, tmp_path, monkeypatch, point, main_cf_only):
    if main_cf_only:
        # The files are in place: this run changes main.cf alone.
        run_module({})
        run_module.postconf.main_cf['virtual_alias_maps'] = 'hash:/etc/postfix/virtual'
    restore = kill_at(monkeypatch, run_module, point)
    with pytest.raises(Killed):
        run_module({})
    # The debt is written down before the first live change, whatever the step that was cut.
    assert PendingReload(str(tmp_path)).owed() is not None
    # The next run, not killed, finishes the work, pays the debt and leaves no temporary file.
    restore()
    run_module.postfix_calls[:] = []
    kind, result, _module, _fake = run_module({})
    assert kind == 'exit' and result['changed'] is True and result['reloaded'] is True
    assert run_module.postfix_calls == ['status', 'check', 'reload']
    assert PendingReload(str(tmp_path)).owed() is None
    assert sorted(files_of(tmp_path)) == ['mysql-email2email.cf', 'mysql-virtual-mailbox-domains.cf']
    assert run_module.postconf.main_cf['virtual_alias_maps'] == 'mysql:%s/mysql-email2email.cf' % tmp_path
    for name in files_of(tmp_path):
        assert stat.S_IMODE(os.stat(str(tmp_path / name)).st_mode) == 0o640


def test_a_run_killed_before_it_writes_master_cf_owes_its_reload(run_module, tmp_path, monkeypatch):
    args = {'proxy': True, 'proxymap_process_limit': 10}
    run_module(args)
    # Changed by hand: this run changes master.cf alone.
    run_module.postconf.master_fields['proxymap/unix/process_limit'] = '-'
    restore = kill_at(monkeypatch, run_module, 'master.cf')
    with pytest.raises(Killed):
        run_module(args)
    assert PendingReload(str(tmp_path)).owed() is not None
    restore()
    run_module.postfix_calls[:] = []
    kind, result, _module, _fake = run_module(args)
    assert kind == 'exit' and result['reloaded'] is True and result['master_cf'] == {
        'proxymap/unix/process_limit': {'before': '-', 'after': '10'}}
    assert PendingReload(str(tmp_path)).owed() is None


def test_the_client_files_are_root_postfix_0640_unless_told_otherwise():
    from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import mysql_maps_argument_spec
    spec = mysql_maps_argument_spec()
    assert (spec['owner']['default'], spec['group']['default'], spec['mode']['default']) == ('root', 'postfix', '0640')
    assert mysql_maps.parse_mode(spec['mode']['default']) == 0o640
    assert spec['password']['no_log'] is True and spec['validate']['default'] is True
