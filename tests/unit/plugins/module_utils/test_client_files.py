# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import time

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import client_files as cf
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import client_file_path

PASSWORD = 'S3cr3t pw#1'
MAP = {'name': 'virtual-alias-maps', 'parameter': 'virtual_alias_maps',
       'query': "SELECT destination FROM virtual_aliases WHERE source='%s'"}
CONNECTION = dict(user='mailuser', password=PASSWORD, hosts=['10.0.0.1', '10.0.0.2'], dbname='mailserver')
UID, GID = os.getuid(), os.getgid()


def settings(text):
    return [line for line in text.splitlines() if line and not line.startswith('#')]


def test_render_writes_the_tutorial_lines_in_order():
    text = cf.render(MAP, options={}, **CONNECTION)
    assert settings(text) == ['user = mailuser', 'password = ' + PASSWORD, 'hosts = 10.0.0.1 10.0.0.2',
                              'dbname = mailserver', "query = SELECT destination FROM virtual_aliases WHERE source='%s'"]
    assert text.startswith(cf.HEADER)
    assert 'virtual_alias_maps' in text.splitlines()[1] and 'virtual-alias-maps' in text.splitlines()[1]


def test_render_sorts_options_and_lets_the_map_win():
    entry = dict(MAP, options={'expansion_limit': 5, 'tls_verify_cert': True})
    text = cf.render(entry, options={'expansion_limit': 100, 'Require_result_set': False, 'domain': 'example.org'},
                     **CONNECTION)
    assert settings(text)[4:-1] == ['domain = example.org', 'expansion_limit = 5', 'Require_result_set = no',
                                    'tls_verify_cert = yes']


def wanted(tmp_path, name='email2email', text='new\n'):
    return cf.Wanted(name, client_file_path(str(tmp_path), {'name': name}), text)


def test_compare_a_missing_file_is_created(tmp_path):
    w = cf.compare(wanted(tmp_path), UID, GID, 0o640)
    assert w.reasons == ['created'] and w.before is None and w.content_changed


def test_compare_names_every_difference(tmp_path):
    w = wanted(tmp_path)
    with open(w.path, 'w') as handle:
        handle.write('old\n')
    os.chmod(w.path, 0o644)
    cf.compare(w, UID + 1, GID + 1, 0o640)
    assert w.reasons == ['content', 'owner', 'group', 'mode'] and w.before == 'old\n'


def test_compare_an_equal_file_is_unchanged(tmp_path):
    w = wanted(tmp_path)
    with open(w.path, 'w') as handle:
        handle.write('new\n')
    os.chmod(w.path, 0o640)
    assert not cf.compare(w, UID, GID, 0o640).changed


def test_compare_refuses_a_directory(tmp_path):
    w = wanted(tmp_path)
    os.mkdir(w.path)
    with pytest.raises(cf.ClientFileError, match='not a regular file'):
        cf.compare(w, UID, GID, 0o640)


def test_install_never_lets_others_read_the_text(tmp_path, monkeypatch):
    """While the text is written the file is 0600; its final mode comes after the owner."""
    seen = []
    real_write, real_fchown, real_fchmod = os.write, os.fchown, os.fchmod

    def write(fd, data):
        seen.append(('write', stat.S_IMODE(os.fstat(fd).st_mode)))
        return real_write(fd, data)

    def fchown(fd, uid, gid):
        seen.append(('fchown', stat.S_IMODE(os.fstat(fd).st_mode)))
        return real_fchown(fd, uid, gid)

    def fchmod(fd, mode):
        seen.append(('fchmod', mode))
        return real_fchmod(fd, mode)

    monkeypatch.setattr(cf.os, 'write', write)
    monkeypatch.setattr(cf.os, 'fchown', fchown)
    monkeypatch.setattr(cf.os, 'fchmod', fchmod)
    w = cf.compare(wanted(tmp_path), UID, GID, 0o640)
    cf.install([w], UID, GID, 0o640)
    assert seen == [('write', 0o600), ('fchown', 0o600), ('fchmod', 0o640)]
    assert stat.S_IMODE(os.stat(w.path).st_mode) == 0o640
    assert open(w.path).read() == 'new\n'
    assert sorted(os.listdir(str(tmp_path))) == ['mysql-email2email.cf']


def test_install_validates_the_temporary_file_with_its_final_mode(tmp_path):
    checked = []

    def validate(new_files):
        for w in new_files:
            checked.append((w.name, open(w.temp).read(), stat.S_IMODE(os.stat(w.temp).st_mode),
                            os.path.exists(w.path)))
            # Old enough that Postfix's load_file() does not pause for it: mtime < start - 1.
            assert os.stat(w.temp).st_mtime < int(time.time()) - 1

    w = cf.compare(wanted(tmp_path), UID, GID, 0o640)
    cf.install([w], UID, GID, 0o640, validate=validate)
    assert checked == [('email2email', 'new\n', 0o640, False)]


def test_a_failed_validation_changes_no_live_file(tmp_path):
    first, second = wanted(tmp_path, 'a', 'new a\n'), wanted(tmp_path, 'b', 'new b\n')
    for w in (first, second):
        with open(w.path, 'w') as handle:
            handle.write('old\n')
        os.chmod(w.path, 0o640)
        cf.compare(w, UID, GID, 0o640)

    def validate(new_files):
        assert [w.name for w in new_files] == ['a', 'b']
        raise RuntimeError('postmap said no about b')

    with pytest.raises(RuntimeError):
        cf.install([first, second], UID, GID, 0o640, validate=validate)
    assert [open(w.path).read() for w in (first, second)] == ['old\n', 'old\n']
    assert sorted(os.listdir(str(tmp_path))) == ['mysql-a.cf', 'mysql-b.cf']


def test_install_corrects_owner_and_mode_in_place(tmp_path):
    w = wanted(tmp_path)
    with open(w.path, 'w') as handle:
        handle.write('new\n')
    os.chmod(w.path, 0o604)
    inode = os.stat(w.path).st_ino
    cf.compare(w, UID, GID, 0o640)
    assert w.reasons == ['mode']
    cf.install([w], UID, GID, 0o640, validate=lambda new_files: pytest.fail('nothing new to validate'))
    assert stat.S_IMODE(os.stat(w.path).st_mode) == 0o640
    assert os.stat(w.path).st_ino == inode


def test_install_leaves_unchanged_files_alone(tmp_path):
    w = wanted(tmp_path)
    with open(w.path, 'w') as handle:
        handle.write('new\n')
    os.chmod(w.path, 0o640)
    before = os.stat(w.path)
    assert cf.install([cf.compare(w, UID, GID, 0o640)], UID, GID, 0o640) == []
    after = os.stat(w.path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_a_retired_map_without_a_file_is_unchanged(tmp_path):
    assert not cf.compare(wanted(tmp_path, text=None), UID, GID, 0o640).changed


def test_a_retired_map_file_is_removed_only_by_remove(tmp_path):
    w = wanted(tmp_path, text=None)
    with open(w.path, 'w') as handle:
        handle.write('password = old\n')
    cf.compare(w, UID, GID, 0o640)
    assert w.reasons == ['removed'] and w.before == 'password = old\n'
    # install() puts files live; a retired file waits until main.cf no longer names it.
    assert cf.install([w], UID, GID, 0o640) == []
    assert os.path.exists(w.path)
    assert cf.remove([w]) == [w]
    assert os.listdir(str(tmp_path)) == []


def test_install_moves_with_the_given_function_and_then_sets_attributes(tmp_path):
    calls = []

    def move(temp, path):
        calls.append(('move', stat.S_IMODE(os.stat(temp).st_mode)))
        os.rename(temp, path)

    def set_attributes(path):
        calls.append(('attributes', path))

    w = cf.compare(wanted(tmp_path), UID, GID, 0o640)
    cf.install([w], UID, GID, 0o640, move=move, set_attributes=set_attributes)
    assert calls == [('move', 0o640), ('attributes', w.path)]
    # The times are set back after the move, so that Postfix does not pause to let it settle.
    assert os.stat(w.path).st_mtime < int(time.time()) - 1


def test_install_tightens_a_readable_live_file_before_its_text_changes(tmp_path):
    w = wanted(tmp_path)
    with open(w.path, 'w') as handle:
        handle.write('old\n')
    os.chmod(w.path, 0o644)
    modes = []

    def move(temp, path):
        modes.append(stat.S_IMODE(os.stat(path).st_mode))
        os.rename(temp, path)

    cf.install([cf.compare(w, UID, GID, 0o640)], UID, GID, 0o640, move=move)
    assert modes == [0o640]
