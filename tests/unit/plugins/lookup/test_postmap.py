# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleLookupError

from ansible_collections.mailfleet.postfix_mysql.plugins.doc_fragments.postmap import ModuleDocFragment
from ansible_collections.mailfleet.postfix_mysql.plugins.lookup import postmap as plugin
from ansible_collections.mailfleet.postfix_mysql.tests.unit.plugins.fake_postmap import FakePostfix

PASSWORD = 'S3cr3t-pw#1'
POSTMAP = '/usr/sbin/postmap'
NAME = 'mailfleet.postfix_mysql.postmap'


@pytest.fixture
def table(tmp_path):
    path = tmp_path / 'mysql-virtual-mailbox-domains.cf'
    path.write_text("user = mailuser\npassword = %s\nhosts = 127.0.0.1\n"
                    "query = SELECT 1 FROM virtual_domains WHERE name='%%s'\n" % PASSWORD)
    return 'mysql:%s' % path


@pytest.fixture
def lookup(monkeypatch):
    """The lookup with its options registered as the plugin loader would, and a fake postmap.

    The loader adds the options of the doc fragment the lookup extends; the lookup's own
    options come on top, as ansible-doc merges them.
    """
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc['extends_documentation_fragment'] == ['mailfleet.postfix_mysql.postmap']
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options'])
    options.update(doc['options'])
    C.config.initialize_plugin_configuration_definitions('lookup', NAME, options)
    monkeypatch.setattr(plugin.LookupModule, 'find_postmap', staticmethod(lambda: POSTMAP))

    def make(fake):
        instance = plugin.LookupModule()
        instance._load_name = NAME
        instance.runner_class = fake
        return instance

    return make


def test_terms_in_order(lookup, table):
    fake = FakePostfix({table: {'example.org': '1', 'example.com': '1'}})
    assert lookup(fake).run(['example.org', 'nope.example', 'example.com'], {}, table=table) == ['1', None, '1']
    assert fake.jobs == [([POSTMAP, '-q', '-', table], 'example.org\nnope.example\nexample.com\n')]


def test_default_tables_and_config_dir(lookup, table):
    identity = 'hash:/etc/postfix/identity'
    fake = FakePostfix({table: {'a@x': 'b@x'}, identity: {'a@x': 'a@x', 'c@x': 'c@x'}})
    result = lookup(fake).run(['a@x', 'c@x', 'd@x'], {}, tables=[table, identity], default='(unknown)',
                              config_dir='/etc/postfix-out')
    assert result == ['b@x', 'c@x', '(unknown)']
    assert [argv for argv, data in fake.jobs] == [[POSTMAP, '-c', '/etc/postfix-out', '-q', '-', table],
                                                  [POSTMAP, '-c', '/etc/postfix-out', '-q', '-', identity]]
    assert fake.jobs[1][1] == 'c@x\nd@x\n'


def test_parallel(lookup, table):
    terms = ['k%d' % i for i in range(300)]
    fake = FakePostfix({table: dict((k, k.upper()) for k in terms[::2])})
    result = lookup(fake).run(terms, {}, table=table, parallel=3)
    assert len(fake.jobs) == 3
    assert result == [k.upper() if i % 2 == 0 else None for i, k in enumerate(terms)]


def test_table_error_raises_clear_text(lookup, table):
    stderr = ("postmap: warning: connect to mysql server 127.0.0.1: Access denied for user "
              "'mailuser  password = %s'@'localhost' (using password: NO)\n"
              "postmap: fatal: table %s: query error: Resource temporarily unavailable\n" % (PASSWORD, table))
    with pytest.raises(AnsibleLookupError) as info:
        lookup(FakePostfix(errors={table: stderr})).run(['example.org'], {}, table=table)
    message = str(info.value)
    assert 'postmap cannot query table %s (database host(s): 127.0.0.1)' % table in message
    assert 'Access denied' in message
    assert PASSWORD not in message


@pytest.mark.parametrize('terms, kwargs, words', [
    (['a'], {}, 'give exactly one of table and tables'),
    (['a'], {'table': 'hash:/a', 'tables': ['hash:/b']}, 'give exactly one of table and tables'),
    (['a', ''], {'table': 'hash:/a'}, "refused key(s) ''"),
    (['a\nb'], {'table': 'hash:/a'}, 'refused key(s)'),
    (['a'], {'table': 'hash:/a', 'timeout': 0}, 'timeout must be'),
])
def test_refused(lookup, terms, kwargs, words):
    fake = FakePostfix()
    with pytest.raises(AnsibleLookupError) as info:
        lookup(fake).run(terms, {}, **kwargs)
    assert words in str(info.value)
    assert fake.jobs == []


def test_no_terms(lookup):
    assert lookup(FakePostfix()).run([], {}, table='hash:/a') == []


def test_password_hidden_in_answers(lookup, table):
    fake = FakePostfix({table: {'k': 'pw=' + PASSWORD}})
    assert lookup(fake).run(['k'], {}, table=table) == ['pw=********']


def test_postmap_missing_on_controller(monkeypatch):
    def get_bin_path(*args, **kwargs):
        raise ValueError('Failed to find required executable "postmap"')

    monkeypatch.setattr(plugin, 'get_bin_path', get_bin_path)
    with pytest.raises(AnsibleLookupError) as info:
        plugin.LookupModule.find_postmap()
    assert 'postmap was not found on the controller' in str(info.value)
