# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of the mail data: one table, the input and what the message must say.

Each rule has a case that fails when the rule is lost; the valid inputs must pass. The
messages are checked as the database role shows them, with its variable names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils import mail_data as md
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.mail_data import problems

LABELS = dict(
    domains='mailfleet_database_domains',
    users='mailfleet_database_users',
    aliases='mailfleet_database_aliases',
    reader_user='mailfleet_database_reader_user',
    reader_password='mailfleet_database_reader_password',
    reader_hosts='mailfleet_database_reader_hosts',
    reader_standby_user='mailfleet_database_reader_standby_user',
    reader_login_user='mailfleet_database_login_user',
    reader_replication_user='mailfleet_database_replication_user',
    reader_database='mailfleet_database_name',
)
HASH = '{BLF-CRYPT}$2y$05$.WedBCNZiwxY1CG3aleIleu6lYjup2CIg0BP4M4YCZsO204Czz07W'
PASSWORD = 'Te5t#only pass-word'
READER = dict(user='mailuser', password=PASSWORD, hosts=['127.0.0.1'])
DOMAINS = [dict(name='example.org', state='present')]


def domains(*names, **kwargs):
    return dict(domains=[dict(name=name, state=kwargs.get('state', 'present')) for name in names])


def user(email='john@example.org', password_hash=HASH, quota=0, state='present'):
    return dict(users=[dict(email=email, password_hash=password_hash, quota=quota, state=state)])


def users(*entries):
    return dict(users=[user(**entry)['users'][0] for entry in entries])


def alias(source='jack@example.org', destination='john@example.org', state='present'):
    return dict(aliases=[dict(source=source, destination=destination, state=state)])


def reader(**changes):
    return dict(reader=dict(READER, **changes))


def check(data):
    args = dict(domains=DOMAINS, users=[], aliases=[], reader=READER)
    args.update(data)
    return problems(labels=LABELS, **args)


V = None  # valid: no problem at all

CASES = [
    # Valid data.
    pytest.param(domains('example.org'), V, id='domain'),
    pytest.param(domains('münchen.de'), V, id='domain-idna-unicode'),
    pytest.param(domains('xn--mnchen-3ya.de'), V, id='domain-idna-ascii'),
    pytest.param(domains('Mail-1.Example.ORG'), V, id='domain-upper-case-and-hyphen'),
    pytest.param(domains('a' * 46 + '.org'), V, id='domain-50-characters'),
    pytest.param(domains('localhost'), V, id='domain-one-label'),
    pytest.param(user(), V, id='hash-blf-crypt'),
    pytest.param(user(password_hash='{PLAIN}x'), V, id='hash-plain-on-purpose'),
    pytest.param(user(password_hash='{SHA512-CRYPT}$6$rounds=5000$salt$hash'), V, id='hash-sha512-crypt'),
    pytest.param(user(password_hash='{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA'), V, id='hash-argon2id'),
    pytest.param(user(password_hash='{CRAM-MD5}x.y_z'), V, id='hash-scheme-with-dot-and-underscore'),
    pytest.param(user(password_hash='$6$salt$hash'), V, id='hash-bare-sha512'),
    pytest.param(user(password_hash='$1$salt$hash'), V, id='hash-bare-md5'),
    pytest.param(user(password_hash='$5$salt$hash'), V, id='hash-bare-sha256'),
    pytest.param(user(password_hash='$2a$05$hash'), V, id='hash-bare-2a'),
    pytest.param(user(password_hash='$2b$05$hash'), V, id='hash-bare-2b'),
    pytest.param(user(password_hash='$2y$05$hash'), V, id='hash-bare-2y'),
    pytest.param(user(password_hash='$argon2id$v=19$m=65536$salt$hash'), V, id='hash-bare-argon2id'),
    pytest.param(user(password_hash='$y$j9T$salt$hash'), V, id='hash-bare-yescrypt'),
    pytest.param(user(password_hash='{PLAIN}' + 'x' * 143), V, id='hash-150-characters'),
    pytest.param(user(email='john+tag@example.org'), V, id='email-plus-tag'),
    pytest.param(user(email='jörg.o\'neil@example.org'), V, id='email-utf8-and-apostrophe'),
    pytest.param(user(email='x' * 64 + '@example.org'), V, id='email-local-64-bytes'),
    pytest.param(user(email='john@münchen.de'), V, id='email-idna-domain'),
    pytest.param(user(email='x' * 60 + '@' + 'a' * 35 + '.org'), V, id='email-100-characters'),
    pytest.param(user(quota=104857600), V, id='quota'),
    pytest.param(user(password_hash=None, state='absent'), V, id='absent-user-needs-no-hash'),
    pytest.param(alias(), V, id='alias'),
    pytest.param(alias(source='@example.org'), V, id='alias-catch-all'),
    pytest.param(alias(source='@example.org', destination='@example.net'), V, id='alias-domain-alias'),
    pytest.param(alias(destination='john@elsewhere.example'), V, id='alias-external-destination'),
    pytest.param(dict(aliases=alias()['aliases'] + alias(destination='jane@example.org')['aliases']), V,
                 id='alias-two-destinations-two-entries'),
    pytest.param(reader(password='ab'), V, id='reader-password-2-characters'),
    pytest.param(reader(password='inner blanks are kept'), V, id='reader-password-inner-blank'),
    pytest.param(reader(user='u' * 80), V, id='reader-user-80-characters'),
    pytest.param(reader(hosts=['10.0.0.%', 'mail.example.org']), V, id='reader-host-patterns'),
    pytest.param(dict(reader=None), V, id='no-reader'),

    # Domain names.
    pytest.param(domains('exa mple..org'), "mailfleet_database_domains[0].name: 'exa mple..org' contains a blank; "
                 "has two dots in a row", id='domain-blank-and-empty-label'),
    pytest.param(domains(''), "mailfleet_database_domains[0].name: '' is empty", id='domain-empty'),
    pytest.param(domains(None), 'mailfleet_database_domains[0].name is empty', id='domain-none'),
    pytest.param(domains('.example.org'), "'.example.org' starts with a dot", id='domain-leading-dot'),
    pytest.param(domains('example.org.'), "'example.org.' ends with a dot", id='domain-trailing-dot'),
    pytest.param(domains('exa\x7fmple.org'), 'contains a control character', id='domain-control-character'),
    pytest.param(domains('mail_1.example.org'), "has a label 'mail_1' with characters other than letters, digits and '-'",
                 id='domain-underscore'),
    pytest.param(domains('-mail.example.org'), "has a label '-mail' that starts or ends with '-'", id='domain-leading-hyphen'),
    pytest.param(domains('mail-.example.org'), "has a label 'mail-' that starts or ends with '-'", id='domain-trailing-hyphen'),
    pytest.param(domains('a' * 64 + '.org'), "has a label '%s' that is longer than 63 characters" % ('a' * 64),
                 id='domain-label-64'),
    pytest.param(domains(''.join(chr(0x4e00 + i * 997) for i in range(20)) + '.cn'), 'that is longer than 63 characters in its IDNA form',
                 id='domain-idna-label-too-long'),
    pytest.param(domains('a\ue000b.example'), "has a label 'a\\ue000b' with characters IDNA does not allow",
                 id='domain-idna-prohibited-character'),
    pytest.param(domains('xn--zz.example'), "has a label 'xn--zz' that is not valid IDNA", id='domain-bad-punycode'),
    pytest.param(domains('.'.join(['a' * 63] * 4) + '.org'), 'is longer than 253 characters in its IDNA form',
                 id='domain-dns-name-too-long'),
    pytest.param(domains('a' * 47 + '.org'), 'is 51 characters long; virtual_domains.name holds at most 50',
                 id='domain-column-too-short'),
    pytest.param(domains('example.org', 'Example.ORG'), "mailfleet_database_domains[1].name: 'Example.ORG' is listed "
                 "already as mailfleet_database_domains[0]", id='domain-twice'),
    pytest.param(dict(domains=[dict(name='example.org', state='present'), dict(name='example.org', state='absent')]),
                 'mailfleet_database_domains[1].name: \'example.org\' is listed already', id='domain-twice-other-state'),

    # User addresses.
    pytest.param(user(email='john'), "mailfleet_database_users[0].email: 'john' has no '@'", id='email-no-at'),
    pytest.param(user(email='john@doe@example.org'), "has more than one '@'", id='email-two-at'),
    pytest.param(user(email=''), "mailfleet_database_users[0].email: '' is empty", id='email-empty'),
    pytest.param(user(email='@example.org'), "'@example.org' has nothing before the '@'", id='email-catch-all-is-no-user'),
    pytest.param(user(email='john@'), "'john@' has nothing after the '@'", id='email-no-domain'),
    pytest.param(user(email='john doe@example.org'), "'john doe@example.org' contains a blank", id='email-blank'),
    pytest.param(user(email='john\n@example.org'), 'contains a control character', id='email-control-character'),
    pytest.param(user(email='.john@example.org'), 'starts with a dot', id='email-leading-dot'),
    pytest.param(user(email='john.@example.org'), "has a dot right before the '@'", id='email-trailing-dot'),
    pytest.param(user(email='jo..hn@example.org'), 'has two dots in a row', id='email-double-dot'),
    pytest.param(user(email='jo,hn@example.org'), "has ',' before the '@', which an address may only hold in quotes",
                 id='email-comma'),
    pytest.param(user(email='<john>@example.org'), "has '<', '>' before the '@'", id='email-angle-brackets'),
    pytest.param(user(email='x' * 65 + '@example.org'), "has more than 64 bytes before the '@'", id='email-local-65'),
    pytest.param(user(email='ö' * 33 + '@example.org'), "has more than 64 bytes before the '@'", id='email-local-66-bytes'),
    pytest.param(user(email='x' * 60 + '@' + 'a' * 36 + '.org'), 'is 101 characters long; the tables hold at most 100',
                 id='email-column-too-short'),
    pytest.param(user(email='john@exa_mple.org'), "has a domain that has a label 'exa_mple' with characters other",
                 id='email-bad-domain'),
    pytest.param(user(email='john@example..org'), 'has a domain that has two dots in a row', id='email-domain-empty-label'),
    pytest.param(users(dict(email='john@example.org'), dict(email='John@Example.org', state='absent')),
                 "mailfleet_database_users[1].email: 'John@Example.org' is listed already as mailfleet_database_users[0]",
                 id='email-twice'),
    pytest.param(dict(domains=[dict(name='old.example', state='absent')], **user(email='john@old.example')),
                 "mailfleet_database_users[0].email: 'john@old.example' is present, but its domain is listed with state absent",
                 id='user-in-removed-domain'),

    # Password hashes: named by the address, never shown.
    pytest.param(user(password_hash=None), "mailfleet_database_users[0].password_hash of 'john@example.org' is required "
                 "when state is present", id='hash-missing'),
    pytest.param(user(password_hash=''), 'is required when state is present', id='hash-empty'),
    pytest.param(user(password_hash='Secret-Plain-1'), "mailfleet_database_users[0].password_hash of 'john@example.org' is "
                 "not in a form Dovecot reads", id='hash-plain-text'),
    pytest.param(user(password_hash='Secret-Plain-1'), "is written '{PLAIN}...'", id='hash-plain-text-says-how'),
    pytest.param(user(password_hash='{PLAIN}'), 'has nothing after its {SCHEME} prefix', id='hash-scheme-only'),
    pytest.param(user(password_hash='{BLF CRYPT}$2y$05$hash'), 'is not in a form Dovecot reads', id='hash-scheme-blank'),
    pytest.param(user(password_hash=' {PLAIN}secret'), 'is not in a form Dovecot reads', id='hash-leading-blank'),
    pytest.param(user(password_hash='$6$'), 'is not in a form Dovecot reads', id='hash-crypt-id-only'),
    pytest.param(user(password_hash='$7$salt$hash'), 'is not in a form Dovecot reads', id='hash-crypt-unknown-id'),
    pytest.param(user(password_hash='$6$salt hash'), 'is not in a form Dovecot reads', id='hash-crypt-blank'),
    pytest.param(user(password_hash='{PLAIN}a\nb'), 'contains a control character', id='hash-control-character'),
    pytest.param(user(password_hash='{PLAIN}' + 'x' * 144), 'is longer than the 150 characters virtual_users.password holds',
                 id='hash-column-too-short'),
    pytest.param(user(quota=-1), "mailfleet_database_users[0].quota of 'john@example.org' is negative (-1)",
                 id='quota-negative'),

    # Aliases.
    pytest.param(alias(source=''), "mailfleet_database_aliases[0].source: '' is empty", id='alias-source-empty'),
    pytest.param(alias(source='jack'), "mailfleet_database_aliases[0].source: 'jack' has no '@'", id='alias-source-no-at'),
    pytest.param(alias(source='@'), "'@' has nothing after the '@'", id='alias-source-at-only'),
    pytest.param(alias(source='@exa mple.org'), 'contains a blank', id='alias-catch-all-bad-domain'),
    pytest.param(alias(destination=''), "mailfleet_database_aliases[0].destination: '' is empty", id='alias-destination-empty'),
    pytest.param(alias(destination='@example.net'), "'@example.net' has nothing before the '@'",
                 id='alias-domain-destination-for-an-address'),
    pytest.param(alias(destination='john@example.org, jane@example.org'),
                 'a destination is one address: list one alias per destination', id='alias-destination-list'),
    pytest.param(alias(destination='john@example.org,jane@example.org'), 'list one alias per destination',
                 id='alias-destination-comma'),
    pytest.param(alias(destination='root'), "'root' has no '@'; give a full address such as john@example.org",
                 id='alias-destination-bare-name'),
    pytest.param(alias(destination='@example.net'), "'@example.net' has nothing before the '@'", id='alias-destination-domain'),
    pytest.param(alias(destination='x' * 90 + '@example.org'), 'is 102 characters long', id='alias-destination-too-long'),
    pytest.param(dict(aliases=alias()['aliases'] + alias(source='Jack@example.org', state='absent')['aliases']),
                 "mailfleet_database_aliases[1]: 'Jack@example.org' -> 'john@example.org' is listed already as "
                 "mailfleet_database_aliases[0]", id='alias-twice'),
    pytest.param(dict(domains=[dict(name='old.example', state='absent')], **alias(source='@old.example')),
                 "mailfleet_database_aliases[0].source: '@old.example' is present, but its domain is listed with state absent",
                 id='alias-in-removed-domain'),

    # The read-only account.
    pytest.param(reader(user=''), "mailfleet_database_reader_user: '' is empty", id='reader-user-empty'),
    pytest.param(reader(password=['Reader-List-Pw-61']),
                 'mailfleet_database_reader_password must be a single string, not a list', id='reader-password-list'),
    pytest.param(user(password_hash={'x': 1}), 'password_hash of \'john@example.org\' must be a single string, not a mapping',
                 id='hash-mapping'),
    pytest.param(reader(user='u' * 81), 'is 81 characters long; MariaDB account names hold at most 80', id='reader-user-81'),
    pytest.param(reader(user='mailuser '), 'starts or ends with a blank', id='reader-user-blank'),
    pytest.param(reader(password=''), 'mailfleet_database_reader_password is empty', id='reader-password-empty'),
    pytest.param(reader(password=None), 'mailfleet_database_reader_password is empty', id='reader-password-none'),
    pytest.param(reader(password='x'), 'mailfleet_database_reader_password is shorter than 2 characters',
                 id='reader-password-one-character'),
    pytest.param(reader(password=' ' + PASSWORD), 'mailfleet_database_reader_password starts or ends with a blank',
                 id='reader-password-leading-blank'),
    pytest.param(reader(password=PASSWORD + ' '), 'starts or ends with a blank, which a Postfix client file strips',
                 id='reader-password-trailing-blank'),
    pytest.param(reader(password='Te5t#only\npass-word'), 'contains a control character or a line separator',
                 id='reader-password-newline'),
    pytest.param(reader(password=u'Te5t#only\u2028pass-word'), 'contains a control character or a line separator',
                 id='reader-password-u2028'),
    pytest.param(reader(password='Te5t#only\x1cpass-word'), 'contains a control character or a line separator',
                 id='reader-password-file-separator'),
    pytest.param(reader(user='root'), "mailfleet_database_reader_user: 'root' is an account of the database server itself",
                 id='reader-user-root'),
    pytest.param(reader(user='debian-sys-maint'), 'is an account of the database server itself', id='reader-user-debian'),
    pytest.param(reader(user='mysql'), 'is an account of the database server itself', id='reader-user-mysql'),
    pytest.param(reader(user='admin', login_user='admin'),
                 "mailfleet_database_reader_user: 'admin' is also mailfleet_database_login_user", id='reader-user-login'),
    pytest.param(reader(user='replicator', replication_user='replicator'),
                 "'replicator' is also mailfleet_database_replication_user", id='reader-user-replication'),
    pytest.param(reader(standby_user='replicator', replication_user='replicator'),
                 "mailfleet_database_reader_standby_user: 'replicator' is also mailfleet_database_replication_user",
                 id='reader-standby-replication'),
    pytest.param(reader(replication_user='root'),
                 "mailfleet_database_replication_user: 'root' is an account of the database server itself",
                 id='replication-user-root'),
    pytest.param(reader(database='mail%server'),
                 "mailfleet_database_name: 'mail%server' must be 1 to 64 letters, digits or _", id='database-percent'),
    pytest.param(reader(database='mail_server'), None, id='database-underscore'),
    pytest.param(reader(hosts=[]), 'mailfleet_database_reader_hosts is empty', id='reader-hosts-empty'),
    pytest.param(reader(hosts=['']), "mailfleet_database_reader_hosts[0]: '' is empty", id='reader-host-empty'),
    pytest.param(reader(hosts=['10.0.0.1 10.0.0.2']), "mailfleet_database_reader_hosts[0]: '10.0.0.1 10.0.0.2' contains a blank",
                 id='reader-host-blank'),
]


@pytest.mark.parametrize('data, expected', CASES)
def test_rule(data, expected):
    found = check(data)
    if expected is None:
        assert found == []
    else:
        assert any(expected in line for line in found), found
    # Never a password or a password hash in a message.
    text = '\n'.join(found)
    secrets = [(data.get('reader') or {}).get('password')] + [u.get('password_hash') for u in data.get('users', [])]
    for secret in secrets:
        for text_of_secret in (secret if isinstance(secret, (list, dict)) else [secret]):
            if isinstance(text_of_secret, str) and len(text_of_secret.strip()) >= 4:
                assert text_of_secret.strip() not in text


def test_every_problem_is_reported_at_once():
    found = check(dict(domains=[dict(name='exa mple..org', state='present'), dict(name='', state='present')],
                       users=[dict(email='john', password_hash='plain', quota=0, state='present')],
                       aliases=[dict(source='jack@example.org', destination='', state='present')],
                       reader=dict(user='mailuser', password='', hosts=['127.0.0.1'])))
    assert [line.split(' ')[0].rstrip(':') for line in found] == [
        'mailfleet_database_domains[0].name', 'mailfleet_database_domains[1].name', 'mailfleet_database_users[0].email',
        'mailfleet_database_users[0].password_hash', 'mailfleet_database_aliases[0].destination',
        'mailfleet_database_reader_password']


def test_without_labels_the_module_options_are_named():
    found = problems(domains=[dict(name='', state='present')], users=user(email='john')['users'],
                     aliases=alias(destination='')['aliases'], reader=dict(user='', password='x', hosts=[]))
    assert [line.split(' ')[0].rstrip(':') for line in found] == [
        'domains[0].name', 'users[0].email', 'aliases[0].destination', 'reader.user', 'reader.password', 'reader.hosts']


SERVER = dict(bind_address='127.0.0.1', replication_role='none', replication_password='',
              replication_hosts=[], replication_primary_host='')
SERVER_LABELS = dict(bind_address='mailfleet_database_bind_address',
                     replication_password='mailfleet_database_replication_password',
                     replication_hosts='mailfleet_database_replication_hosts',
                     replication_primary_host='mailfleet_database_replication_primary_host')


@pytest.mark.parametrize('change, expected', [
    ({}, None),
    (dict(bind_address='0.0.0.0'), None),
    (dict(bind_address='::'), None),
    (dict(bind_address='*'), None),
    (dict(bind_address='10.0.0.5,127.0.0.1'), None),
    (dict(bind_address='db1.example.org'), None),
    (dict(replication_role='primary', replication_password='Repl-pw', replication_hosts=['10.0.0.12', '10.0.0.%']),
     None),
    (dict(replication_role='replica', replication_password='Repl-pw', replication_primary_host='10.0.0.11'), None),
    (dict(bind_address='127.0.0.1 10.0.0.5'), "mailfleet_database_bind_address: '127.0.0.1 10.0.0.5' contains a blank"),
    (dict(bind_address='127.0.0.1\n'), 'mailfleet_database_bind_address: \'127.0.0.1\\n\' contains a blank'),
    (dict(bind_address='10.0.0.999'), 'is not an IP address'),
    (dict(bind_address=''), 'mailfleet_database_bind_address: \'\' is empty'),
    (dict(bind_address=['10.0.0.5']), 'mailfleet_database_bind_address must be a single string, not a list'),
    (dict(replication_role='primary', replication_hosts=['10.0.0.12']),
     'mailfleet_database_replication_password is empty; replication needs a password'),
    (dict(replication_role='primary', replication_password=['x', 'y'], replication_hosts=['10.0.0.12']),
     'mailfleet_database_replication_password must be a single string, not a list'),
    (dict(replication_role='primary', replication_password='Repl-pw'), 'mailfleet_database_replication_hosts is empty'),
    (dict(replication_role='primary', replication_password='Repl-pw', replication_hosts=['10.0.0.12 10.0.0.13']),
     "mailfleet_database_replication_hosts[0]: '10.0.0.12 10.0.0.13' contains a blank"),
    (dict(replication_role='replica', replication_password='Repl-pw'),
     "mailfleet_database_replication_primary_host: '' is empty; a replica needs the address of its primary"),
], ids=['default', 'any-v4', 'any-v6', 'star', 'list', 'name', 'primary', 'replica', 'two-with-blank', 'newline',
        'bad-ip', 'empty', 'a-list', 'no-replication-password', 'replication-password-list', 'primary-no-replicas',
        'replica-host-with-blank', 'replica-without-primary'])
def test_server_settings(change, expected):
    found = md.server_problems(dict(SERVER, **change), SERVER_LABELS)
    if expected is None:
        assert found == []
    else:
        assert any(expected in line for line in found), found
        assert 'Repl-pw' not in '\n'.join(found)


CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydA==\n-----END CERTIFICATE-----\n'
KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAsecret-key-material\n-----END PRIVATE KEY-----\n'


@pytest.mark.parametrize('change, expected', [
    (dict(tls_certificate=CERT, tls_private_key=KEY, tls_ca_certificate=CERT), None),
    (dict(tls_certificate=CERT + CERT, tls_private_key=KEY.replace('PRIVATE', 'EC PRIVATE'), tls_ca_certificate=CERT),
     None),
    (dict(tls_certificate=CERT, tls_ca_certificate=CERT),
     'server TLS needs the certificate, its private key and the CA certificate together; server.tls_private_key '
     'is empty'),
    (dict(tls_private_key=KEY), 'server.tls_ca_certificate and server.tls_certificate are empty'),
    (dict(tls_certificate=KEY, tls_private_key=KEY, tls_ca_certificate=CERT),
     'server.tls_certificate is not certificate(s) in PEM form'),
    (dict(tls_certificate=CERT, tls_private_key=CERT, tls_ca_certificate=CERT),
     'server.tls_private_key is not one unencrypted private key'),
    (dict(tls_certificate=CERT, tls_private_key=KEY.replace('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'),
          tls_ca_certificate=CERT), 'MariaDB cannot ask for a pass phrase'),
    (dict(tls_certificate=CERT, tls_private_key=KEY, tls_ca_certificate=CERT + KEY),
     'server.tls_ca_certificate is not certificate(s) in PEM form'),
    (dict(tls_certificate=[CERT], tls_private_key=KEY, tls_ca_certificate=CERT),
     'server.tls_certificate must be a single string, not a list'),
], ids=['complete', 'chain-and-ec-key', 'no-key', 'only-key', 'key-as-certificate', 'certificate-as-key',
        'encrypted-key', 'key-in-ca', 'list'])
def test_server_tls(change, expected):
    found = md.server_problems(dict(SERVER, **change))
    if expected is None:
        assert found == []
    else:
        assert any(expected in line for line in found), found
    assert 'secret-key-material' not in '\n'.join(found)
