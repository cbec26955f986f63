# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The inputs that the mysql_maps module and the validate_maps action share, checked by
    # the same code (module_utils/maps.py, shared_argument_spec() and check_all()).
    DOCUMENTATION = r'''
options:
  hosts:
    description:
      - The database hosts, written to C(hosts). Postfix tries them in random order and fails
        over between them. C(127.0.0.1) is TCP, C(localhost) the UNIX socket (see mysql_table(5));
        the port goes here too (C(inet:db1:3307)).
      - A UNIX socket is refused while chrooted Postfix services read the maps directly (they cannot
        see it), unless O(proxy=true).
      - Required when a map is present.
    type: list
    elements: str
    default: []
  user:
    description: The database account Postfix logs in with.
    type: str
    default: mailuser
  password:
    description:
      - The password of O(user). One line without leading or trailing blanks. Required when a map
        is present.
      - A single string; a list or a mapping is refused (Ansible would otherwise turn it into its
        Python text and that would become the password).
    type: raw
  dbname:
    description: The database name.
    type: str
    default: mailserver
  options:
    description:
      - mysql_table(5) options for every map, for example C(tls_verify_cert) or
        C(expansion_limit). Booleans are written as C(yes) and C(no).
      - Options the host's Postfix release does not know (C(charset), C(idle_interval),
        C(retry_interval) before 3.9, C(require_result_set) before 3.2) are refused, not written.
      - C(user), C(password), C(hosts), C(dbname) and C(query) come from their own options
        and are refused here.
    type: dict
    default: {}
  proxy:
    description:
      - Point main.cf at C(proxy:mysql:...) tables, read through Postfix's proxymap service, which
        is not chrooted and shares connections between daemons.
      - "Without it every smtpd, cleanup and trivial-rewrite process opens its own connection per table:
        50 concurrent SMTP sessions on one Debian 12 mail host held 151 connections (all of MariaDB's default
        C(max_connections)), against 11 through proxymap, and never more than 16 with proxymap limited to
        4 processes (C(docs/connections-benchmark.md); see O(mailfleet.postfix_mysql.mysql_maps#module:proxymap_process_limit)).
        The P(mailfleet.postfix_mysql.mailfleet_postfix#role) role turns it on by default."
      - Required for TLS to the database (O(tls_ca_certificate), or a TLS file in O(options)) while chrooted
        services read the maps, as in Debian's master.cf.
    type: bool
    default: false
  union_parameters:
    description:
      - Parameters whose maps are merged with C(unionmap:{...}) (every map's answer, joined)
        instead of asked in order.
    type: list
    elements: str
    default: []
  sender_login_maps:
    description:
      - Names of present maps to set as C(smtpd_sender_login_maps), in order. Empty leaves that
        parameter alone.
    type: list
    elements: str
    default: []
  settings:
    description:
      - Further main.cf settings applied in the same C(postconf) call, name to value (a list is
        comma-joined). A parameter the maps set is refused here.
    type: dict
    default: {}
  retry_interval:
    description:
      - "Seconds Postfix leaves a database host alone after a failed connection or query before it
        tries that host again; meanwhile lookups through it answer 4xx (mail is deferred, never
        bounced). Written as the mysql_table(5) option C(retry_interval) on hosts whose Postfix
        has it (3.9 and later), unless O(options) sets that option itself. Older releases wait a
        fixed 60 seconds, whatever the setting."
      - "On releases that would otherwise put a table's only host out of service after one failed
        query (before 3.7.13, 3.8.8, 3.9.2 and 3.10.0; Debian 12 ships 3.7.11), a single entry of
        O(hosts) is written twice, so that a restarted database is reconnected at once."
      - At least V(1). The default V(2) has mail accepted again within about 2 seconds of the
        database coming back, and costs a down database at most one connection attempt per table
        and Postfix process every 2 seconds.
    type: int
    default: 2
  tls_ca_certificate:
    description:
      - "The CA certificate(s), in PEM form, that signed the database servers' certificates. With it the
        connections to the database use TLS and verify the server: the client files get C(tls_CAfile) (this CA,
        written to C(CONFIG_DIR/mysql-ca-HASH.pem), named by its content) and C(tls_verify_cert = yes), so
        each server's certificate must name the host as written in O(hosts)."
      - A new CA file is written before the client files that name it are validated, and the CA file no
        client file names any more is removed after they went live, so replacing the CA is validated like any
        other change. A validation that fails because of TLS says so (C(error_kind) V(tls)).
      - Chrooted services cannot open the file at their first lookup, so this needs O(proxy=true) where they
        read the maps (Debian's master.cf chroots them).
      - Not with C(tls_CAfile), C(tls_CApath) or C(tls_verify_cert) in O(options).
    type: str
  standby_user:
    description:
      - "A second reader account, used in turn with O(user) so that the password can change without a moment
        of refused logins (the C(mailfleet.postfix_mysql.rotate_db_password) playbook)."
      - Client files that already name it with O(password) keep it. Otherwise the files name O(user); when
        the database refuses O(user) with O(password) while the new files are validated (a host that was down
        during a rotation, whose old account is locked now), they are validated with O(standby_user) instead,
        and go live with it when that works.
      - Must differ from O(user).
    type: str
'''
