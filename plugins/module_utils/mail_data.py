# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mail data of the ISPmail tables may hold: one home for every rule.

The domains, users and aliases that go into virtual_domains, virtual_users and
virtual_aliases, and the read-only account Postfix logs in with. Pure Python: the
mail_database module checks its options with it before it connects, and the
validate_mail_data action checks the database role's variables with it on the
controller, before anything is installed.

problems() returns every problem at once, one readable line each, naming the option or
variable and the item (``users[2].email: 'john' has no '@'``). No line ever holds a
password or a password hash: a user is named by its address instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from encodings import idna

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.credentials import (
    account_name_reasons,
    breaks_lines,
    database_name_reasons,
    password_reasons,
    pem_reasons,
    string_type_reasons,
)

# Column sizes of the ISPmail tables, as mail_database creates them. A longer value is
# refused here rather than cut short (or refused half-way) by the server.
DOMAIN_LENGTH = 50          # virtual_domains.name
ADDRESS_LENGTH = 100        # virtual_users.email, virtual_aliases.source and .destination
PASSWORD_HASH_LENGTH = 150  # virtual_users.password
DNS_NAME_LENGTH = 253       # RFC 1035, in the ASCII (IDNA) form, without the root dot
DNS_LABEL_LENGTH = 63
LOCAL_PART_LENGTH = 64      # RFC 5321 4.5.3.1.1, in octets

# What the messages call each option when no labels are given: the module's own names.
DEFAULT_LABELS = dict(
    domains='domains',
    users='users',
    aliases='aliases',
    reader_user='reader.user',
    reader_standby_user='reader.standby_user',
    reader_password='reader.password',
    reader_hosts='reader.hosts',
    reader_login_user='reader.login_user',
    reader_replication_user='reader.replication_user',
    reader_database='reader.database',
    reader_columns_only='reader.columns_only',
    dovecot_user='dovecot.user',
    dovecot_password='dovecot.password',
    dovecot_hosts='dovecot.hosts',
    bind_address='server.bind_address',
    replication_role='server.replication_role',
    replication_password='server.replication_password',
    replication_hosts='server.replication_hosts',
    replication_primary_host='server.replication_primary_host',
    tls_certificate='server.tls_certificate',
    tls_private_key='server.tls_private_key',
    tls_ca_certificate='server.tls_ca_certificate',
)

_LDH_LABEL_RE = re.compile(r'^[A-Za-z0-9-]+$')
# RFC 5322 specials that only a quoted local part may hold; a comma also separates the
# addresses of a Postfix lookup result, so it would turn one destination into several.
_LOCAL_SPECIALS = '"(),:;<>[\\]'
# {SCHEME}... as Dovecot writes it (doveadm pw -s SCHEME), or a crypt(3) string that
# Dovecot's CRYPT scheme reads without a prefix.
_SCHEME_RE = re.compile(r'^\{(?P<scheme>[A-Za-z0-9._-]+)\}(?P<rest>.*)$', re.DOTALL)
_CRYPT_RE = re.compile(r'^\$(1|5|6|2a|2b|2y|argon2id|y)\$\S+$')
HASH_FORMS = ("'{SCHEME}...' as doveadm pw prints it (for example '{BLF-CRYPT}$2y$05$...' "
              "or '{SHA512-CRYPT}$6$...') or a crypt string ('$6$...', '$2y$...', '$y$...', '$argon2id$...'); "
              "a password stored as plain text on purpose is written '{PLAIN}...'")


# When a password is written: whenever it differs, or only when its account or mailbox is created.
UPDATE_PASSWORD_CHOICES = ['always', 'on_create']


def argument_spec():
    """The options domains, users, aliases and reader, as the module and the action take them."""
    return dict(
        domains=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        users=dict(type='list', elements='dict', default=[], options=dict(
            email=dict(type='str', required=True),
            # raw, not str: a list would silently become the text "['...']" (see
            # maps.string_type_reasons); the type is checked with the other rules.
            password_hash=dict(type='raw', no_log=True),
            # Not given: the mailbox-wide choice (mail_database's update_password).
            update_password=dict(type='str', choices=UPDATE_PASSWORD_CHOICES),
            # Not given: 0 for a new mailbox, and an existing one keeps its quota.
            quota=dict(type='int'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        aliases=dict(type='list', elements='dict', default=[], options=dict(
            source=dict(type='str', required=True),
            destination=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        reader=dict(type='dict', options=dict(
            user=dict(type='str', default='mailuser'),
            standby_user=dict(type='str'),
            password=dict(type='raw', required=True, no_log=True),
            hosts=dict(type='list', elements='str', required=True),
            # What the reader's names must differ from, and the database it reads: checked when given.
            login_user=dict(type='str'),
            replication_user=dict(type='str'),
            database=dict(type='str'),
            # SELECT only on the columns Postfix reads (mail_reader.POSTFIX_COLUMNS).
            columns_only=dict(type='bool', default=False),
        )),
        # An account of Dovecot's own, which may read the password hashes, for when the reader may not.
        dovecot=dict(type='dict', options=dict(
            user=dict(type='str', required=True),
            password=dict(type='raw', required=True, no_log=True),
            hosts=dict(type='list', elements='str', required=True),
        )),
    )


def _quote(value):
    """'value' with control characters escaped, for a message (never for a secret)."""
    return repr(value)


def _has_blank(text):
    return any(char.isspace() for char in text)


def _text_reasons(text):
    reasons = []
    if _has_blank(text):
        reasons.append('contains a blank')
    if breaks_lines(text):
        reasons.append('contains a control character')
    return reasons


def _label_reasons(label):
    """(reasons, length of its ASCII form) of a label without blanks, control characters or dots."""
    reasons = []
    try:
        label.encode('ascii')
    except UnicodeError:
        try:
            ascii_label = idna.ToASCII(label).decode('ascii')
        except UnicodeError:
            try:
                idna.nameprep(label)
            except UnicodeError:
                return ['has a label %s with characters IDNA does not allow' % _quote(label)], len(label)
            return (['has a label %s that is longer than %d characters in its IDNA form' % (_quote(label), DNS_LABEL_LENGTH)],
                    len(label))
    else:
        ascii_label = label
        if len(label) > DNS_LABEL_LENGTH:
            reasons.append('has a label %s that is longer than %d characters' % (_quote(label), DNS_LABEL_LENGTH))
    if not _LDH_LABEL_RE.match(ascii_label):
        reasons.append("has a label %s with characters other than letters, digits and '-'" % _quote(label))
    if label.startswith('-') or label.endswith('-') or ascii_label.startswith('-') or ascii_label.endswith('-'):
        reasons.append("has a label %s that starts or ends with '-'" % _quote(label))
    if ascii_label.lower().startswith('xn--') and not reasons:
        try:
            idna.ToUnicode(ascii_label)
        except UnicodeError:
            reasons.append('has a label %s that is not valid IDNA (punycode)' % _quote(label))
    return reasons, len(ascii_label)


def domain_reasons(name, whole=True):
    """Why name is not a domain name the mail tables may hold; [] when it is.

    whole=False leaves out the blank and control character checks, for the domain part
    of an address whose whole text was checked already.
    """
    if not name:
        return ['is empty']
    reasons = _text_reasons(name) if whole else []
    if name.startswith('.'):
        reasons.append('starts with a dot')
    if name.endswith('.'):
        reasons.append('ends with a dot')
    if '..' in name:
        reasons.append('has two dots in a row (an empty label)')
    ascii_length = -1
    for label in name.split('.'):
        if not label:
            continue
        if _has_blank(label) or breaks_lines(label):
            ascii_length += 1 + len(label)
            continue
        label_reasons, length = _label_reasons(label)
        reasons.extend(label_reasons)
        ascii_length += 1 + length
    if ascii_length > DNS_NAME_LENGTH:
        reasons.append('is longer than %d characters in its IDNA form' % DNS_NAME_LENGTH)
    return reasons


def local_part_reasons(local):
    """Why local (the part before '@', checked whole already) is not a mailbox name."""
    if not local:
        return ["has nothing before the '@'"]
    reasons = []
    if local.startswith('.'):
        reasons.append('starts with a dot')
    if local.endswith('.'):
        reasons.append("has a dot right before the '@'")
    if '..' in local:
        reasons.append('has two dots in a row')
    specials = sorted(set(char for char in local if char in _LOCAL_SPECIALS))
    if specials:
        reasons.append('has %s before the \'@\', which an address may only hold in quotes'
                       % ', '.join("'%s'" % char for char in specials))
    if len(local.encode('utf-8')) > LOCAL_PART_LENGTH:
        reasons.append("has more than %d bytes before the '@'" % LOCAL_PART_LENGTH)
    return reasons


def address_reasons(address, catch_all=False):
    """Why address is not a full address local@domain (or, with catch_all, @domain)."""
    if not address:
        return ['is empty']
    reasons = _text_reasons(address)
    ats = address.count('@')
    if ats == 0:
        return reasons + ["has no '@'"]
    if ats > 1:
        return reasons + ["has more than one '@'"]
    local, _at, domain = address.partition('@')
    if local or not catch_all:
        reasons.extend(local_part_reasons(local))
    if not domain:
        reasons.append("has nothing after the '@'")
    else:
        reasons.extend('has a domain that %s' % reason for reason in domain_reasons(domain, whole=False))
    if len(address) > ADDRESS_LENGTH:
        reasons.append('is %d characters long; the tables hold at most %d' % (len(address), ADDRESS_LENGTH))
    return reasons


def password_hash_reasons(value):
    """Why value is not a password hash Dovecot reads; the reasons never quote it."""
    reasons = string_type_reasons(value)
    if reasons:
        return reasons
    if not value:
        return ['is required when state is present']
    reasons = []
    if breaks_lines(value):
        reasons.append('contains a control character')
    match = _SCHEME_RE.match(value)
    if match:
        if not match.group('rest'):
            reasons.append('has nothing after its {SCHEME} prefix')
    elif not _CRYPT_RE.match(value):
        reasons.append('is not in a form Dovecot reads: give %s' % HASH_FORMS)
    if len(value) > PASSWORD_HASH_LENGTH:
        reasons.append('is longer than the %d characters virtual_users.password holds' % PASSWORD_HASH_LENGTH)
    return reasons


def _line(label, value, reasons, hint=None):
    """label: 'value' reason; reason; hint -- or, for a secret (value None), label reason; ..."""
    shown = ' ' if value is None else ': %s ' % _quote(value)
    return '%s%s%s%s' % (label, shown, '; '.join(reasons), '; %s' % hint if hint else '')


def _key(text):
    return (text or '').lower()


def _domain_problems(domains, names, found):
    """The domains' problems (into FOUND); {domain key: (state, index of its first entry)}."""
    domain_state = {}
    for index, domain in enumerate(domains or []):
        label = '%s[%d].name' % (names['domains'], index)
        name = domain.get('name')
        reasons = domain_reasons(name)
        if name and len(name) > DOMAIN_LENGTH:
            reasons.append('is %d characters long; virtual_domains.name holds at most %d' % (len(name), DOMAIN_LENGTH))
        if reasons:
            found.append(_line(label, name, reasons, hint='give a domain name such as example.org' if not name else None))
            continue
        if _key(name) in domain_state:
            found.append(_line(label, name, ['is listed already as %s[%d]; list each domain once'
                                             % (names['domains'], domain_state[_key(name)][1])]))
            continue
        domain_state[_key(name)] = (domain.get('state', 'present'), index)
    return domain_state


def _user_problems(users, names, domain_removed, found):
    seen_users = {}
    for index, user in enumerate(users or []):
        label = '%s[%d]' % (names['users'], index)
        email = user.get('email')
        reasons = address_reasons(email)
        if reasons:
            found.append(_line(label + '.email', email, reasons))
        elif _key(email) in seen_users:
            found.append(_line(label + '.email', email, ['is listed already as %s[%d]; list each user once'
                                                         % (names['users'], seen_users[_key(email)])]))
        else:
            seen_users[_key(email)] = index
        if user.get('state', 'present') != 'present':
            continue
        if not reasons and domain_removed(email):
            found.append(_line(label + '.email', email, ['is present, but its domain is listed with state absent']))
        hash_reasons = password_hash_reasons(user.get('password_hash'))
        if hash_reasons:
            # Named by the address, never by the value.
            found.append(_line('%s.password_hash of %s' % (label, _quote(email)), None, hash_reasons))
        if (user.get('quota') or 0) < 0:
            found.append(_line('%s.quota of %s' % (label, _quote(email)), None,
                               ['is negative (%d); give 0 for no quota' % user['quota']]))


def _alias_problems(aliases, names, domain_removed, found):
    seen_aliases = {}
    for index, alias in enumerate(aliases or []):
        label = '%s[%d]' % (names['aliases'], index)
        source, destination = alias.get('source'), alias.get('destination')
        source_reasons = address_reasons(source, catch_all=True)
        if source_reasons:
            found.append(_line(label + '.source', source, source_reasons))
        # A domain alias (@example.com -> @example.net) rewrites user@example.com to
        # user@example.net: virtual(5) takes "@otherdomain" as a result of an @domain key.
        domain_alias = bool(source) and source.startswith('@') and bool(destination) and destination.startswith('@')
        destination_reasons = address_reasons(destination, catch_all=domain_alias)
        if destination_reasons:
            hint = None
            if destination and (',' in destination or _has_blank(destination.strip())):
                hint = 'a destination is one address: list one alias per destination'
            elif destination and '@' not in destination:
                hint = 'give a full address such as john@example.org'
            found.append(_line(label + '.destination', destination, destination_reasons, hint=hint))
        if source_reasons or destination_reasons:
            continue
        pair = (_key(source), _key(destination))
        if pair in seen_aliases:
            found.append('%s: %s -> %s is listed already as %s[%d]; list each alias once'
                         % (label, _quote(source), _quote(destination), names['aliases'], seen_aliases[pair]))
        else:
            seen_aliases[pair] = index
        if alias.get('state', 'present') == 'present' and domain_removed(source):
            found.append(_line(label + '.source', source, ['is present, but its domain is listed with state absent']))


def _host_problems(label, hosts, empty, found):
    if not hosts:
        found.append(_line(label, None, [empty]))
    for index, host in enumerate(hosts):
        _note(found, '%s[%d]' % (label, index), host, ['is empty'] if not host else _text_reasons(host))


def _note(found, label, value, reasons):
    """The line of LABEL into FOUND when there are REASONS (VALUE None: a secret, never shown)."""
    if reasons:
        found.append(_line(label, value, reasons))


def _reader_problems(reader, names, found):
    # The rules of credentials.py, which the Postfix role applies to the same account.
    others = [(names['reader_login_user'], reader.get('login_user')),
              (names['reader_replication_user'], reader.get('replication_user'))]
    _note(found, names['reader_user'], reader.get('user'), account_name_reasons(reader.get('user'), others))
    standby = reader.get('standby_user')
    if standby is not None:
        _note(found, names['reader_standby_user'], standby,
              account_name_reasons(standby, others + [(names['reader_user'], reader.get('user'))]))
    replication_user = reader.get('replication_user')
    if replication_user is not None:
        _note(found, names['reader_replication_user'], replication_user,
              account_name_reasons(replication_user, [(names['reader_login_user'], reader.get('login_user'))]))
    if reader.get('database') is not None:
        _note(found, names['reader_database'], reader.get('database'), database_name_reasons(reader.get('database')))
    _note(found, names['reader_password'], None, password_reasons(reader.get('password')))
    _host_problems(names['reader_hosts'], reader.get('hosts') or [],
                   'is empty; give at least one host the read-only account may connect from', found)


def _dovecot_problems(dovecot, reader, names, found):
    others = [(names['reader_login_user'], reader.get('login_user')),
              (names['reader_replication_user'], reader.get('replication_user')),
              (names['reader_user'], reader.get('user')), (names['reader_standby_user'], reader.get('standby_user'))]
    _note(found, names['dovecot_user'], dovecot.get('user'), account_name_reasons(dovecot.get('user'), others))
    _note(found, names['dovecot_password'], None, password_reasons(dovecot.get('password')))
    _host_problems(names['dovecot_hosts'], dovecot.get('hosts') or [],
                   'is empty; give the hosts Dovecot connects from', found)


def problems(domains=None, users=None, aliases=None, reader=None, labels=None, dovecot=None):
    """Every problem of the mail data, one line each; [] when it may be written.

    domains, users, aliases and reader as argument_spec() describes them (defaults filled
    in); labels maps the keys of DEFAULT_LABELS to the names the messages use.
    """
    names = dict(DEFAULT_LABELS)
    names.update(dict((key, value) for key, value in (labels or {}).items() if value))
    found = []
    domain_state = _domain_problems(domains, names, found)

    def domain_removed(address):
        state = domain_state.get(_key(address.rpartition('@')[2]))
        return state is not None and state[0] == 'absent'

    _user_problems(users, names, domain_removed, found)
    _alias_problems(aliases, names, domain_removed, found)
    if reader is not None:
        _reader_problems(reader, names, found)
    if dovecot is not None:
        _dovecot_problems(dovecot, reader or {}, names, found)
    return found


# ---------------------------------------------------------------- the server's own settings

def server_argument_spec():
    """The database server's settings the role writes (drop-in, replication accounts)."""
    return dict(type='dict', options=dict(
        bind_address=dict(type='raw', default='127.0.0.1'),
        replication_role=dict(type='str', default='none', choices=['none', 'primary', 'replica']),
        replication_password=dict(type='raw', default='', no_log=True),
        replication_hosts=dict(type='list', elements='raw', default=[]),
        replication_primary_host=dict(type='raw', default=''),
        tls_certificate=dict(type='raw', default=''),
        tls_private_key=dict(type='raw', default='', no_log=True),
        tls_ca_certificate=dict(type='raw', default=''),
    ))


def server_tls_problems(certificate, private_key, ca_certificate, labels=None):
    """Problems of the server's TLS files: all three or none, each PEM of its kind."""
    names = dict(DEFAULT_LABELS)
    names.update(labels or {})
    given = dict(tls_certificate=certificate, tls_private_key=private_key, tls_ca_certificate=ca_certificate)
    if not any(given.values()):
        return []
    missing = sorted(names[key] for key, value in given.items() if not value)
    if missing:
        return ['%s: server TLS needs the certificate, its private key and the CA certificate together; %s %s empty'
                % (', '.join(names[key] for key in sorted(given)), ' and '.join(missing),
                   'is' if len(missing) == 1 else 'are')]
    found = []
    for key, kind in (('tls_certificate', 'certificate'), ('tls_private_key', 'private_key'),
                      ('tls_ca_certificate', 'certificate')):
        reasons = pem_reasons(given[key], kind)
        if reasons:
            found.append(_line(names[key], None, reasons))
    return found


def _host_name_reasons(value):
    """Why value is not one IP address or host name (as MariaDB and CHANGE MASTER take them)."""
    reasons = string_type_reasons(value)
    if reasons:
        return reasons
    if not value:
        return ['is empty']
    reasons = _text_reasons(value)
    if reasons:
        return reasons
    try:
        ipaddress.ip_address(value)
        return []
    except ValueError:
        pass
    if re.match(r'^[0-9.]+$', value):
        return ['is not an IP address']
    not_a_name = domain_reasons(value)
    return ['is neither an IP address nor a host name (%s)' % '; '.join(not_a_name)] if not_a_name else []


LOOPBACK_BIND_ADDRESSES = ('127.0.0.1', '::1', 'localhost')


def unsafe_setup_warnings(reader, server, labels=None, dovecot=None):
    """Set-ups that work but expose the mail data, or may lock Dovecot out, as warnings
    (never a refusal): a reader that may log in from any host, a database reachable off
    loopback without TLS, a reader kept from the password hashes with no account for Dovecot."""
    names = dict(DEFAULT_LABELS)
    names.update(labels or {})
    warnings = []
    if (reader or {}).get('columns_only') and not dovecot:
        warnings.append('%s: the reader no longer reads virtual_users.password, which Dovecot reads to log users '
                        'in; give Dovecot an account of its own (%s) unless it does not use this database'
                        % (names['reader_columns_only'], names['dovecot_user']))
    for index, host in enumerate((reader or {}).get('hosts') or []):
        if isinstance(host, str) and '%' in host:
            warnings.append("%s[%d]: %r lets the read-only account log in from any matching host; list the mail "
                            "hosts' addresses instead" % (names['reader_hosts'], index, host))
    bind = (server or {}).get('bind_address')
    if isinstance(bind, str) and bind and not (server or {}).get('tls_certificate'):
        exposed = [part for part in bind.split(',') if part.strip() not in LOOPBACK_BIND_ADDRESSES]
        if exposed:
            warnings.append('%s: %r makes the database reachable from the network without TLS (%s is empty): the '
                            "reader's password and the mail data cross it in clear text"
                            % (names['bind_address'], bind, names['tls_certificate']))
    return warnings


def server_problems(server, labels=None):
    """Problems of the server settings: bind_address (one address, a comma list of them, or *)
    and what replication needs. A value that would stop MariaDB from starting, or replication
    from connecting, is refused before the drop-in is written or the server restarted."""
    names = dict(DEFAULT_LABELS)
    names.update(labels or {})
    found = []
    if not server:
        return found
    bind = server.get('bind_address')
    if bind != '*':
        parts = bind.split(',') if isinstance(bind, str) and bind else [bind]
        for part in parts:
            reasons = _host_name_reasons(part)
            if reasons:
                shown = bind if isinstance(bind, str) else None
                found.append(_line(names['bind_address'], shown, reasons,
                                   hint='give one address (or a comma-separated list without blanks), '
                                        'a host name, 0.0.0.0, :: or *'))
                break
    role = server.get('replication_role') or 'none'
    if role != 'none':
        password = server.get('replication_password')
        reasons = string_type_reasons(password)
        if not reasons and not password:
            reasons = ['is empty; replication needs a password for its account']
        elif not reasons and breaks_lines(password):
            reasons = ['contains a control character or a line separator']
        if reasons:
            found.append(_line(names['replication_password'], None, reasons))
    if role == 'primary':
        hosts = server.get('replication_hosts') or []
        if not hosts:
            found.append('%s is empty; a primary needs the addresses its replicas connect from'
                         % names['replication_hosts'])
        for index, host in enumerate(hosts):
            reasons = _host_name_reasons(host) if not (isinstance(host, str) and '%' in host) else _text_reasons(host)
            if reasons:
                found.append(_line('%s[%d]' % (names['replication_hosts'], index),
                                   host if isinstance(host, str) else None, reasons))
    if role == 'replica':
        reasons = _host_name_reasons(server.get('replication_primary_host'))
        if reasons:
            primary = server.get('replication_primary_host')
            found.append(_line(names['replication_primary_host'], primary if isinstance(primary, str) else None,
                               reasons + (['a replica needs the address of its primary'] if not primary else [])))
    found.extend(server_tls_problems(server.get('tls_certificate'), server.get('tls_private_key'),
                                     server.get('tls_ca_certificate'), labels))
    return found
