# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the database role and the Postfix role both write, into the database server and into
Postfix's client files: the reader account's name and password, the database name, and the
mail name of the host. One home for their rules, so that both roles give the same verdict on
the same value.

Each function returns the reasons a value is refused, as phrases that follow the name of
the variable ("mailfleet_postfix_db_password is empty"); [] when it is fine. The reasons
never quote a password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import unicodedata

ACCOUNT_NAME_LENGTH = 80     # MariaDB's limit for an account name
PASSWORD_MIN_LENGTH = 2
# Letters, digits and _ only: anything else needs quoting in SQL, and in GRANT '%' is a
# wildcard (and broke the driver's own formatting); '_' is escaped where it is one.
DATABASE_NAME_RE = re.compile(r'^[A-Za-z0-9_]{1,64}$')
# The database server's own accounts: a reader, standby or replication account of one of
# these names would take it over (its password reset, its grants and other hosts dropped).
SERVER_ACCOUNTS = ('root', 'mysql', 'mariadb.sys', 'debian-sys-maint')


def kind_of(value):
    """A value's kind in the user's words (Ansible hands tagged subclasses of list and dict)."""
    if isinstance(value, dict):
        return 'mapping'
    if isinstance(value, (list, tuple)):
        return 'list'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    return type(value).__name__


def string_type_reasons(value):
    """Why a value that must be text is not: Ansible would turn a list or a mapping given
    for a str option into its Python text ("['...']") without a word, and for a password
    that text would become the password. None (not given) is left to the other rules."""
    if value is None or isinstance(value, str):
        return []
    return ['must be a single string, not a %s' % kind_of(value)]


def breaks_lines(text):
    """Whether TEXT holds a character that ends a line somewhere: a control character
    (which Postfix, a debconf answer or a log line would split at) or a Unicode line or
    paragraph separator (which Python's own splitlines() splits at)."""
    return any(unicodedata.category(char) in ('Cc', 'Zl', 'Zp') for char in text)


def _line_reasons(text):
    reasons = []
    if text != text.strip():
        reasons.append('starts or ends with a blank, which a Postfix client file strips')
    if breaks_lines(text):
        reasons.append('contains a control character or a line separator, which a Postfix client file cannot hold')
    return reasons


def password_reasons(password):
    """Why PASSWORD cannot be the reader account's password (in MariaDB and in a client file)."""
    reasons = string_type_reasons(password)
    if reasons:
        return reasons
    if not password:
        return ['is empty; the reader account needs a password']
    reasons = _line_reasons(password)
    if len(password) < PASSWORD_MIN_LENGTH:
        reasons.insert(0, 'is shorter than %d characters' % PASSWORD_MIN_LENGTH)
    return reasons


def account_name_reasons(name, others=()):
    """Why NAME cannot be a reader, standby or replication account; OTHERS: (label, name) of
    the accounts it must differ from (the login account, the other accounts of the role)."""
    reasons = string_type_reasons(name)
    if reasons:
        return reasons
    if not name:
        return ['is empty']
    if len(name) > ACCOUNT_NAME_LENGTH:
        reasons.append('is %d characters long; MariaDB account names hold at most %d' % (len(name), ACCOUNT_NAME_LENGTH))
    reasons.extend(_line_reasons(name))
    if name in SERVER_ACCOUNTS:
        reasons.append('is an account of the database server itself (%s): the role would take it over; '
                       'give an account of its own' % ', '.join(SERVER_ACCOUNTS))
    for label, other in others:
        if other and name == other:
            reasons.append('is also %s; give an account of its own' % label)
    return reasons


def database_name_reasons(name):
    """Why NAME cannot be the mail database's name."""
    reasons = string_type_reasons(name)
    if reasons:
        return reasons
    if not name:
        return ['is empty']
    if not DATABASE_NAME_RE.match(name):
        return ['must be 1 to 64 letters, digits or _ (other characters need quoting in SQL, and % is a wildcard '
                'in GRANT)']
    return []


def grant_target(name):
    """The database-level target of GRANT for database NAME, with the wildcard _ escaped:
    `mail_db`.* would also grant mailXdb."""
    return '`%s`.*' % name.replace('\\', '\\\\').replace('_', '\\_').replace('%', '\\%').replace('`', '``')


def mail_name_reasons(name):
    """Why NAME cannot be the host's mail name (/etc/mailname, a debconf answer)."""
    reasons = string_type_reasons(name)
    if reasons:
        return reasons
    if not name:
        return ['is empty']
    if any(char.isspace() for char in name) or breaks_lines(name):
        return ['contains a blank, a control character or a line separator; a mail name is one domain name']
    return []


# The kind of each block of PEM text: CERTIFICATE, X509 CRL, PRIVATE KEY, ...
_PEM_BLOCK_RE = re.compile(r'-----BEGIN ([A-Z0-9 ]+)-----')


def pem_reasons(value, kind):
    """Why VALUE is not PEM text of KIND ('certificate': one or more certificates and nothing
    else; 'private_key': one unencrypted private key). The value is never quoted."""
    reasons = string_type_reasons(value)
    if reasons:
        return reasons
    blocks = _PEM_BLOCK_RE.findall(value or '')
    if kind == 'private_key':
        if len(blocks) != 1 or not blocks[0].endswith('PRIVATE KEY') or blocks[0].startswith('ENCRYPTED'):
            return ['is not one unencrypted private key in PEM form (-----BEGIN PRIVATE KEY----- ...; MariaDB '
                    'cannot ask for a pass phrase)']
        return []
    if not blocks or any(block != 'CERTIFICATE' for block in blocks):
        return ['is not certificate(s) in PEM form (-----BEGIN CERTIFICATE----- ...) and nothing else']
    return []
