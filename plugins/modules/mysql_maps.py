#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: mysql_maps
short_description: Postfix MySQL maps, whole - client files validated against the database, and main.cf
version_added: "0.1.0"
description:
  - Manages a set of Postfix mysql_table(5) maps on a mail host in one run - the module that
    acts also decides - so an unchanged host costs one module run whatever the number of maps.
  - For each map with O(maps[].state=present), writes the client file C(CONFIG_DIR/mysql-NAME.cf), or
    C(CONFIG_DIR/FILE) with O(maps[].file) (C(user), C(password), C(hosts), C(dbname), options,
    C(query)), owned C(root:postfix) with mode C(0640) by default; for each map with
    O(maps[].state=absent), removes its file.
  - Points main.cf at the maps through C(postconf), with the comparison of the
    M(mailfleet.postfix_mysql.postconf) module - each parameter a map serves lists its maps'
    tables in the order of O(maps) (the first hit wins), or one C(unionmap:{...}) for
    O(union_parameters); a parameter only retired maps served is removed from main.cf.
  - "A new client file goes live only after Postfix accepted it: it is written to a temporary file
    beside the live one (created 0600, then given its owner and mode, so never readable by
    others), C(postmap -q) asks the database through it (O(validate)), and only when every
    changed file passed are they moved over the live ones with C(atomic_move). When one fails,
    nothing changes - no client file and no main.cf setting: the error names the map, the database
    host(s) and Postfix's message."
  - "With O(proxy=true), proxymap serves only the tables that C(proxy_read_maps) listed when it started,
    and a Postfix daemon that asks it for another one dies, so that master stops that service for a
    while (SMTP stops answering). Every present map's table is therefore listed in C(proxy_read_maps) by
    itself (a table reached only through C($virtual_alias_maps) does not count: this run may rewrite that
    parameter, and proxymap does not look inside C(unionmap:{...})), and Postfix reloaded, before any other
    parameter names it (two reloads in that run; with O(reload=false) such a run is refused). A retired
    map's table leaves C(proxy_read_maps) with the parameters that named it."
  - "The order keeps main.cf from ever pointing at a missing file: client files first, then
    main.cf, then the removal of retired files. A retired map's file is not removed while a main.cf
    setting or a master.cf service that this module does not manage still names it; the module
    fails and names them instead."
  - Every input rule is checked before anything is read from the host, with the same code the
    P(mailfleet.postfix_mysql.mailfleet_postfix#role) role runs on the controller; the rules that need
    the host's Postfix (options of its release, a UNIX socket with chrooted daemons) follow.
  - The password is never returned or shown; diffs show C(password = ********).
  - "Reloads Postfix after a change (O(reload)): its daemons keep the tables they opened until
    C(postfix reload), so without it they would go on serving the old files. The reload that a
    change owes is written down (under C(/run)) before the first live change and settled only
    after C(postfix check) and C(postfix reload) succeeded: a run killed in between leaves the
    debt, and the next run pays it (it reports C(changed) and reloads) even though it finds
    nothing else to change."
  - "One run at a time per configuration directory: the module holds a lock while it reads,
    decides and acts, and a second run (another admin, a timer) waits for it up to
    O(lock_timeout) seconds, then fails naming the holder. The temporary files of a killed run
    (never readable by others) are removed by the next run."
author:
  - mailfleet maintainers (@mailfleet)
options:
  maps:
    description:
      - The maps, one client file each, keyed by O(maps[].name).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The map's name, unique. Letters, digits, C(.), C(_) and C(-), starting with a letter or
            digit. Unless O(maps[].file) is given, it names the client file C(mysql-NAME.cf).
        type: str
        required: true
      file:
        description:
          - The client file's own name in O(config_dir), ending in C(.cf), such as the
            C(mariadb-virtual-alias-maps.cf) of a server built by hand, so that adopting it renames
            nothing. Left out, C(mysql-NAME.cf). Two maps cannot share a file, and Postfix's own
            files (C(main.cf), C(master.cf), C(dynamicmaps.cf)) are refused.
          - For a retired map, the file to remove.
        type: str
      state:
        description:
          - V(absent) retires the map - its table leaves main.cf, then its client file is removed.
        type: str
        choices: [present, absent]
        default: present
      query:
        description:
          - The SQL query, one line, with C(%s) for the lookup key (see mysql_table(5)).
            Required when O(maps[].state=present).
        type: str
      options:
        description:
          - mysql_table(5) options for this map only; they win over O(options).
        type: dict
        default: {}
      parameter:
        description:
          - The main.cf parameter that uses the map, such as C(virtual_alias_maps); none for a
            file that only other settings use.
          - For a retired map, the parameter it was taken out of.
        type: str
  config_dir:
    description:
      - The Postfix configuration directory. The files go there, and C(postconf) and C(postmap)
        use its C(main.cf).
    type: path
    default: /etc/postfix
  owner:
    description: Owner of the client files.
    type: str
    default: root
  group:
    description: Group of the client files. Postfix's daemons read the maps as this group.
    type: str
    default: postfix
  mode:
    description:
      - Mode of the client files, as an octal string. The files hold the password, so a mode
        that gives others any access is refused.
    type: raw
    default: "0640"
  validate:
    description:
      - Ask the database through each new client file with C(postmap -q) before it goes live.
        A wrong password, an unreachable host, a bad query or an option Postfix refuses
        then fails the task with nothing changed.
    type: bool
    default: true
  validate_key:
    description:
      - The key looked up to validate. Whether it is found does not matter, only that
        the lookup works.
    type: str
    default: probe@mailfleet.invalid
  timeout:
    description: Seconds one validation may take.
    type: int
    default: 60
  backup:
    description:
      - Before the first change the collection makes to a file it did not write, keep the file as it was,
        beside it, as C(FILE.before-mailfleet.YYYY-MM-DD@HH:MM:SS~) - with its owner and group, and without
        the permissions of others, since it may hold a password. Such files are C(main.cf) and C(master.cf),
        and client files written by hand (without the collection's header) whose text changes or that go.
      - One copy per file - the server as it was built by hand. While a copy is there, no other is made.
      - Copies are made after the checks and before anything changes. One that cannot be made fails the
        task with nothing changed.
    type: bool
    default: false
  reload:
    description:
      - Reload Postfix (C(postfix -c CONFIG_DIR check), then C(reload)) when this run changed
        something, or when an earlier run changed something and did not get to reload.
        Nothing is reloaded when Postfix does not run (it reads the files when it starts).
      - V(false) leaves the reload to the caller, who then also owns the case of a run killed
        between the change and the reload.
    type: bool
    default: true
  proxymap_process_limit:
    description:
      - With O(proxy=true), the most proxymap processes Postfix runs (the C(process_limit) field of the
        C(proxymap) service in master.cf, set with C(postconf -F)). Each holds one database connection per
        table, so this bounds a mail host's database connections at this many times the number of maps,
        whatever the SMTP load. Without a limit master starts another proxymap whenever the running ones
        are busy, up to C(default_process_limit) (100).
      - Left out, master.cf is left as it is.
    type: int
  packages:
    description:
      - Debian packages this host needs, such as C(postfix) and C(postfix-mysql). When one is not
        installed, the module changes nothing and returns RV(missing_packages); the caller installs them
        and runs it again. So an installed host costs no separate round trip to ask.
    type: list
    elements: str
    default: []
  service:
    description:
      - The systemd unit of Postfix, such as C(postfix). Once the configuration is in place, it is enabled at
        boot and started when it was not (RV(service_changes)); its state before is returned as
        RV(service_active) and RV(service_enabled).
      - Left out, the service is left as it is.
    type: str
  recovery_service:
    description:
      - "V(present) installs and runs a small service that reloads Postfix as soon as a database host it
        gave up on answers again; V(absent) stops and removes it; left out, it is left as it is. Why: after
        a database host failed, Postfix's daemons keep avoiding it although it is back - up to 3.8 for a
        fixed 60 seconds (C(RETRY_CONN_INTV) in C(dict_mysql.c)), and on every release an smtpd process
        keeps a failed answer for an address for 30 seconds (C(resolve_clnt.c)) - so mail stays deferred
        for up to a minute after a database restart."
      - The service (C(mailfleet-postfix-db-recovery)) follows Postfix's log and, for each database host
        Postfix reports as failing, asks that host alone, once a second, through a copy of the first present
        map's client file (mode 0600, removed at once); when the host answers again it runs
        C(postfix reload), at most once in 2 seconds. It asks nothing while nothing fails.
      - The log is not trusted input (smtpd logs what SMTP clients send; any local user can write a line
        tagged C(postfix/smtpd)), so the service reads only journal entries whose fields set by journald
        show a Postfix daemon of Postfix's own systemd service, and only messages in Postfix's own formats
        that name a host or client file of the maps; a forged line causes no probe and no reload. Every
        reload is logged with the message that caused it, and one host causes at most one reload in 10
        seconds.
      - The service runs confined (C(NoNewPrivileges), C(ProtectSystem=strict) with only Postfix's queue
        and data directories writable, a private C(/tmp) and C(/dev), a system-call filter). Its program is
        C(/usr/lib/mailfleet-postfix-mysql/mailfleet-postfix-db-recovery.py), which only root may write
        (the module refuses otherwise); a copy left in C(/usr/local/lib) by an earlier release is removed.
      - Needs systemd and journald. Nothing is done while no map is present.
    type: str
    choices: [present, absent]
  checks:
    description:
      - Lookups asked once the configuration is in place (and Postfix reloaded), in the same module run -
        the tutorial's C(postmap -q) steps as data. Each is a request as in
        O(mailfleet.postfix_mysql.postmap_query#module:checks). When one differs or fails, the task
        fails, saying that the configuration is in place, with every answer in RV(checks).
      - Not asked in check mode.
    type: list
    elements: dict
    suboptions:
      table:
        description: A table to ask, as C(type:name).
        type: str
      tables:
        description: Tables asked in this order (first hit wins).
        type: list
        elements: str
      parameter:
        description: A main.cf parameter; the tables the host's main.cf lists for it are asked.
        type: str
      keys:
        description: Keys to look up.
        type: list
        elements: str
      expect:
        description: Expected answers, key to value (V(null) for not found, a list for several rows).
        type: dict
      item:
        description: Anything, returned as the check's C(item), such as the check as the caller wrote it.
        type: raw
  labels:
    description:
      - The name each option has for the user, used in messages, such as
        V(maps) named C(mailfleet_postfix_maps). The role sets it, so that its messages name its variables.
    type: dict
    default: {}
extends_documentation_fragment:
  - mailfleet.postfix_mysql.config_lock
  - mailfleet.postfix_mysql.maps
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: Reports which files and settings would change, and why, without writing.
  diff_mode:
    support: full
    details: The client files before and after, with the password shown as C(********), and the changed main.cf lines.
  platform:
    platforms: posix
notes:
  - The file options O(seuser), O(serole), O(setype), O(selevel) and O(attributes) apply to the
    client files; SELinux contexts are kept when a file is replaced.
seealso:
  - module: mailfleet.postfix_mysql.postconf
  - module: mailfleet.postfix_mysql.postmap_query
  - name: mysql_table(5)
    description: The client file format.
    link: https://www.postfix.org/mysql_table.5.html
'''

EXAMPLES = r'''
- name: The ISPmail tutorial's four maps, and main.cf pointing at them
  mailfleet.postfix_mysql.mysql_maps:
    hosts: [127.0.0.1]
    user: mailuser
    password: "{{ vault_mailuser_password }}"
    dbname: mailserver
    maps:
      - name: virtual-mailbox-domains
        parameter: virtual_mailbox_domains
        query: SELECT 1 FROM virtual_domains WHERE name='%s'
      - name: virtual-mailbox-maps
        parameter: virtual_mailbox_maps
        query: SELECT 1 FROM virtual_users WHERE email='%s'
      - name: virtual-alias-maps
        parameter: virtual_alias_maps
        query: SELECT destination FROM virtual_aliases WHERE source='%s'
      # The identity map keeps a catch-all alias from taking mail for existing users.
      - name: email2email
        parameter: virtual_alias_maps
        query: SELECT email FROM virtual_users WHERE email='%s'
  # No handler: the module reloads Postfix itself after a change (see reload).

- name: Retire a map - out of main.cf first, then its file goes
  mailfleet.postfix_mysql.mysql_maps:
    hosts: [127.0.0.1]
    password: "{{ vault_mailuser_password }}"
    maps:
      - name: old-aliases
        parameter: virtual_alias_maps
        state: absent
      - name: virtual-alias-maps
        parameter: virtual_alias_maps
        query: SELECT destination FROM virtual_aliases WHERE source='%s'
'''

RETURN = r'''
missing_packages:
  description: The packages of O(packages) that are not installed. When there are any, nothing else was done.
  returned: always
  type: list
  elements: str
installed:
  description: Whether the packages were all there, so that the maps were managed.
  returned: always
  type: bool
service_active:
  description: Whether O(service) runs; V(null) without O(service).
  returned: always
  type: bool
service_enabled:
  description: Whether O(service) starts at boot; V(null) without O(service).
  returned: always
  type: bool
service_changes:
  description: What was (or in check mode would be) done to O(service), in order.
  returned: when O(service) was not both enabled and running
  type: list
  elements: str
  sample: [enable, start]
recovery_service_changes:
  description: What was (or in check mode would be) done to the recovery service (O(recovery_service)).
  returned: when O(recovery_service) is set and a map is present
  type: list
  elements: str
  sample: [write /usr/lib/mailfleet-postfix-mysql/mailfleet-postfix-db-recovery.py, daemon-reload, start]
checks:
  description:
    - The answers of O(checks), one per check, as M(mailfleet.postfix_mysql.postmap_query) returns them
      (C(answers), C(answered_by), C(tables), C(mismatches) when they differ), with C(failed), C(msg)
      when it failed, and C(item).
  returned: when O(checks) is set, outside check mode
  type: list
  elements: dict
files:
  description: Every map's file and what was (or in check mode would be) changed.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The map.
      type: str
      sample: virtual-alias-maps
    path:
      description: The client file.
      type: str
      sample: /etc/postfix/mysql-virtual-alias-maps.cf
    state:
      description: The map's state.
      type: str
      sample: present
    changed:
      description: Whether the file was (would be) written, removed, or its owner, group or mode corrected.
      type: bool
    reasons:
      description: "What differed: V(created), V(content), V(owner), V(group), V(mode), V(removed)."
      type: list
      elements: str
      sample: [content]
master_cf:
  description: The master.cf fields that changed (or would), as C(SERVICE/TYPE/FIELD), with their values before and after.
  returned: success
  type: dict
  sample:
    proxymap/unix/process_limit:
      before: "-"
      after: "4"
main_cf:
  description:
    - The main.cf settings that changed (or would), each with its value before and after.
      V(null) means not set in main.cf.
  returned: success
  type: dict
  sample:
    virtual_alias_maps:
      before: mysql:/etc/postfix/mysql-virtual-alias-maps.cf
      after: mysql:/etc/postfix/mysql-virtual-alias-maps.cf, mysql:/etc/postfix/mysql-email2email.cf
postconf_warnings:
  description: postconf's warnings about settings this task does not manage, values hidden.
  returned: success
  type: list
  elements: str
mail_version:
  description: The host's Postfix release, against which the options were checked.
  returned: success
  type: str
  sample: 3.7.11
problems:
  description: Every problem found in the input, when the input is refused.
  returned: failure of the input checks
  type: list
  elements: str
  sample: ["maps: map 'x': the query must be one line"]
failed_map:
  description: The map whose new file Postfix could not use.
  returned: failure of a validation
  type: str
  sample: virtual-mailbox-domains
error_kind:
  description:
    - What kind of failure the validation met, as the M(mailfleet.postfix_mysql.postmap_query)
      module names them, for example V(tls), V(access_denied), V(connect), V(query), V(config), V(timeout).
  returned: failure of a validation
  type: str
  sample: access_denied
hosts:
  description: The database hosts of the failed map.
  returned: failure of a validation
  type: list
  elements: str
  sample: [127.0.0.1]
reloaded:
  description: Whether this run reloaded a running Postfix.
  returned: always
  type: bool
reload_reason:
  description:
    - Why Postfix was (or in check mode would be) reloaded; null when no reload was owed.
  returned: always
  type: str
  sample: an earlier run changed the configuration (2026-11-30 07:12:01 UTC) and did not get to reload Postfix
leftovers_removed:
  description: Temporary files that a killed run left in O(config_dir) and this run removed.
  returned: always
  type: list
  elements: str
backup_files:
  description: The copies that O(backup) kept in this run (none in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/postfix/main.cf.before-mailfleet.2026-12-07@18:30:00~]
tls_ca_file:
  description: The file the client files name as C(tls_CAfile), from O(tls_ca_certificate); null without it.
  returned: always
  type: str
  sample: /etc/postfix/mysql-ca-3f1c0d5e9a2b4c71.pem
ca_files_removed:
  description: CA files of an earlier O(tls_ca_certificate) that no client file names any more, removed (in check mode, to remove).
  returned: always
  type: list
  elements: str
postfix_messages:
  description: Postfix's own messages about the failed validation (password hidden).
  returned: failure of a validation
  type: list
  elements: str
diff:
  description:
    - With C(--diff), one entry per changed client file (text before and after, password shown as
      C(********); or owner, group and mode) and one for main.cf (the changed lines).
  returned: when diff mode is on and something changes
  type: list
  elements: dict
'''

import glob
import grp
import os
import pwd
import re
import stat
from collections import namedtuple
from contextlib import ExitStack

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.client_files import (
    ClientFileError,
    Wanted,
    compare,
    install,
    leftovers,
    remove,
    remove_leftovers,
    render,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.lookups import answer_checks
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import (
    CLIENT_FILE_GLOB,
    MapsError,
    ca_file_path,
    check_all,
    check_for_host,
    client_file_path,
    config_dir_problems,
    labels_for,
    main_cf_settings,
    mysql_maps_argument_spec,
    proxy_read_maps_value,
    proxy_read_maps_without_retired,
    reader_account,
    recovery_settings,
    references,
    tls_options,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postconf import (
    Change,
    PostconfRunner,
    changes_dict,
    diff_text,
    normalize_request,
    plan_absent,
    plan_present,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import redact
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_control import (
    PendingReload,
    PostfixError,
    PostfixRunner,
    hold_config_lock,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import (
    PostmapError,
    PostmapRunner,
    check_tables,
    parse_client_file,
    redact_client_file,
    unique,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.recovery_service import (
    RecoveryServiceError,
    manage_recovery_service,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.system import (
    file_differs,
    keep_first_copy,
    missing_packages,
    read_text,
    replace_file,
    systemctl,
    unit_state,
)


class ValidationFailed(Exception):
    """Postfix could not use a new file; temp is the name it had while it was asked."""

    def __init__(self, wanted, error):
        super(ValidationFailed, self).__init__(error.message)
        self.wanted = wanted
        self.error = error
        self.temp = wanted.temp


def parse_mode(value):
    """'0640', '640', 0o640 or 416 -> 0o640; None when it is not an octal mode."""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    else:
        try:
            mode = int('%s' % value, 8)
        except ValueError:
            return None
    return mode if 0 <= mode <= 0o7777 else None


def describe_attributes(uid, gid, mode):
    def name_of(lookup, ident):
        try:
            return lookup(ident)[0]
        except KeyError:
            return str(ident)
    return '%s:%s %04o\n' % (name_of(pwd.getpwuid, uid), name_of(grp.getgrgid, gid), mode)


def diff_of(wanted, secrets, uid, gid, mode):
    if wanted.content_changed or wanted.removed:
        return dict(before_header=wanted.path, after_header=wanted.path,
                    before=redact_client_file(wanted.before or '', secrets),
                    after=redact_client_file(wanted.text or '', secrets))
    info = os.stat(wanted.path)
    return dict(before_header='%s (owner, group, mode)' % wanted.path,
                after_header='%s (owner, group, mode)' % wanted.path,
                before=describe_attributes(info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)),
                after=describe_attributes(uid, gid, mode))


def still_named(postconf, retired, managed_names):
    """Settings this module does not manage that still name a retired map's file:
    main.cf parameters and master.cf services (their -o overrides)."""
    found = []
    explicit = postconf.explicit()
    master = postconf.master_lines()
    for wanted in retired:
        for name in sorted(explicit):
            if name not in managed_names and references(explicit[name], wanted.path):
                found.append('main.cf %s still names %s (map %s)' % (name, wanted.path, wanted.name))
        for line in master:
            if references(line, wanted.path):
                found.append('master.cf service %s still names %s (map %s)'
                             % (' '.join(line.split()[:2]), wanted.path, wanted.name))
    return found


CA_FILE_MODE = 0o644


def files_not_written_here(wanted_files, main_cf, master_cf):
    """The files about to change that the collection did not write: MAIN_CF and MASTER_CF (None
    when they do not change), and client files without its header whose text changes or that go."""
    return [path for path in (main_cf, master_cf) if path] + [w.path for w in wanted_files if w.replaces_hand_written]


def stale_ca_files(config_dir, keep, client_files):
    """CA files of earlier runs (mysql-ca-*.pem) other than KEEP that no client file names:
    neither CLIENT_FILES (the maps' own, whatever their names) nor another mysql-*.cf."""
    names = set()
    for path in set(glob.glob(os.path.join(config_dir, CLIENT_FILE_GLOB))) | set(client_files):
        names.update(re.findall(r'mysql-ca-[0-9a-f]+\.pem', read_text(path) or ''))
    return sorted(path for path in glob.glob(os.path.join(config_dir, 'mysql-ca-*.pem'))
                  if path != keep and os.path.basename(path) not in names)


def remove_stale_ca_files(module, config_dir, keep, client_files):
    """Remove the CA files no client file names any more; the paths removed."""
    stale = stale_ca_files(config_dir, keep, client_files)
    if module.check_mode:
        return stale
    for path in stale:
        try:
            os.unlink(path)
        except OSError as exc:
            module.warn('cannot remove %s, a CA file no client file names any more: %s' % (path, exc))
    return stale


class Host(namedtuple('Host', 'postconf mail_version uid gid mode hosts options ca_file ca_text')):
    """What a run needs of the host before it plans: its Postfix, the files' owner, group and mode,
    and the connection settings as this release of Postfix gets them."""

    __slots__ = ()


class Plan(namedtuple('Plan', 'user files approval changes master_changes current ca_missing ca_created stale_ca')):
    """What a run changes, decided before anything changes: the client files (for one reader
    account), the main.cf changes (APPROVAL is proxy_read_maps, which must be live and reloaded
    before main.cf names new proxied tables), the master.cf fields, and the CA file."""

    __slots__ = ()

    @property
    def changed_files(self):
        return [w for w in self.files if w.changed]

    @property
    def retiring(self):
        return [w for w in self.files if w.text is None]

    @property
    def configuration_changes(self):
        return bool(self.changed_files or self.changes or self.approval or self.master_changes)

    def for_user(self, user, files):
        """The same plan with the client files of another reader account."""
        return self._replace(user=user, files=files)


class ReloadDebt(object):
    """The reload a change owes, written down (PendingReload) before the first live change, so
    that a run killed after it leaves the debt for the next run."""

    def __init__(self, pending, reload, owed):
        self.pending = pending
        self.reload = reload
        self.owed = owed
        self.recorded = bool(owed)

    def record(self):
        if self.reload and not self.recorded:
            self.pending.record('mailfleet.postfix_mysql.mysql_maps')
            self.recorded = True


def checked_mode(module, labels, secrets):
    """The input, with the rules the action plugin already ran on the controller; the file mode."""
    p = module.params
    try:
        check_all(p['maps'], p['hosts'], p['user'], p['password'] if p['password'] is not None else '', p['dbname'],
                  p['options'], p['union_parameters'], p['sender_login_maps'], p['settings'], labels=labels,
                  retry_interval=p['retry_interval'], standby_user=p['standby_user'],
                  tls_ca_certificate=p['tls_ca_certificate'])
    except MapsError as exc:
        module.fail_json(msg=redact('; '.join(exc.problems), secrets), problems=[redact(x, secrets) for x in exc.problems])
    mode = parse_mode(p['mode'])
    if mode is None:
        module.fail_json(msg='mode %r is not an octal file mode such as "0640"' % (p['mode'],))
    if mode & 0o007:
        module.fail_json(msg='mode %04o gives others access to files that hold the database password' % mode)
    if p['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds')
    if p['proxymap_process_limit'] is not None and p['proxymap_process_limit'] < 1:
        module.fail_json(msg='proxymap_process_limit must be a positive number of processes')
    if p['lock_timeout'] < 0:
        module.fail_json(msg='lock_timeout must be zero or a positive number of seconds')
    return mode


def read_host(module, labels, mode, facts):
    """The host's Postfix and the rules that depend on it (FACTS go with a failure); a Host."""
    p = module.params
    config_dir = p['config_dir']
    postconf = PostconfRunner(module, config_dir)
    mail_version = postconf.value('mail_version')
    if not mail_version:
        module.fail_json(msg=config_dir_problems(config_dir, False, labels)[0], **facts)
    try:
        check_for_host(p['maps'], p['hosts'], p['options'], p['proxy'], mail_version, postconf.chrooted_map_readers(),
                       labels=labels, tls_ca_certificate=p['tls_ca_certificate'])
    except MapsError as exc:
        module.fail_json(msg='; '.join(exc.problems), problems=exc.problems, mail_version=mail_version)
    try:
        uid = pwd.getpwnam(p['owner']).pw_uid
    except KeyError:
        module.fail_json(msg='owner %s does not exist on this host' % p['owner'])
    try:
        gid = grp.getgrnam(p['group']).gr_gid
    except KeyError:
        module.fail_json(msg='group %s does not exist on this host: is Postfix installed?' % p['group'])
    if not os.path.isdir(config_dir):
        module.fail_json(msg='%s is not a directory: is Postfix installed?' % config_dir)
    hosts, options = recovery_settings(p['hosts'], p['options'], mail_version, p['retry_interval'])
    # TLS to the database: the CA goes to a file named by its content (ca_file_path), written
    # before the client files that name it are validated, and removed once none names it.
    ca_file = ca_text = None
    if p['tls_ca_certificate']:
        ca_file = ca_file_path(config_dir, p['tls_ca_certificate'])
        ca_text = p['tls_ca_certificate'].strip() + '\n'
        options = tls_options(options, ca_file)
    return Host(postconf, mail_version, uid, gid, mode, hosts, options, ca_file, ca_text)


def plan_client_files(module, host, user, secrets):
    """The client files as they are and as they should be for reader account USER; the old
    passwords found in them join SECRETS (as secret as the new one)."""
    p = module.params
    password = p['password'] if p['password'] is not None else ''
    planned = []
    try:
        for entry in p['maps']:
            text = None
            if entry['state'] == 'present':
                text = render(entry, user, password, host.hosts, p['dbname'], host.options)
            wanted = compare(Wanted(entry['name'], client_file_path(p['config_dir'], entry), text),
                             host.uid, host.gid, host.mode)
            secrets.update(parse_client_file(wanted.before or '')[1])
            planned.append(wanted)
    except (ClientFileError, IOError, OSError) as exc:
        module.fail_json(msg=redact('cannot read the client files: %s' % exc, secrets))
    module.no_log_values.update(s for s in secrets if s)
    return planned


def plan_main_cf(module, host):
    """main.cf as it is and as it should be, read with one postconf run: (the changes, the names
    this run manages, what postconf read, the parameters the maps set)."""
    p = module.params
    present_settings, absent_parameters = main_cf_settings(
        p['maps'], p['config_dir'], p['proxy'], p['union_parameters'], p['sender_login_maps'])
    desired = normalize_request(dict(present_settings), None, None, 'present') if present_settings else []
    desired += normalize_request(p['settings'], None, None, 'present') if p['settings'] else []
    names = [name for name, _text in desired] + absent_parameters
    current = host.postconf.read(names) if names else None
    if current is not None and current.unknown:
        unknown_desired = [n for n in current.unknown if n not in absent_parameters]
        if unknown_desired:
            def where(name):
                users = ['map %r' % e['name'] for e in p['maps'] if e.get('parameter') == name]
                users += ['settings'] if name in (p['settings'] or {}) else []
                return '%s (%s)' % (name, ', '.join(users or ['sender_login_maps']))
            module.fail_json(msg='unknown Postfix parameter(s) %s: postconf -c %s does not know them; check the '
                                 'spelling' % ('; '.join(where(n) for n in unknown_desired), p['config_dir']))
    changes = []
    if current is not None:
        changes = plan_present(desired, current) + plan_absent(absent_parameters, current)
    for name in (current.duplicates if current is not None else []):
        module.warn('%s sets %s more than once; Postfix uses the last entry' % (host.postconf.main_cf, name))
    return changes, names, current, present_settings


def plan_proxymap(module, host, present_settings):
    """proxymap's part: (the proxy_read_maps change that must be live first, the master.cf
    changes, the proxy_read_maps change that drops retired maps' tables, or None)."""
    p = module.params
    postconf = host.postconf
    # proxymap must serve a new table before main.cf names it (see proxy_read_maps_value).
    approval = []
    proxy_read_maps = postconf.value('proxy_read_maps')
    if p['proxy'] and present_settings:
        value = proxy_read_maps_value(p['maps'], p['config_dir'], proxy_read_maps)
        if value:
            approval = plan_present([('proxy_read_maps', value)], postconf.read(['proxy_read_maps']))
            proxy_read_maps = value
        if approval and not p['reload']:
            module.fail_json(msg='nothing was changed: proxymap must serve the new tables (proxy_read_maps) and be '
                                 'reloaded before main.cf names them, and reload is false; run with reload=true')
    # proxymap's process limit: what bounds the database connections through it.
    master_changes = []
    if p['proxy'] and p['proxymap_process_limit'] and present_settings:
        have = postconf.master_field('proxymap/unix', 'process_limit')
        if have is None:
            module.fail_json(msg='nothing was changed: proxy is on, but the master.cf of %s has no proxymap/unix '
                                 'service to read the maps through' % p['config_dir'])
        if have != '%d' % p['proxymap_process_limit']:
            master_changes = [('proxymap/unix', 'process_limit', have, '%d' % p['proxymap_process_limit'])]
    # Retired maps' tables leave it with the parameters that named them.
    value = proxy_read_maps_without_retired(p['maps'], p['config_dir'], proxy_read_maps)
    retired = Change('proxy_read_maps', proxy_read_maps, value) if value is not None else None
    return approval, master_changes, retired


def make_plan(module, host, user, secrets):
    """Everything this run changes, decided before anything changes."""
    p = module.params
    files = plan_client_files(module, host, user, secrets)
    changes, names, current, present_settings = plan_main_cf(module, host)
    approval, master_changes, retired = plan_proxymap(module, host, present_settings)
    if retired is not None:
        changes.append(retired)
    ca_missing = ca_created = False
    if host.ca_file:
        ca_created = read_text(host.ca_file) is None
        ca_missing = file_differs(host.ca_file, host.ca_text, 0, 0, CA_FILE_MODE)
    # CA files that no live client file names (those of files about to change go after the move).
    stale_ca = stale_ca_files(p['config_dir'], host.ca_file, [w.path for w in files])
    plan = Plan(user, files, approval, changes, master_changes, current, ca_missing, ca_created, stale_ca)
    if plan.retiring:
        # A retired file goes only when nothing this module does not manage still names it;
        # proxy_read_maps is taken care of above.
        named = still_named(host.postconf, plan.retiring, set(names) | set(['proxy_read_maps']))
        if named:
            module.fail_json(msg='nothing was changed: a retired map is still in use: %s. Take it out of those '
                                 'settings first, or give the map its parameter so that it is taken out here.'
                                 % '; '.join(named))
    return plan


def reload_reason(module, plan, owed):
    if module.params['reload'] and plan.configuration_changes:
        return 'this run changed the configuration'
    if owed:
        return ('an earlier run changed the configuration (%s) and did not get to reload Postfix'
                % owed.get('since', 'unknown'))
    return None


def report(module, host, plan, owed, left_behind, facts):
    """The result of PLAN, before anything is done (with --diff, its diffs; the password masked)."""
    changes = plan.approval + plan.changes
    return dict(
        facts,
        installed=True,
        changed=bool(plan.configuration_changes or owed or plan.ca_missing or plan.stale_ca),
        tls_ca_file=host.ca_file,
        ca_files_removed=plan.stale_ca,
        user=plan.user,
        reloaded=False,
        reload_reason=reload_reason(module, plan, owed),
        leftovers_removed=[] if module.check_mode else left_behind,
        backup_files=[],
        main_cf=changes_dict(changes),
        master_cf=dict(('%s/%s' % (service, field), dict(before=before, after=after))
                       for service, field, before, after in plan.master_changes),
        postconf_warnings=list(plan.current.other) if plan.current is not None else [],
        mail_version=host.mail_version,
    )


def report_files(module, host, plan, result, secrets):
    """The files of PLAN in RESULT, and with --diff every diff (the password masked)."""
    result['files'] = [dict(name=w.name, path=w.path, state=('absent' if w.text is None else 'present'),
                            changed=w.changed, reasons=list(w.reasons)) for w in plan.files]
    if not module._diff:
        return
    diffs = [diff_of(w, secrets, host.uid, host.gid, host.mode) for w in plan.changed_files]
    if plan.ca_missing:
        diffs.append(dict(before=read_text(host.ca_file) or '', after=host.ca_text, before_header=host.ca_file,
                          after_header=host.ca_file))
    if plan.master_changes:
        diffs.append(dict(
            before=''.join('%s/%s = %s\n' % (service, field, before) for service, field, before, _a in plan.master_changes),
            after=''.join('%s/%s = %s\n' % (service, field, after) for service, field, _b, after in plan.master_changes),
            before_header='master.cf', after_header='master.cf'))
    if plan.approval or plan.changes:
        before, after = diff_text(plan.approval + plan.changes)
        diffs.append(dict(before=before, after=after, before_header=host.postconf.main_cf,
                          after_header=host.postconf.main_cf))
    result['diff'] = diffs


def prepare(module, host, plan, result):
    """Before the first change: the first copies of files the collection did not write, and the
    CA file (not live yet: only the new client files name it)."""
    p = module.params
    if p['backup']:
        kept = files_not_written_here(plan.files, host.postconf.main_cf if plan.approval or plan.changes else None,
                                      os.path.join(p['config_dir'], 'master.cf') if plan.master_changes else None)
        try:
            result['backup_files'] = [copy for copy in (keep_first_copy(module, path) for path in kept) if copy]
        except (IOError, OSError) as exc:
            module.fail_json(msg='nothing was changed: cannot keep a copy of a file before changing it: %s' % exc,
                             changed=False)
    if plan.ca_missing:
        try:
            replace_file(module, host.ca_file, host.ca_text, 0, 0, CA_FILE_MODE)
        except (IOError, OSError) as exc:
            module.fail_json(msg='nothing was changed: cannot write %s: %s' % (host.ca_file, exc), changed=False)


def file_installer(module, host, debt):
    """install(FILES): the new client files, validated (all or none) and moved over the live ones."""
    p = module.params
    postmap = None
    if p['validate']:
        postmap = module.get_bin_path('postmap', required=True, opt_dirs=['/usr/sbin', '/usr/local/sbin'])

    def validate(new_files):
        # All new files at once, one postmap process each: the wall time of the slowest.
        try:
            check_tables(postmap, ['mysql:%s' % w.temp for w in new_files], p['validate_key'],
                         config_dir=p['config_dir'], runner=PostmapRunner(timeout=p['timeout']))
        except PostmapError as exc:
            failed = [w for w in new_files if w.temp in (exc.table or '')] or new_files[:1]
            raise ValidationFailed(failed[0], exc)

    def move(temp, path):
        # A new file arrives 0666 & ~umask from atomic_move: 0600 with this umask, so
        # that it is never readable by others before it gets its group and mode below.
        old_umask = os.umask(0o077)
        try:
            # The temporary file already has its owner and mode: nothing of the file it
            # replaces is kept (keep_dest_attrs would carry over an ACL put on it by hand).
            module.atomic_move(temp, path, unsafe_writes=p['unsafe_writes'], keep_dest_attrs=False)
        finally:
            os.umask(old_umask)

    def set_attributes(path):
        file_args = module.load_file_common_arguments(dict(p, mode='%04o' % host.mode), path=path)
        module.set_fs_attributes_if_different(file_args, True)

    def install_files(files):
        install(files, host.uid, host.gid, host.mode, validate=validate if p['validate'] else None,
                move=move, set_attributes=set_attributes, going_live=debt.record)
    return install_files


def install_client_files(module, host, plan, result, debt, secrets):
    """The new client files go live; when the database refuses the reader account, the other
    account of the pair may be the one that has this password now: plan again for it. The plan
    whose files went live."""
    p = module.params
    install_files = file_installer(module, host, debt)
    failure_result = dict(result, changed=False)
    tried = [plan.user]
    while True:
        try:
            install_files(plan.files)
            return plan
        except ValidationFailed as exc:
            other = [u for u in (p['user'], p['standby_user']) if u and u not in tried]
            if exc.error.kind != 'access_denied' or not other:
                fail_validation(module, host, plan, exc, tried, failure_result, secrets)
            tried.append(other[0])
            plan = plan.for_user(other[0], plan_client_files(module, host, other[0], secrets))
            result['user'] = plan.user
            report_files(module, host, plan, result, secrets)
        except (IOError, OSError) as exc:
            module.fail_json(msg=redact('cannot write the client files in %s: %s' % (p['config_dir'], exc), secrets),
                             **failure_result)


def fail_validation(module, host, plan, failure, tried, failure_result, secrets):
    """Postfix could not use a new client file: nothing was changed; say why."""
    error, wanted, temp = failure.error, failure.wanted, failure.temp
    if plan.ca_created:
        # Named by no live file: the failed run leaves nothing behind.
        os.unlink(host.ca_file)
    if len(tried) > 1:
        error.message = 'the database refused both reader accounts (%s) with this password: %s' % (
            ' and '.join(tried), error.message)

    def shown(text):
        # Name the live file, not the temporary one that is gone already.
        return redact(text.replace(temp, wanted.path + ' (new)'), secrets) if text else text
    module.fail_json(
        msg='map %s: Postfix cannot use the new %s, so nothing was changed: %s'
            % (wanted.name, wanted.path, shown(error.message)),
        failed_map=wanted.name, error_kind=error.kind, hosts=unique(error.hosts or []),
        postfix_messages=[shown(m) for m in (error.postfix_messages or [])],
        **failure_result)


def go_live(module, host, plan, result, debt, postfix, secrets):
    """After the client files: master.cf, proxy_read_maps and a reload where proxymap must serve
    new tables first, then main.cf, then the retired files."""
    postconf = host.postconf
    for service, field, _before, after in plan.master_changes:
        debt.record()
        postconf.set_master_field(service, field, after)
    # A reload an earlier run owes comes first too when main.cf is about to name proxied tables:
    # that run may have listed them in proxy_read_maps without getting to reload proxymap.
    if plan.approval or (debt.owed and module.params['proxy'] and plan.changes):
        debt.record()
        if plan.approval:
            postconf.write(plan.approval, failure_result=dict(
                result, changed=bool(plan.changed_files or plan.master_changes),
                msg_prefix='the client files were updated, main.cf was not'))
        try:
            if postfix.running():
                postfix.check()
                postfix.reload()
        except PostfixError as exc:
            module.fail_json(msg=redact('proxy_read_maps lists the new tables, but Postfix was not reloaded, so '
                                        'main.cf was left naming the old ones: %s' % exc.message, secrets), **result)
    if plan.changes:
        debt.record()
        # Should postconf fail now, the new client files are live already: say so.
        warnings = postconf.write(plan.changes, failure_result=dict(
            result, changed=bool(plan.changed_files), msg_prefix='the client files were updated, main.cf was not'))
        result['postconf_warnings'].extend(w for w in warnings if w not in result['postconf_warnings'])
    try:
        if plan.retiring:
            debt.record()
        remove(plan.files)
    except (IOError, OSError) as exc:
        module.fail_json(msg='main.cf no longer uses the retired maps, but their files could not be removed: %s'
                         % exc, **result)


def reload_postfix(module, result, debt, postfix, secrets):
    """The running Postfix: a reload, so that no daemon keeps serving the old tables; then the
    debt is settled."""
    try:
        if postfix.running():
            postfix.check()
            postfix.reload()
            result['reloaded'] = True
    except PostfixError as exc:
        module.fail_json(msg=redact('the new configuration is in place, but Postfix was not reloaded, so it '
                                    'still serves the old one; the next run tries again: %s' % exc.message,
                                    secrets), **result)
    debt.pending.settle()


def configure(module, held):
    """Plan, then apply; the result. The locks it takes go into HELD, an ExitStack that releases
    them however the run ends (exit_json and fail_json raise SystemExit)."""
    p = module.params
    password = p['password'] if p['password'] is not None else ''
    # check_all() refuses a password that is not a string; until then keep it out of the set.
    secrets = set([password]) if isinstance(password, str) else set()
    labels = labels_for(p['labels'])
    mode = checked_mode(module, labels, secrets)
    service = unit_state(module, p['service']) if p['service'] else dict(active=None, enabled=None)
    facts = dict(missing_packages=missing_packages(module, p['packages']),
                 service_active=service['active'], service_enabled=service['enabled'])
    if facts['missing_packages']:
        # Nothing to configure yet: the caller installs them and runs this again.
        return dict(facts, changed=False, installed=False, files=[])
    host = read_host(module, labels, mode, facts)
    hold_config_lock(module, held, p['config_dir'], 'mailfleet.postfix_mysql.mysql_maps', p['lock_timeout'])
    left_behind = leftovers(p['config_dir'])
    pending = PendingReload(p['config_dir'])
    debt = ReloadDebt(pending, p['reload'], pending.owed() if p['reload'] else None)
    # The reader account: one of two used in turn (see reader_account()); the live files say which.
    plan = make_plan(module, host, p['user'], secrets)
    user = reader_account([parse_client_file(w.before)[0] for w in plan.files if w.before],
                          p['user'], p['standby_user'], password)
    if user != p['user']:
        plan = plan.for_user(user, plan_client_files(module, host, user, secrets))
    result = report(module, host, plan, debt.owed, left_behind, facts)
    report_files(module, host, plan, result, secrets)
    if module.check_mode:
        return result
    try:
        remove_leftovers(left_behind)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot remove the temporary files a killed run left in %s: %s' % (p['config_dir'], exc))
    if not result['changed']:
        return result
    prepare(module, host, plan, result)
    plan = install_client_files(module, host, plan, result, debt, secrets)
    postfix = PostfixRunner(module, p['config_dir'])
    go_live(module, host, plan, result, debt, postfix, secrets)
    if result['reload_reason']:
        reload_postfix(module, result, debt, postfix, secrets)
    result['ca_files_removed'] = remove_stale_ca_files(module, p['config_dir'], host.ca_file,
                                                       [w.path for w in plan.files])
    return result


def manage_recovery(module, result):
    """The recovery service (option recovery_service), once the maps are in place: it follows
    the first present map's client file."""
    client_files = [f['path'] for f in result['files'] if f['state'] == 'present']
    if not module.params['recovery_service'] or not client_files:
        return
    try:
        result['recovery_service_changes'] = manage_recovery_service(
            module, client_files[0], module.params['config_dir'], module.params['recovery_service'])
    except RecoveryServiceError as exc:
        module.fail_json(msg='the maps are in place, but the database recovery service is not: %s' % exc.message,
                         **result)
    result['changed'] = result['changed'] or bool(result['recovery_service_changes'])


def start_service(module, result):
    """Postfix's unit (option service), started and enabled at boot once the configuration is in
    place, when it was not."""
    unit = module.params['service']
    if not unit or not result['installed']:
        return
    needed = [action for action, done in (('enable', result['service_enabled']), ('start', result['service_active']))
              if not done]
    if not needed:
        return
    result.update(changed=True, service_changes=needed)
    if module.check_mode:
        return
    for action in needed:
        failure = systemctl(module, action, unit)
        if failure:
            module.fail_json(msg='the configuration is in place, but %s' % failure, **result)


def run_checks(module, result):
    """The lookups of option checks, asked of the configuration now in place."""
    if module.params['checks'] is None or module.check_mode or not result['installed']:
        return
    results, failure = answer_checks(module, module.params['checks'], module.params['config_dir'],
                                     PostmapRunner(timeout=module.params['timeout']))
    result['checks'] = results
    if failure:
        module.fail_json(msg='the configuration is in place, but %s' % failure, **result)


def main():
    module = AnsibleModule(
        argument_spec=mysql_maps_argument_spec(),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    with ExitStack() as held:
        result = configure(module, held)
    manage_recovery(module, result)
    start_service(module, result)
    run_checks(module, result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
