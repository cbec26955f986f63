# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The login of the database modules: a connection the module closed is not closed again
when it is garbage collected (PyMySQL 1.0.2, Debian 12's, raises on that)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import mysql_login


class StrictConnection(object):
    """Closes once, as PyMySQL 1.0.2 does: a second close raises."""

    def __init__(self):
        self.open = True

    def close(self):
        if not self.open:
            raise RuntimeError('Already closed')
        self.open = False


def community_mysql_connect(module, *args, **kwargs):
    """What community.mysql's mysql_connect does to the class: close on garbage collection."""
    connection = StrictConnection()
    type(connection).__del__ = lambda self: self.close()
    return object(), connection


class Module(object):
    params = dict(login_user='root', login_password=None, config_file='', client_cert=None, client_key=None,
                  ca_cert=None, connect_timeout=30, check_hostname=None)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


@pytest.fixture
def connection(monkeypatch):
    monkeypatch.setattr(mysql_login, 'mysql_connect', community_mysql_connect)
    monkeypatch.setattr(mysql_login, 'mysql_driver', object())
    _cursor, connection = mysql_login.connect(Module())
    yield connection
    del StrictConnection.__del__


def test_a_closed_connection_is_not_closed_again_when_collected(connection):
    connection.close()
    type(connection).__del__(connection)  # what the garbage collector does at exit
    assert connection.open is False


def test_an_open_connection_is_still_closed_when_collected(connection):
    type(connection).__del__(connection)
    assert connection.open is False


def test_the_doc_fragment_documents_community_mysqls_login_options():
    """The modules take community.mysql's login options (mysql_connect reads them itself);
    the collection's own doc fragment must say exactly those, option for option."""
    import yaml
    from ansible_collections.community.mysql.plugins.module_utils.mysql import mysql_common_argument_spec
    from ansible_collections.mailfleet.postfix_mysql.plugins.doc_fragments.mysql_login import ModuleDocFragment

    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    spec = mysql_common_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name]['type'] == option['type'], name
        assert documented[name].get('default') == option.get('default'), name
        assert documented[name].get('aliases') == option.get('aliases'), name
