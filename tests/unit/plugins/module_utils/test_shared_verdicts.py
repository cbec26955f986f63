# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both roles write the same account and trust the same CA: they must give the same verdict on
the same value (the postfix role's rules in maps.py, the database role's in mail_data.py, both
from credentials.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import mail_data, maps

CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2E=\n-----END CERTIFICATE-----\n'
CRL = '-----BEGIN X509 CRL-----\nMIIBAAAA\n-----END X509 CRL-----\n'
KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n'
GOOD = dict(user='mailuser', password='Good-Password-1234', dbname='mailserver', ca='')


def postfix_role_refuses(user, password, dbname, ca):
    entry = {'name': 'a', 'parameter': 'virtual_alias_maps', 'query': "SELECT 1 FROM t WHERE x='%s'",
             'state': 'present'}
    try:
        maps.check_all([entry], ['127.0.0.1'], user, password, dbname, {}, tls_ca_certificate=ca or None)
    except maps.MapsError as exc:
        return exc.problems
    return []


def database_role_refuses(user, password, dbname, ca):
    reader = dict(user=user, password=password, hosts=['127.0.0.1'], login_user='root', database=dbname,
                  standby_user=None, replication_user=None, columns_only=False)
    found = mail_data.problems([], [], [], reader)
    if ca:
        found += mail_data.server_tls_problems(CA, KEY, ca)
    return found


@pytest.mark.parametrize('value', [
    dict(password='x'),
    dict(password='Good\tPassword-1234'),
    dict(password='Good-Password-1234\u2028'),
    dict(password=' Good-Password-1234'),
    dict(user='u' * 81),
    dict(user='u' * 80),
    dict(user='root'),
    dict(user='mail\nuser'),
    dict(dbname='mail%server'),
    dict(dbname='mail_server'),
    dict(ca=CA),
    dict(ca=CA + CRL),
    dict(ca=CA + KEY),
    dict(ca='not a certificate'),
], ids=lambda value: repr(value)[:40])
def test_both_roles_give_the_same_verdict(value):
    given = dict(GOOD, **value)
    assert bool(postfix_role_refuses(**given)) == bool(database_role_refuses(**given)), (
        postfix_role_refuses(**given), database_role_refuses(**given))


def test_good_values_pass_both():
    assert postfix_role_refuses(**GOOD) == [] and database_role_refuses(**GOOD) == []
