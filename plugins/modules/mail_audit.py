#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: mail_audit
short_description: Resolve every address of the mail database as this host's Postfix would, and report what goes wrong
version_added: "0.1.0"
description:
  - Reads the domains, mailboxes and aliases of the mail database with the read-only account Postfix
    itself logs in with (the login of a client file on the host), then resolves every mailbox and
    every alias source through the tables the host's B(live) main.cf lists, the way Postfix does.
  - "The order is that of virtual(5): C(user+ext@domain), C(user@domain), C(user) (local domains only),
    then C(@domain); for each pattern every table of C(virtual_alias_maps) before the next pattern; the
    first table that answers wins (a C(unionmap:{...}) table answers with all of its tables). Aliases are
    expanded again as cleanup(8) does, up to C(virtual_alias_recursion_limit) and
    C(virtual_alias_expansion_limit). Each final address is then a mailbox (C(virtual_mailbox_maps)), local,
    relayed, remote, or bounced."
  - Every key goes to C(postmap -q -) in a few processes per table (see O(parallel)), and every key is
    asked of every table of a parameter, not only the first that answers, so that answers that depend on
    the order of the tables are seen. C(proxy:) tables are asked directly, as proxymap opens the same table.
  - "Finding kinds, with their severity: C(catch_all_swallows_mailbox) (error) a mailbox's mail goes to a
    catch-all C(@domain) alias, because no table answers the mailbox itself (the identity map, email2email,
    is missing or broken); C(alias_overrides_mailbox) (warning) an alias for a mailbox's address sends its
    mail elsewhere and not to the mailbox; C(mailbox_unknown) (error) a mailbox that C(virtual_mailbox_maps)
    does not know; C(undeliverable_destination) (error) an expansion that ends at an address that bounces
    (neither a mailbox nor in a domain mail can go to); C(alias_not_answered) (error) an alias of the
    database that the alias tables do not answer; C(alias_loop) (error) and C(expansion_limit) (error) an
    expansion that Postfix defers forever; C(order_dependent) (warning) several tables answer the same
    pattern differently and only the first counts; C(domain_not_mailbox_domain) (error) a domain with
    mailboxes that C(virtual_mailbox_domains) does not list; C(domain_not_served) (warning) a domain of the
    database, or of aliases, that no domain list of the host has; C(table_not_proxied) (error) a C(proxy:) table that
    C(proxy_read_maps) does not list, so that every lookup in it fails; C(differs_between_hosts) (error) two mail
    hosts answer an address differently (found by the C(mailfleet.postfix_mysql.audit) playbook)."
  - Never writes anything, on the host or in the database. Check mode runs the same.
  - The password of the client file is never returned nor printed.
author:
  - mailfleet maintainers (@mailfleet)
options:
  login_file:
    description:
      - The mysql_table(5) client file whose C(user), C(password), C(hosts), C(dbname) and C(tls_*)
        settings are used to read the database.
      - By default the client file of the first C(mysql:) table of C(virtual_mailbox_maps) on the host,
        else of C(virtual_alias_maps), that is the read-only account Postfix uses.
    type: path
  domains_query:
    description:
      - The SQL that returns the mail domains, one a row in the first column. A domain the host serves in no
        domain list is a C(domain_not_served) finding.
    type: str
    default: SELECT name FROM virtual_domains
  mailboxes_query:
    description:
      - The SQL that returns the mailbox addresses, one a row in the first column.
    type: str
    default: SELECT email FROM virtual_users
  aliases_query:
    description:
      - The SQL that returns the aliases, source and destination, one pair a row.
    type: str
    default: SELECT source, destination FROM virtual_aliases
  fail_on:
    description:
      - Fail the task when a finding of this severity or a higher one exists, with the findings as a
        table in the message. V(never) only reports.
    type: str
    choices: [error, warning, never]
    default: error
  max_findings:
    description:
      - At most this many findings of each kind are returned in RV(findings); RV(finding_counts) counts
        them all.
    type: int
    default: 1000
  resolve_domains:
    description:
      - Return in RV(resolutions) what Postfix does with every address of these domains, to compare
        hosts address by address (the C(mailfleet.postfix_mysql.audit) playbook does, for the
        domains whose RV(digests) differ).
    type: list
    elements: str
    default: []
  connect_timeout:
    description:
      - Seconds to wait for the database server.
    type: int
    default: 10
  parallel:
    description:
      - The largest number of C(postmap -q -) processes run at once for one table. Each process is one
        database connection and gets at least 100 keys.
      - V(0) means twice the number of CPUs of the host, at most 8 (each process mostly waits for the
        database). The findings are the same whatever the value.
    type: int
    default: 0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mailfleet.postfix_mysql.postmap
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Run it as root (C(become)), which can read the client files.
  - An address is resolved as an SMTP recipient. Mail for local domains (mydestination) ends at local(8),
    whose aliases(5) and users are not audited.
requirements:
  - PyMySQL (Debian package C(python3-pymysql)) on the managed host.
  - postfix and postfix-mysql on the managed host.
seealso:
  - module: mailfleet.postfix_mysql.postmap_query
  - name: virtual(5)
    description: How Postfix looks addresses up in virtual_alias_maps.
    link: https://www.postfix.org/virtual.5.html
'''

EXAMPLES = r'''
- name: Audit the addresses of the mail database on this host
  mailfleet.postfix_mysql.mail_audit:
  become: true
  register: audit

- name: Report only, and gate on warnings elsewhere
  mailfleet.postfix_mysql.mail_audit:
    fail_on: never
  become: true
  register: audit

- name: A schema of your own
  mailfleet.postfix_mysql.mail_audit:
    domains_query: SELECT domain FROM domains WHERE active = 1
    mailboxes_query: SELECT username FROM mailbox WHERE active = 1
    aliases_query: SELECT address, goto FROM alias WHERE active = 1
  become: true
'''

RETURN = r'''
findings:
  description:
    - What goes wrong, most severe first, at most O(max_findings) of each kind.
    - C(address) is the address (or C(@domain) for a whole domain), C(outcome) what Postfix does with
      its mail, C(why) which table answered what.
  returned: always
  type: list
  elements: dict
  sample:
    - kind: catch_all_swallows_mailbox
      severity: error
      address: jane@example.org
      outcome: postmaster@example.org (mailbox)
      why: "mysql:/etc/postfix/mysql-virtual-alias-maps.cf answered @example.org (for jane@example.org) with
        postmaster@example.org; no table of virtual_alias_maps answers jane@example.org itself"
finding_counts:
  description: How many findings of each kind, all of them.
  returned: always
  type: dict
  sample: {catch_all_swallows_mailbox: 1}
severity_counts:
  description: How many findings of each severity.
  returned: always
  type: dict
  sample: {error: 1, warning: 0}
report:
  description: The findings as a table, one line a row (empty when there is none).
  returned: always
  type: list
  elements: str
summary:
  description:
    - What was read and asked - C(domains), C(mailboxes), C(aliases) (rows of the database),
      C(addresses) (addresses resolved), C(lookups) (keys asked of tables), C(tables) (the host's
      tables by parameter) - and C(seconds) spent reading the database (C(read)), asking and
      resolving (C(resolve)), and of that waiting for postmap (C(postmap)).
  returned: always
  type: dict
digests:
  description: For each domain, a SHA-256 of what Postfix does with each of its addresses, to compare hosts.
  returned: always
  type: dict
resolutions:
  description: What Postfix does with each address of the domains of O(resolve_domains).
  returned: always
  type: dict
  sample: {jane@example.org: jane@example.org (mailbox)}
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.audit import (
    FAIL_ON,
    Resolver,
    Settings,
    SEVERITIES,
    audit,
    count_by,
    expand_list_files,
    domain_digests,
    filter_findings,
    report_lines,
    sort_findings,
    split_address,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    SBIN_DIRS,
    PostconfRunner,
    sanitize,
    split_list,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import redact
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import (
    MAX_PARALLEL,
    PostmapError,
    PostmapRunner,
    ask_each_table,
    direct_table,
    parse_client_file,
    split_table,
)

try:
    import pymysql
    HAS_PYMYSQL = True
except ImportError:
    HAS_PYMYSQL = False

PARAMETERS = ('virtual_alias_maps', 'virtual_mailbox_maps', 'mydestination', 'virtual_alias_domains',
              'virtual_mailbox_domains', 'relay_domains', 'myorigin', 'recipient_delimiter',
              'propagate_unmatched_extensions', 'virtual_alias_recursion_limit', 'virtual_alias_expansion_limit',
              'virtual_alias_address_length_limit', 'parent_domain_matches_subdomains', 'double_bounce_sender',
              'proxy_read_maps', 'canonical_maps', 'recipient_canonical_maps')
DOMAIN_LISTS = ('mydestination', 'virtual_alias_domains', 'virtual_mailbox_domains', 'relay_domains')


def read_parameters(module, config_dir):
    """The values Postfix uses (``postconf -x -h``: defaults included, $name expanded), by name."""
    runner = PostconfRunner(module, config_dir)
    _rc, stdout, stderr = runner.run(runner.argv('-x', '-h') + list(PARAMETERS), 'read %s' % runner.main_cf)
    # One line a parameter; a parameter postconf does not know would print none and shift the rest.
    lines = stdout.splitlines()
    if len(lines) != len(PARAMETERS):
        module.fail_json(msg='postconf printed %d values for %d parameters (%s): %s'
                         % (len(lines), len(PARAMETERS), ', '.join(PARAMETERS), '; '.join(sanitize(stderr))))
    return dict(zip(PARAMETERS, (line.strip() for line in lines)))


def read_file(path):
    with open(path) as handle:
        return handle.read()


def settings_from(module, values):
    lists = {}
    for name in DOMAIN_LISTS:
        try:
            lists[name] = expand_list_files(split_list(values[name]), read_file)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot read a file that %s names: %s' % (name, to_native(exc)))
    myorigin = values['myorigin']
    if myorigin.startswith('/'):
        # Debian's main.cf has myorigin = /etc/mailname: the name is the file's first word.
        try:
            myorigin = (read_file(myorigin).split() or [''])[0]
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot read %s, which myorigin names: %s' % (myorigin, to_native(exc)))
    for name in ('canonical_maps', 'recipient_canonical_maps'):
        if values[name]:
            module.warn('%s is set on this host; the audit does not apply it, and cleanup(8) rewrites recipients '
                        'with it before virtual_alias_maps: findings for the addresses it rewrites may be wrong' % name)
    if not split_list(values['virtual_mailbox_maps']):
        module.fail_json(msg='virtual_mailbox_maps is empty on this host: there is no mailbox to audit')
    try:
        limits = [int(values[name]) for name in ('virtual_alias_recursion_limit', 'virtual_alias_expansion_limit',
                                                 'virtual_alias_address_length_limit')]
    except ValueError:
        module.fail_json(msg='a virtual_alias_*_limit of this host is not a number')
    return Settings(
        alias_tables=split_list(values['virtual_alias_maps']),
        mailbox_tables=split_list(values['virtual_mailbox_maps']),
        mydestination=lists['mydestination'], virtual_alias_domains=lists['virtual_alias_domains'],
        virtual_mailbox_domains=lists['virtual_mailbox_domains'], relay_domains=lists['relay_domains'],
        myorigin=myorigin, recipient_delimiter=values['recipient_delimiter'],
        relay_domains_match_subdomains='relay_domains' in split_list(values['parent_domain_matches_subdomains']),
        double_bounce_sender=values['double_bounce_sender'], proxy_read_maps=split_list(values['proxy_read_maps']),
        propagate_virtual='virtual' in split_list(values['propagate_unmatched_extensions']),
        recursion_limit=limits[0], expansion_limit=limits[1], address_length_limit=limits[2])


def default_login_file(settings):
    for table in settings.mailbox_tables + settings.alias_tables:
        map_type, name = split_table(direct_table(table))
        if map_type == 'mysql' and name.startswith('/'):
            return name
    return None


def connect_arguments(login, connect_timeout, read_timeout=None):
    """PyMySQL connection arguments for each entry of the client file's hosts, UNIX sockets
    first as mysql_table(5) tries them, then in the order written."""
    base = dict(user=login.get('user', ''), password=login.get('password', ''), database=login.get('dbname'),
                connect_timeout=connect_timeout, read_timeout=read_timeout, charset='utf8mb4')
    if login.get('tls_CAfile') or login.get('tls_cert_file'):
        base.update(ssl_ca=login.get('tls_CAfile') or None, ssl_cert=login.get('tls_cert_file') or None,
                    ssl_key=login.get('tls_key_file') or None,
                    ssl_verify_cert=login.get('tls_verify_cert', 'no').lower() in ('yes', 'true', '1'),
                    ssl_verify_identity=login.get('tls_verify_cert', 'no').lower() in ('yes', 'true', '1'))
    out = []
    for host in split_list(login.get('hosts', '')) or ['localhost']:
        args = dict(base)
        if host.startswith('unix:'):
            args['unix_socket'] = host[len('unix:'):]
        else:
            if host.startswith('inet:'):
                host = host[len('inet:'):]
            name, _sep, port = host.partition(':')
            if name == 'localhost':
                # mysql_table(5): localhost always means the default UNIX socket.
                args['unix_socket'] = '/run/mysqld/mysqld.sock'
            else:
                args.update(host=name, port=int(port) if port.isdigit() else 3306)
        out.append((host, args))
    return sorted(out, key=lambda entry: 'unix_socket' not in entry[1])


def read_database(module, login_file, queries, connect_timeout, read_timeout, secrets):
    try:
        with open(login_file) as handle:
            login, file_secrets = parse_client_file(handle.read())
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the login file %s: %s (run as root, become: true)'
                         % (login_file, to_native(exc)))
    secrets |= file_secrets
    module.no_log_values.update(file_secrets)
    errors = []
    for host, args in connect_arguments(login, connect_timeout, read_timeout):
        try:
            connection = pymysql.connect(**args)
        except Exception as exc:  # PyMySQL raises its own classes, and ssl and socket ones
            errors.append('%s: %s' % (host, to_native(exc)))
            continue
        try:
            rows = {}
            with connection.cursor() as cursor:
                for name, sql in queries:
                    try:
                        cursor.execute(sql)
                    except Exception as exc:
                        module.fail_json(msg=redact('the %s (%s) failed on %s as %s: %s' % (
                            name, sql, host, login.get('user'), to_native(exc)), secrets))
                    rows[name] = cursor.fetchall()
            return rows
        finally:
            connection.close()
    module.fail_json(msg=redact('cannot read the mail database with the login of %s (user %s): %s'
                                % (login_file, login.get('user'), '; '.join(errors)), secrets))


def read_mail_data(module, login_file, secrets):
    """(domains, mailboxes, aliases [(source, destination)]) as the queries return them."""
    params = module.params
    rows = read_database(module, login_file, [
        ('domains_query', params['domains_query']),
        ('mailboxes_query', params['mailboxes_query']),
        ('aliases_query', params['aliases_query'])], params['connect_timeout'], params['timeout'], secrets)
    domains = [to_text(row[0]) for row in rows['domains_query'] if row and row[0] is not None]
    mailboxes = [to_text(row[0]) for row in rows['mailboxes_query'] if row and row[0] is not None]
    if any(len(row) < 2 for row in rows['aliases_query']):
        module.fail_json(msg='aliases_query must return two columns, source and destination')
    aliases = [(to_text(row[0]), to_text(row[1])) for row in rows['aliases_query']
               if row[0] is not None and row[1] is not None]
    return domains, mailboxes, aliases


def report(module, findings, audited, resolver, settings, data, login_file, seconds):
    """The module's result: the findings (at most max_findings of each kind), their counts, the
    report, the summary, each domain's digest and the resolutions asked for."""
    domains, mailboxes, aliases = data
    returned = []
    per_kind = {}
    for item in findings:
        per_kind[item['kind']] = per_kind.get(item['kind'], 0) + 1
        if per_kind[item['kind']] <= module.params['max_findings']:
            returned.append(item)
    wanted = set(d.lower() for d in module.params['resolve_domains'])
    severity_counts = dict((severity, 0) for severity in SEVERITIES)
    severity_counts.update(count_by(findings, 'severity'))
    return dict(
        changed=False,
        findings=returned,
        finding_counts=count_by(findings, 'kind'),
        severity_counts=severity_counts,
        report=report_lines(findings),
        summary=dict(domains=len(domains), mailboxes=len(mailboxes), aliases=len(aliases),
                     addresses=len(audited.outcomes), lookups=resolver.lookups, login_file=login_file,
                     tables=dict(virtual_alias_maps=settings.alias_tables,
                                 virtual_mailbox_maps=settings.mailbox_tables),
                     seconds=seconds),
        digests=domain_digests(audited.outcomes),
        resolutions=dict((address, outcome) for address, outcome in audited.outcomes.items()
                         if split_address(address)[1] in wanted),
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            login_file=dict(type='path'),
            domains_query=dict(type='str', default='SELECT name FROM virtual_domains'),
            mailboxes_query=dict(type='str', default='SELECT email FROM virtual_users'),
            aliases_query=dict(type='str', default='SELECT source, destination FROM virtual_aliases'),
            fail_on=dict(type='str', default='error', choices=list(FAIL_ON)),
            max_findings=dict(type='int', default=1000),
            resolve_domains=dict(type='list', elements='str', default=[]),
            connect_timeout=dict(type='int', default=10),
            config_dir=dict(type='path'),
            parallel=dict(type='int', default=0),
            timeout=dict(type='int', default=120),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not HAS_PYMYSQL:
        module.fail_json(msg=missing_required_lib('PyMySQL (Debian package python3-pymysql)'))
    for name in ('max_findings', 'timeout', 'connect_timeout'):
        if params[name] <= 0:
            module.fail_json(msg='%s must be a positive number' % name)
    if params['parallel'] < 0:
        module.fail_json(msg='parallel must be 0 (automatic) or a positive number')

    settings = settings_from(module, read_parameters(module, params['config_dir']))
    login_file = params['login_file'] or default_login_file(settings)
    if login_file is None:
        module.fail_json(msg='no mysql: table in virtual_mailbox_maps or virtual_alias_maps on this host to take '
                             'the login from: give login_file')

    secrets = set()
    started = time.monotonic()
    domains, mailboxes, aliases = read_mail_data(module, login_file, secrets)
    read_seconds = time.monotonic() - started

    postmap = module.get_bin_path('postmap', required=True, opt_dirs=SBIN_DIRS)
    runner = PostmapRunner(timeout=params['timeout'])

    parallel = params['parallel'] or min(2 * (os.cpu_count() or 1), MAX_PARALLEL)

    def ask(keys_by_table):
        return ask_each_table(postmap, keys_by_table, config_dir=params['config_dir'],
                              parallel=parallel, runner=runner)

    resolver = Resolver(settings, ask)
    started = time.monotonic()
    try:
        audited = audit(resolver, domains, mailboxes, aliases)
    except PostmapError as exc:
        module.fail_json(msg=redact(exc.message, secrets), error_kind=exc.kind,
                         postfix_messages=exc.postfix_messages)
    resolve_seconds = time.monotonic() - started

    findings = sort_findings(audited.findings)
    result = report(module, findings, audited, resolver, settings, (domains, mailboxes, aliases), login_file,
                    dict(read=round(read_seconds, 2), resolve=round(resolve_seconds, 2),
                         postmap=round(resolver.ask_seconds, 2)))
    failing = filter_findings(findings, params['fail_on'])
    if failing:
        module.fail_json(msg='%d finding(s) of severity %s or higher:\n%s' % (
            len(failing), params['fail_on'], '\n'.join(report_lines(failing))), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
