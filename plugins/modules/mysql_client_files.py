#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: mysql_client_files
short_description: Write Postfix mysql_table(5) client files, validated, never readable by others
version_added: "0.1.0"
description:
  - Writes one Postfix mysql_table(5) client file per map, C(CONFIG_DIR/mysql-NAME.cf), with
    the C(user), C(password), C(hosts), C(dbname), options and C(query) of the map, owned by
    C(root:postfix) with mode C(0640) by default.
  - All maps are compared in one call, which is one module run per host whatever the number
    of maps; a file whose text, owner, group and mode are right is not touched.
  - "A new text goes live only after Postfix accepted it: it is written to a temporary file
    beside the live one (created 0600, then given its owner and mode, so never readable by
    others), C(postmap -q) asks the database through it (O(validate)), and only when every
    changed file passed are they renamed over the live ones. When one fails, no live file
    changes: the error names the map, the database host(s) and Postfix's message."
  - The password is never returned or shown; diffs show C(password = ********).
  - Reload Postfix after a change (the C(mailfleet.postfix_mysql.mailfleet_postfix) role does).
author:
  - mailfleet maintainers (@mailfleet)
options:
  maps:
    description:
      - The maps, one client file each.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Names the file C(mysql-NAME.cf). Letters, digits, C(.), C(_) and C(-), starting
            with a letter or digit; unique.
        type: str
        required: true
      query:
        description:
          - The SQL query, one line, with C(%s) for the lookup key (see mysql_table(5)).
        type: str
        required: true
      options:
        description:
          - mysql_table(5) options for this map only; they win over O(options).
        type: dict
        default: {}
      parameter:
        description:
          - The main.cf parameter that uses the map. Only written in the file's header
            comment, so that an admin reading the file knows what it serves.
        type: str
  hosts:
    description:
      - The database hosts, in the order Postfix tries them (it fails over to the next
        one). C(127.0.0.1) is TCP, C(localhost) the UNIX socket (see mysql_table(5)).
    type: list
    elements: str
    required: true
  user:
    description: The database account Postfix logs in with.
    type: str
    required: true
  password:
    description:
      - The password of O(user). One line without leading or trailing blanks.
    type: str
    required: true
  dbname:
    description: The database name.
    type: str
    required: true
  options:
    description:
      - mysql_table(5) options for every map, for example C(tls_verify_cert) or
        C(expansion_limit). Booleans are written as C(yes) and C(no).
      - C(user), C(password), C(hosts), C(dbname) and C(query) come from their own options
        and are refused here.
    type: dict
    default: {}
  config_dir:
    description:
      - The Postfix configuration directory. The files go there, and C(postmap) reads its
        C(main.cf) when validating.
    type: path
    default: /etc/postfix
  owner:
    description: Owner of the files.
    type: str
    default: root
  group:
    description: Group of the files. Postfix's daemons read the maps as this group.
    type: str
    default: postfix
  mode:
    description:
      - Mode of the files, as an octal string. The files hold the password, so a mode
        that gives others any access is refused.
    type: raw
    default: "0640"
  validate:
    description:
      - Ask the database through each new file with C(postmap -q) before it goes live.
        A wrong password, an unreachable host, a bad query or an option Postfix refuses
        then fails the task with no live file changed.
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
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports which files would change, and why, without writing.
  diff_mode:
    support: full
    details: The text before and after, with the password shown as C(********).
  platform:
    platforms: posix
seealso:
  - module: mailfleet.postfix_mysql.postmap_query
  - name: mysql_table(5)
    description: The client file format.
    link: https://www.postfix.org/mysql_table.5.html
'''

EXAMPLES = r'''
- name: The ISPmail tutorial's four client files
  mailfleet.postfix_mysql.mysql_client_files:
    hosts: [127.0.0.1]
    user: mailuser
    password: "{{ vault_mailuser_password }}"
    dbname: mailserver
    maps:
      - name: virtual-mailbox-domains
        query: SELECT 1 FROM virtual_domains WHERE name='%s'
      - name: virtual-mailbox-maps
        query: SELECT 1 FROM virtual_users WHERE email='%s'
      - name: virtual-alias-maps
        query: SELECT destination FROM virtual_aliases WHERE source='%s'
      - name: email2email
        query: SELECT email FROM virtual_users WHERE email='%s'
  notify: Reload Postfix
'''

RETURN = r'''
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
    changed:
      description: Whether the file was (would be) written or its owner, group or mode corrected.
      type: bool
    reasons:
      description: "What differed: V(created), V(content), V(owner), V(group), V(mode)."
      type: list
      elements: str
      sample: [content]
failed_map:
  description: The map whose new file Postfix could not use.
  returned: failure of a validation
  type: str
  sample: virtual-mailbox-domains
hosts:
  description: The database hosts of the failed map.
  returned: failure of a validation
  type: list
  elements: str
  sample: [127.0.0.1]
postfix_messages:
  description: Postfix's own messages about the failed validation (password hidden).
  returned: failure of a validation
  type: list
  elements: str
'''

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.client_files import (
    ClientFileError,
    Wanted,
    check,
    client_file_path,
    compare,
    install,
    render,
)
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postfix_cli import redact
from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.postmap import (
    PostmapError,
    PostmapRunner,
    check_tables,
    parse_client_file,
    redact_client_file,
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
    if wanted.content_changed:
        return dict(before_header=wanted.path, after_header=wanted.path,
                    before=redact_client_file(wanted.before or '', secrets),
                    after=redact_client_file(wanted.text, secrets))
    info = os.stat(wanted.path)
    return dict(before_header='%s (owner, group, mode)' % wanted.path,
                after_header='%s (owner, group, mode)' % wanted.path,
                before=describe_attributes(info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)),
                after=describe_attributes(uid, gid, mode))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            maps=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                query=dict(type='str', required=True),
                options=dict(type='dict', default={}),
                parameter=dict(type='str'),
            )),
            hosts=dict(type='list', elements='str', required=True),
            user=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            dbname=dict(type='str', required=True),
            options=dict(type='dict', default={}),
            config_dir=dict(type='path', default='/etc/postfix'),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='postfix'),
            mode=dict(type='raw', default='0640'),
            validate=dict(type='bool', default=True),
            # A lookup key, not a secret: the name only looks like one.
            validate_key=dict(type='str', default='probe@mailfleet.invalid', no_log=False),
            timeout=dict(type='int', default=60),
        ),
        supports_check_mode=True,
    )
    p = module.params
    config_dir = p['config_dir']
    try:
        check(p['maps'], p['user'], p['password'], p['hosts'], p['dbname'], p['options'])
    except ClientFileError as exc:
        module.fail_json(msg=redact(str(exc), [p['password']]))
    mode = parse_mode(p['mode'])
    if mode is None:
        module.fail_json(msg='mode %r is not an octal file mode such as "0640"' % (p['mode'],))
    if mode & 0o007:
        module.fail_json(msg='mode %04o gives others access to files that hold the database password' % mode)
    if p['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds')
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

    secrets = set([p['password']])
    wanted_files = []
    try:
        for entry in p['maps']:
            wanted = Wanted(entry['name'], client_file_path(config_dir, entry['name']),
                            render(entry, p['user'], p['password'], p['hosts'], p['dbname'], p['options']))
            compare(wanted, uid, gid, mode)
            # An old password in a file being replaced is as secret as the new one.
            secrets |= parse_client_file(wanted.before or '')[1]
            wanted_files.append(wanted)
    except (ClientFileError, IOError, OSError) as exc:
        module.fail_json(msg=redact('cannot read the client files: %s' % exc, secrets))
    module.no_log_values.update(secrets)

    changed = [w for w in wanted_files if w.changed]
    result = dict(
        changed=bool(changed),
        files=[dict(name=w.name, path=w.path, changed=w.changed, reasons=list(w.reasons)) for w in wanted_files],
    )
    if module._diff:
        result['diff'] = [diff_of(w, secrets, uid, gid, mode) for w in changed]
    if not changed or module.check_mode:
        module.exit_json(**result)

    postmap = None
    if p['validate']:
        postmap = module.get_bin_path('postmap', required=True, opt_dirs=['/usr/sbin', '/usr/local/sbin'])

    def validate(new_files):
        # All new files at once, one postmap process each: the wall time of the slowest.
        try:
            check_tables(postmap, ['mysql:%s' % w.temp for w in new_files], p['validate_key'],
                         config_dir=config_dir, runner=PostmapRunner(timeout=p['timeout']))
        except PostmapError as exc:
            failed = [w for w in new_files if w.temp in (exc.table or '')] or new_files[:1]
            raise ValidationFailed(failed[0], exc)

    # A failure below leaves every live file as it was.
    failure_result = dict(result)
    failure_result['changed'] = False
    try:
        install(wanted_files, uid, gid, mode, validate=validate if p['validate'] else None)
    except ValidationFailed as exc:
        error, wanted, temp = exc.error, exc.wanted, exc.temp

        def shown(text):
            # Name the live file, not the temporary one that is gone already.
            return redact(text.replace(temp, wanted.path + ' (new)'), secrets) if text else text
        module.fail_json(
            msg='map %s: Postfix cannot use the new %s, so no client file was changed: %s'
                % (wanted.name, wanted.path, shown(error.message)),
            failed_map=wanted.name, error_kind=error.kind, hosts=error.hosts,
            postfix_messages=[shown(m) for m in (error.postfix_messages or [])],
            **failure_result)
    except (IOError, OSError) as exc:
        module.fail_json(msg=redact('cannot write the client files in %s: %s' % (config_dir, exc), secrets),
                         **failure_result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
