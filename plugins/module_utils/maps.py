# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix MySQL maps: every rule about them, in one place.

What a map is (a name, a state, the main.cf parameter it serves, a query, options), how
the maps of several lists combine (by name), which main.cf settings they make, and what
is refused. Pure Python, no AnsibleModule, so that two callers share each rule:

- the ``validate_maps`` action plugin, on the controller, before anything is installed
  (the role's first task: bad input fails in its first seconds, with no round trip);
- the ``mysql_maps`` module, on the mail host, for the same rules when it is used alone,
  and for the rules that need the host's Postfix (its release, its chrooted services).

Messages name the variable (``labels`` maps each input to the name the user wrote, so
the role's messages say ``mailfleet_postfix_maps`` where the module's say ``maps``) and
the value's problem. A password is never part of a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.credentials import (
    account_name_reasons,
    database_name_reasons,
    password_reasons,
    pem_reasons,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.lookups import checks_argument_spec
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    PostconfError,
    normalize_request,
    split_list,
    validate_name,
)

MAP_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*\Z')
# A client file's own name (``file``): in the configuration directory, ending in .cf, so that
# a server built by hand keeps its file names (the trixie edition's mariadb-*.cf).
CLIENT_FILE_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*\.cf\Z')
# Postfix's own files, which a client file must never replace.
POSTFIX_OWN_FILES = ('main.cf', 'master.cf', 'dynamicmaps.cf')
STATES = ('present', 'absent')
# The keys of one map entry.
MAP_KEYS = ('name', 'state', 'parameter', 'query', 'options', 'file')
# mysql_table(5) options by the Postfix release that introduced them ("This parameter is
# available with Postfix X and later"). The role's own keys are not among them.
TABLE_OPTIONS = {
    'result_format': '2.2',
    'domain': '2.2',
    'expansion_limit': '2.2',
    'option_file': '2.11',
    'option_group': '2.11',
    'tls_cert_file': '2.11',
    'tls_key_file': '2.11',
    'tls_CAfile': '2.11',
    'tls_CApath': '2.11',
    'tls_ciphers': '2.11',
    'tls_verify_cert': '2.11',
    'require_result_set': '3.2',
    'charset': '3.9',
    'idle_interval': '3.9',
    'retry_interval': '3.9',
}
# Written from their own variables; an entry in the options would write them twice.
RESERVED_OPTIONS = ('user', 'password', 'hosts', 'dbname', 'query')
# After a failed connection or query, Postfix leaves a database host alone for a while and
# answers 4xx meanwhile: 60 s, compiled in, up to 3.8 (RETRY_CONN_INTV in dict_mysql.c);
# the client-file option retry_interval (whole seconds, at least 1) from 3.9.
RETRY_INTERVAL_SINCE = '3.9'
# The releases from which a table with ONE host reconnects at once after a failure instead
# of failing every lookup for the retry interval ("Don't blacklist the load balancer!",
# HISTORY 20250207): 3.7.13, 3.8.8, 3.9.2 and 3.10.0. Before them, the host is listed twice.
_SINGLE_HOST_RECONNECTS = {(3, 7): (3, 7, 13), (3, 8): (3, 8, 8), (3, 9): (3, 9, 2)}
SENDER_LOGIN_PARAMETER = 'smtpd_sender_login_maps'
# Options naming files the MySQL client library opens when it connects, that is at the first
# lookup, after a chrooted daemon entered /var/spool/postfix: a path outside the chroot is
# missing there, and every lookup fails ("TLS/SSL error: No such file or directory") while
# postmap -q, which is not chrooted, succeeds.
TLS_FILE_OPTIONS = ('tls_CAfile', 'tls_CApath', 'tls_cert_file', 'tls_key_file')
_PEM_CERTIFICATE_RE = re.compile(
    r'-----BEGIN CERTIFICATE-----\s*\n[A-Za-z0-9+/=\s]+\n-----END CERTIFICATE-----')
_PORT_RE = re.compile(r'^[0-9]{1,5}\Z')
_CONTROL_RE = re.compile(r'[\x00-\x1f\x7f]')

# The name each input has for the user. The module's option names by default.
DEFAULT_LABELS = dict(
    default_maps='default_maps',
    maps='maps',
    hosts='hosts',
    user='user',
    password='password',
    dbname='dbname',
    options='options',
    proxy='proxy',
    union_parameters='union_parameters',
    sender_login_maps='sender_login_maps',
    settings='settings',
    retry_interval='retry_interval',
    standby_user='standby_user',
    tls_ca_certificate='tls_ca_certificate',
    checks='checks',
    config_dir='config_dir',
    mailname='mailname',
)


def shared_argument_spec():
    """The argument spec of the inputs that mysql_maps and validate_maps share (their docs
    are the doc fragment mailfleet.postfix_mysql.maps)."""
    return dict(
        hosts=dict(type='list', elements='str', default=[]),
        user=dict(type='str', default='mailuser'),
        # raw, not str: a list would silently become the text "['...']", which would then
        # be written as the password; check_connection() refuses anything but a string.
        password=dict(type='raw', no_log=True),
        dbname=dict(type='str', default='mailserver'),
        options=dict(type='dict', default={}),
        proxy=dict(type='bool', default=False),
        union_parameters=dict(type='list', elements='str', default=[]),
        sender_login_maps=dict(type='list', elements='str', default=[]),
        settings=dict(type='dict', default={}),
        retry_interval=dict(type='int', default=2),
        standby_user=dict(type='str'),
        tls_ca_certificate=dict(type='str'),
    )


def mysql_maps_argument_spec():
    """The argument spec of mysql_maps, for the module and for its action plugin (which checks the
    input on the controller before the one module call)."""
    spec = shared_argument_spec()
    spec.update(
        maps=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            query=dict(type='str'),
            options=dict(type='dict', default={}),
            parameter=dict(type='str'),
            file=dict(type='str'),
        ), required_if=[('state', 'present', ('query',))]),
        config_dir=dict(type='path', default='/etc/postfix'),
        owner=dict(type='str', default='root'),
        group=dict(type='str', default='postfix'),
        mode=dict(type='raw', default='0640'),
        validate=dict(type='bool', default=True),
        # A lookup key, not a secret: the name only looks like one.
        validate_key=dict(type='str', default='probe@mailfleet.invalid', no_log=False),
        timeout=dict(type='int', default=60),
        reload=dict(type='bool', default=True),
        backup=dict(type='bool', default=False),
        proxymap_process_limit=dict(type='int'),
        packages=dict(type='list', elements='str', default=[]),
        service=dict(type='str'),
        recovery_service=dict(type='str', choices=['present', 'absent']),
        labels=dict(type='dict', default={}),
        checks=checks_argument_spec(),
        # The option of every module that takes the lock (the config_lock doc fragment).
        lock_timeout=dict(type='int', default=120),
    )
    return spec


class MapsError(Exception):
    """Bad input. ``problems`` lists every problem found; none holds a password."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(MapsError, self).__init__('; '.join(self.problems))


def labels_for(labels=None):
    merged = dict(DEFAULT_LABELS)
    merged.update(labels or {})
    return merged


def ca_file_path(config_dir, pem):
    """Where the CA certificate(s) PEM go: DIR/mysql-ca-HASH.pem, named by their content, so
    that new client files can name a new CA before they go live while the live ones still
    name the old one."""
    digest = hashlib.sha256(pem.strip().encode('utf-8')).hexdigest()[:16]
    return '%s/mysql-ca-%s.pem' % (config_dir.rstrip('/'), digest)


def tls_options(options, ca_file):
    """The shared options with TLS to the database verified against CA_FILE."""
    options = dict(options or {})
    if ca_file:
        options['tls_CAfile'] = ca_file
        options['tls_verify_cert'] = True
    return options


def tls_ca_problems(pem, options, labels=None):
    """The problems of the CA certificate(s) to trust for TLS to the database."""
    labels = labels_for(labels)
    if pem is None or pem == '':
        return []
    if isinstance(pem, str) and 'PRIVATE KEY-----' in pem:
        return ['%s holds a private key: give only the CA certificate(s); a private key does not belong on the '
                'mail hosts' % labels['tls_ca_certificate']]
    # The rule of the database role's CA too (credentials.pem_reasons): certificates and nothing else.
    if not isinstance(pem, str) or not _PEM_CERTIFICATE_RE.search(pem) or pem_reasons(pem, 'certificate'):
        return ['%s must be the CA certificate(s) in PEM form (-----BEGIN CERTIFICATE----- ...), the CA that '
                'signed the database servers\' certificates' % labels['tls_ca_certificate']]
    both = sorted(key for key in ('tls_CAfile', 'tls_CApath', 'tls_verify_cert') if key in (options or {}))
    if both:
        return ['%s and %s: %s set both; give the CA one way' % (
            labels['tls_ca_certificate'], labels['options'], ', '.join(both))]
    return []


# The collection's own client files, whatever map they belong to: mysql-NAME.cf.
CLIENT_FILE_GLOB = 'mysql-*.cf'


def client_file_name(entry):
    """The file name of a map's client file: its ``file``, or mysql-NAME.cf."""
    return entry.get('file') or CLIENT_FILE_GLOB.replace('*', entry['name'])


def client_file_path(config_dir, entry):
    """Where the client file of the map ENTRY lives: DIR/FILE."""
    return '%s/%s' % (config_dir.rstrip('/'), client_file_name(entry))


def map_table(name, config_dir='/etc/postfix', proxy=False, maps=None):
    """The Postfix table of the map NAME: [proxy:]mysql:DIR/FILE. FILE is the ``file`` of the
    last entry of MAPS named NAME that has one (merged entries keep it), else mysql-NAME.cf."""
    entry = {'name': name}
    for candidate in maps or []:
        if candidate.get('name') == name and candidate.get('file'):
            entry['file'] = candidate['file']
    return entry_table(entry, config_dir, proxy)


def entry_table(entry, config_dir, proxy=False):
    """The Postfix table of the map ENTRY."""
    return '%smysql:%s' % ('proxy:' if proxy else '', client_file_path(config_dir, entry))


def option_text(value):
    """An option value as Postfix reads it: YAML booleans become yes/no."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return '%s' % (value,)


def version_tuple(version):
    """'3.7.11' -> (3, 7, 11); parts that are not numbers end the tuple."""
    parts = []
    for part in ('%s' % version).split('.'):
        match = re.match(r'\d+', part)
        if not match:
            break
        parts.append(int(match.group(0)))
    return tuple(parts)


def is_socket_host(host):
    """Whether Postfix reaches HOST through a UNIX socket: ``unix:...``, and ``localhost``
    in any spelling (mysql_table(5): localhost always means the default socket)."""
    host = host.strip()
    if host.startswith('unix:'):
        return True
    if host.startswith('inet:'):
        host = host[len('inet:'):]
    return host.split(':', 1)[0].lower() == 'localhost'


# ------------------------------------------------------------------- single values

def _one_line_problem(what, value, required=True):
    """The problem of a value that must be one line without surrounding blanks, or None."""
    text = option_text(value) if value is not None else ''
    if not text:
        return '%s must not be empty' % what if required else None
    if re.search(r'[\r\n\0]', text):
        return '%s must be one line' % what
    if text != text.strip():
        # Postfix strips blanks around values: what it would read is not what was asked.
        return '%s must not start or end with a blank (Postfix would strip it)' % what
    return None


def host_problem(label, host):
    """The problem of one entry of the hosts list, or None."""
    if not isinstance(host, str) or not host.strip():
        return '%s: %r is not a host: give an address or name, inet:HOST:PORT or unix:/PATH' % (label, host)
    if re.search(r'[\s,]', host) or _CONTROL_RE.search(host):
        return '%s: %r is not one host: no blanks or commas inside a host (give a list)' % (label, host)
    if host.startswith('unix:'):
        if not host[len('unix:'):].startswith('/'):
            return '%s: %r: a UNIX socket is given as unix:/absolute/path' % (label, host)
        return None
    address = host[len('inet:'):] if host.startswith('inet:') else host
    if address.startswith('['):
        # [IPv6]:port
        end = address.find(']')
        if end < 2:
            return '%s: %r: an IPv6 address is written [ADDRESS] or [ADDRESS]:PORT' % (label, host)
        name, rest = address[:end + 1], address[end + 1:]
        port = rest[1:] if rest.startswith(':') else (None if not rest else '')
    else:
        name, sep, port = address.partition(':')
        port = port if sep else None
    if not name:
        return '%s: %r has no host name or address' % (label, host)
    if port is not None and (not _PORT_RE.match(port) or not 0 < int(port) < 65536):
        return '%s: %r: the port must be a number from 1 to 65535 (there is no port option: it goes here)' % (
            label, host)
    return None


# ------------------------------------------------------------------- map lists

def merge_maps(lists, origins=None):
    """Combine lists of map entries by name: [(label, entries), ...] in order of precedence.

    A later entry with a name already seen updates that map's keys (so an inventory
    overrides one map, or retires it with ``state: absent``, without repeating the
    others); new names are appended. Returns (merged, problems). When origins is a dict,
    it gets, for each name, where the user wrote it last (``maps[2]``), for messages.
    """
    merged = []
    by_name = {}
    problems = []
    for label, entries in lists:
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append('%s must be a list of maps, not %s' % (label, type(entries).__name__))
            continue
        seen_here = set()
        for index, entry in enumerate(entries):
            where = '%s[%d]' % (label, index)
            if not isinstance(entry, dict):
                problems.append('%s must be a mapping with at least a name, not %r' % (where, entry))
                continue
            name = entry.get('name')
            if not isinstance(name, str) or not name:
                problems.append('%s has no name' % where)
                continue
            if name in seen_here:
                problems.append('%s: map %r is listed twice in %s; give it once' % (where, name, label))
                continue
            seen_here.add(name)
            if origins is not None:
                origins[name] = where
            if name in by_name:
                by_name[name].update(entry)
            else:
                by_name[name] = dict(entry)
                merged.append(by_name[name])
    return merged, problems


def present_maps(maps):
    return [entry for entry in maps if entry.get('state', 'present') == 'present']


def absent_maps(maps):
    return [entry for entry in maps if entry.get('state', 'present') == 'absent']


def check_maps(maps, labels=None, origins=None):
    """Problems of the map entries themselves: names, states, parameters, queries, options.
    origins (see merge_maps) says where each name was written, for the messages."""
    labels = labels_for(labels)
    label = labels['maps']
    problems = []
    names = []
    for index, entry in enumerate(maps):
        name = entry.get('name')
        if not isinstance(name, str) or not MAP_NAME_RE.match(name):
            written = (origins or {}).get(name) if isinstance(name, str) else None
            problems.append('%s (%r): the name must be letters, digits, ".", "_" or "-", starting with a letter '
                            'or digit (it names the file mysql-NAME.cf)'
                            % (written or '%s[%d]' % (label, index), name))
            continue
        where = '%s: map %r' % (label, name)
        if name in names:
            problems.append('%s is listed twice; map names must be unique' % where)
            continue
        names.append(name)
        unknown = sorted(key for key in entry if key not in MAP_KEYS)
        if unknown:
            problems.append('%s: unknown key(s) %s; a map has %s' % (where, ', '.join(unknown), ', '.join(MAP_KEYS)))
        state = entry.get('state', 'present')
        if state not in STATES:
            problems.append('%s: state must be present or absent, not %r' % (where, state))
            continue
        problems.extend(_file_problems(where, entry.get('file')))
        parameter = entry.get('parameter')
        if parameter is not None:
            try:
                validate_name(parameter)
            except PostconfError:
                problems.append('%s: parameter %r is not a main.cf parameter name' % (where, parameter))
        if state == 'absent':
            continue
        problem = _one_line_problem('%s: the query' % where, entry.get('query'))
        if problem:
            problems.append(problem + ('' if entry.get('query') else ' (a present map needs one)'))
        problems.extend(check_options(entry.get('options') or {}, '%s: options' % where))
    return problems


def _file_problems(where, file_name):
    if file_name is None:
        return []
    if not isinstance(file_name, str) or not CLIENT_FILE_NAME_RE.match(file_name):
        return ['%s: file %r must be a file name in the configuration directory, of letters, digits, ".", "_" '
                'or "-", ending in .cf, such as mariadb-virtual-alias-maps.cf' % (where, file_name)]
    if file_name in POSTFIX_OWN_FILES:
        return ['%s: file %r is Postfix\'s own configuration file; give the client file a name of its own'
                % (where, file_name)]
    return []


def client_file_problems(maps, labels=None):
    """Problems of the maps' client files taken together: two maps cannot share one file."""
    labels = labels_for(labels)
    owners = {}
    for entry in maps:
        if isinstance(entry, dict) and isinstance(entry.get('name'), str):
            owners.setdefault(client_file_name(entry), []).append(entry['name'])
    return ['%s: maps %s would share the client file %s; give each a file of its own'
            % (labels['maps'], ' and '.join(repr(name) for name in names), file_name)
            for file_name, names in sorted(owners.items()) if len(names) > 1]


def check_options(options, label):
    """Problems of a mapping of mysql_table(5) options (shared or one map's)."""
    if not isinstance(options, dict):
        return ['%s must be a mapping of mysql_table(5) option to value' % label]
    problems = []
    for key in sorted(options, key=str):
        value = options[key]
        if key in RESERVED_OPTIONS:
            problems.append('%s: %s is written from its own variable and cannot be set here' % (label, key))
        elif key not in TABLE_OPTIONS:
            problems.append('%s: %r is not a mysql_table(5) option (known: %s)'
                            % (label, key, ', '.join(sorted(TABLE_OPTIONS))))
        elif isinstance(value, (dict, list)) or value is None:
            problems.append('%s: %s must be a single value' % (label, key))
        else:
            problem = _one_line_problem('%s: %s' % (label, key), value)
            if problem:
                problems.append(problem)
    return problems


def check_connection(hosts, user, password, dbname, options, labels=None):
    """Problems of the settings every client file shares. The password is never quoted."""
    labels = labels_for(labels)
    problems = []
    if not isinstance(hosts, list) or not hosts:
        problems.append('%s: give at least one database host' % labels['hosts'])
    else:
        problems.extend(p for p in (host_problem(labels['hosts'], h) for h in hosts) if p)
    # The rules of credentials.py, which the database role applies to the same account.
    problems.extend('%s: %r %s' % (labels['user'], user, reason) for reason in account_name_reasons(user))
    problems.extend('%s: %r %s' % (labels['dbname'], dbname, reason) for reason in database_name_reasons(dbname))
    problems.extend('%s %s' % (labels['password'], reason) for reason in password_reasons(password))
    problems.extend(check_options(options or {}, labels['options']))
    return problems


def check_main_cf(maps, union_parameters, sender_login_maps, settings, labels=None):
    """Problems of the main.cf side: union and sender login maps naming present maps,
    and extra settings that are valid and do not fight the maps over a parameter."""
    labels = labels_for(labels)
    problems = []
    present = present_maps(maps)
    names = set(entry.get('name') for entry in present)
    served = set(entry.get('parameter') for entry in present if entry.get('parameter'))
    for parameter in union_parameters or []:
        if parameter not in served:
            problems.append('%s: %s is served by no present map, so there is nothing to merge'
                            % (labels['union_parameters'], parameter))
    for name in sender_login_maps or []:
        if name not in names:
            problems.append('%s: %r is not a present map' % (labels['sender_login_maps'], name))
    if settings:
        if not isinstance(settings, dict):
            problems.append('%s must be a mapping of main.cf parameter to value' % labels['settings'])
        else:
            try:
                normalize_request(settings, None, None, 'present')
            except PostconfError as exc:
                problems.append('%s: %s' % (labels['settings'], exc))
            owned = owned_parameters(maps, sender_login_maps)
            for name in sorted(set(settings) & owned):
                problems.append('%s sets %s, which the maps set; change the maps instead'
                                % (labels['settings'], name))
    return problems


def check_checks(checks, maps, labels=None):
    """Problems of lookups that name a map (postmap_query checks): it must be a present map."""
    labels = labels_for(labels)
    names = set(entry.get('name') for entry in present_maps(maps))
    problems = []
    for index, check in enumerate(checks or []):
        name = check.get('map') if isinstance(check, dict) else None
        if name is not None and name not in names:
            problems.append('%s[%d]: map %r is not a present map (retired, or not defined), so it has no client file '
                            'to ask; ask its parameter instead, or drop the check' % (labels['checks'], index, name))
    return problems


def check_all(maps, hosts, user, password, dbname, options, union_parameters=(), sender_login_maps=(),
              settings=None, labels=None, checks=(), origins=None, retry_interval=None, standby_user=None,
              tls_ca_certificate=None):
    """Every rule that needs no host: raises MapsError listing all problems found."""
    problems = check_maps(maps, labels, origins)
    problems.extend(tls_ca_problems(tls_ca_certificate, options, labels))
    if standby_user is not None:
        label = labels_for(labels)['standby_user']
        problems.extend('%s: %r %s' % (label, standby_user, reason) for reason in
                        account_name_reasons(standby_user, [(labels_for(labels)['user'], user)]))
    if retry_interval is not None and (isinstance(retry_interval, bool) or not isinstance(retry_interval, int)
                                       or retry_interval < 1):
        problems.append('%s: %r is not a whole number of seconds of at least 1 (Postfix refuses 0)'
                        % (labels_for(labels)['retry_interval'], retry_interval))
    if present_maps(maps):
        problems.extend(check_connection(hosts, user, password, dbname, options, labels))
    else:
        # Only retiring: nothing is written, so no connection settings are needed.
        problems.extend(check_options(options or {}, labels_for(labels)['options']))
    if not problems:
        problems.extend(client_file_problems(maps, labels))
        problems.extend(check_main_cf(maps, union_parameters, sender_login_maps, settings, labels))
        problems.extend(check_checks(checks, maps, labels))
    if problems:
        raise MapsError(problems)


def config_dir_problems(config_dir, answers, labels=None):
    """The problem of a configuration directory that postconf does not answer for."""
    if answers:
        return []
    return ['%s: postconf -c %s does not answer on this host: is %s a Postfix configuration directory with a '
            'main.cf?' % (labels_for(labels)['config_dir'], config_dir, config_dir)]


def check_for_host(maps, hosts, options, proxy, mail_version, chrooted_map_readers, labels=None,
                   tls_ca_certificate=None):
    """The rules that need the host's Postfix: options its release knows, and no UNIX
    socket and no TLS file for chrooted daemons. Raises MapsError."""
    labels = labels_for(labels)
    problems = []
    have = version_tuple(mail_version) if mail_version else None
    if have:
        scopes = [(labels['options'], options or {})]
        scopes += [('%s: map %r: options' % (labels['maps'], e['name']), e.get('options') or {})
                   for e in present_maps(maps)]
        for scope, values in scopes:
            for key in sorted(values):
                since = TABLE_OPTIONS.get(key)
                if since and version_tuple(since) > have:
                    problems.append(
                        '%s: %s needs Postfix %s or later, and this host has Postfix %s (see mysql_table(5) of '
                        'that release); set it only for hosts with a newer Postfix' % (scope, key, since, mail_version))
    socket_hosts = [h for h in hosts or [] if isinstance(h, str) and is_socket_host(h)]
    if socket_hosts and chrooted_map_readers and not proxy and present_maps(maps):
        problems.append(
            '%s has %s: Postfix always reaches "localhost" through the UNIX socket, which the chrooted '
            'service(s) %s cannot see from /var/spool/postfix. Use 127.0.0.1 (TCP) instead, or set %s to read '
            'the maps through proxymap, which is not chrooted.'
            % (labels['hosts'], ', '.join(socket_hosts), ', '.join(chrooted_map_readers), labels['proxy']))
    if chrooted_map_readers and not proxy and present_maps(maps):
        tls_files = [labels['tls_ca_certificate']] if tls_ca_certificate else []
        tls_files += ['%s: %s' % (labels['options'], key) for key in TLS_FILE_OPTIONS if key in (options or {})]
        tls_files += ['%s: map %r: options: %s' % (labels['maps'], e['name'], key)
                      for e in present_maps(maps) for key in TLS_FILE_OPTIONS if key in (e.get('options') or {})]
        if tls_files:
            problems.append(
                '%s: the chrooted service(s) %s would open TLS files at their first lookup from inside '
                '/var/spool/postfix, where they are missing: every lookup would fail (4xx) although postmap -q '
                'passes. Set %s to read the maps through proxymap, which is not chrooted (and keeps the number of '
                'database connections small).'
                % (', '.join(tls_files), ', '.join(chrooted_map_readers), labels['proxy']))
    if problems:
        raise MapsError(problems)


def reader_account(live_files, user, standby_user, password):
    """Which of the two reader accounts the client files name: USER, unless the live
    files already name STANDBY_USER with this very PASSWORD (a rotation moved them there).

    live_files: the settings (dicts) of the live client files. A host that missed a
    rotation names USER with an old password: it gets USER, and when the database refuses
    it, the caller tries STANDBY_USER (see mysql_maps).
    """
    if standby_user and any(f.get('user') == standby_user and f.get('password') == password for f in live_files):
        return standby_user
    return user


def reconnects_single_host(mail_version):
    """Whether this Postfix release retries a table's only host at once after a failure."""
    have = version_tuple(mail_version)
    if have[:2] >= (3, 10):
        return True
    since = _SINGLE_HOST_RECONNECTS.get(have[:2])
    return bool(since) and have >= since


def recovery_settings(hosts, options, mail_version, retry_interval):
    """(hosts, options) as the client files get them on this host, for the fastest safe
    recovery once the database is back: the retry interval where this release has the option
    (unless the options set it), and a single host listed twice where this release would
    otherwise put it out of service for 60 s after one failed query (a restarted database)."""
    hosts = list(hosts or [])
    options = dict(options or {})
    if len(hosts) == 1 and not reconnects_single_host(mail_version):
        hosts = hosts * 2
    have = version_tuple(mail_version)
    if retry_interval and have >= version_tuple(RETRY_INTERVAL_SINCE) and 'retry_interval' not in options:
        options['retry_interval'] = retry_interval
    return hosts, options


# ------------------------------------------------------------------- main.cf

def owned_parameters(maps, sender_login_maps=()):
    """The main.cf parameters the maps decide: those of every entry, present or absent
    (a retired map's parameter is rewritten without it), and the sender login maps."""
    owned = set(entry['parameter'] for entry in maps if entry.get('parameter'))
    if sender_login_maps:
        owned.add(SENDER_LOGIN_PARAMETER)
    return owned


def main_cf_settings(maps, config_dir='/etc/postfix', proxy=False, union_parameters=(), sender_login_maps=()):
    """What main.cf must say: (present, absent).

    present: ordered list of (parameter, [tables]) for every parameter a present map
    serves, tables in the order of the maps (the first hit wins), or one
    ``unionmap:{...}`` for the parameters in union_parameters;
    absent: parameters that only retired maps served, to be removed from main.cf.
    """
    union_parameters = set(union_parameters or [])
    tables = {}
    order = []
    for entry in present_maps(maps):
        parameter = entry.get('parameter')
        if parameter:
            if parameter not in tables:
                order.append(parameter)
                tables[parameter] = []
            tables[parameter].append(entry_table(entry, config_dir, proxy))
    if sender_login_maps:
        if SENDER_LOGIN_PARAMETER not in tables:
            order.append(SENDER_LOGIN_PARAMETER)
            tables[SENDER_LOGIN_PARAMETER] = []
        tables[SENDER_LOGIN_PARAMETER].extend(map_table(name, config_dir, proxy, maps) for name in sender_login_maps)
    for parameter in union_parameters:
        if len(tables.get(parameter, [])) > 1:
            tables[parameter] = ['unionmap:{%s}' % ', '.join(tables[parameter])]
    absent = sorted(owned_parameters(maps, sender_login_maps) - set(order))
    return [(parameter, tables[parameter]) for parameter in order], absent


def proxy_read_maps_value(maps, config_dir, current):
    """The proxy_read_maps value that lets proxymap serve every present map's table, or None
    when it does already.

    proxymap serves only the tables listed in proxy_read_maps as it read it when it started,
    and a daemon that asks it for another table dies (dict_proxy: "proxymap service is not
    configured for table"), which has master throttle the service: SMTP stops answering. So
    every present map's table is listed here by itself, and proxymap reloaded, before any other
    parameter names it. Reached through $virtual_alias_maps (the default) does not count: this
    run may rewrite that parameter, and proxymap does not look inside unionmap:{...}. CURRENT:
    the value as written (postconf -h), split as proxymap splits it (split_list)."""
    approved = set(split_list(current or ''))
    missing = [entry_table(entry, config_dir, proxy=True) for entry in present_maps(maps)]
    missing = [table for table in missing if table not in approved]
    if not missing:
        return None
    return ' '.join([current.strip()] + missing if current and current.strip() else missing)


def proxy_read_maps_without_retired(maps, config_dir, current):
    """CURRENT (proxy_read_maps as written) without the tables of retired maps, or None when it
    lists none. postconf reads every mysql table file main.cf names, so a retired one left there
    would have ``postfix check`` warn that its file is missing. It goes with the parameters that
    named it, in the same write and reload: earlier, proxymap would refuse a table still named."""
    retired = set(entry_table(entry, config_dir, proxy=True) for entry in absent_maps(maps))
    items = split_list(current or '')
    kept = [item for item in items if item not in retired]
    return ' '.join(kept) if len(kept) != len(items) else None


def references(text, path):
    """Whether a main.cf or master.cf value names the file at PATH as a table."""
    return re.search(r'(^|[\s,{:])%s($|[\s,}])' % re.escape(path), text or '') is not None
