#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: validate_maps
short_description: (Internal) Check Postfix MySQL map definitions on the controller, before anything is installed
version_added: "0.1.0"
description:
  - Combines lists of map definitions by name and checks them, and the connection settings
    every client file shares, with the rules of the M(mailfleet.postfix_mysql.mysql_maps) module
    (the same code). Runs on the controller only - no connection to the host, no round trip - so
    bad input fails in the first seconds of a play.
  - The rules that need the host's Postfix (options its release knows; a UNIX socket while
    chrooted daemons read the maps) are checked too when O(mail_version) is given, with the facts
    M(mailfleet.postfix_mysql.postfix_info) reports. M(mailfleet.postfix_mysql.mysql_maps) checks them
    itself on the host, before it changes anything.
  - Every problem is reported at once, each naming the variable (see O(labels)) and what is
    wrong. The password is never part of a message.
  - The first task of the P(mailfleet.postfix_mysql.mailfleet_postfix#role) role.
author:
  - mailfleet maintainers (@mailfleet)
options:
  default_maps:
    description:
      - Map definitions to start from, as for O(mailfleet.postfix_mysql.mysql_maps#module:maps).
    type: list
    elements: dict
    default: []
  maps:
    description:
      - Map definitions combined into O(default_maps) by name. An entry whose name is already
        there updates only the keys it gives (for example only C(query), or C(state=absent));
        an entry with a new name is added at the end.
      - A name given twice in one list is an error.
    type: list
    elements: dict
    default: []
  installed:
    description:
      - Whether C(postconf) answers for O(config_dir) on the host
        (RV(mailfleet.postfix_mysql.postfix_info#module:installed)). V(false) is refused, naming
        O(config_dir) (see O(labels)).
    type: bool
  config_dir:
    description: The Postfix configuration directory the maps are written to.
    type: path
    default: /etc/postfix
  checks:
    description:
      - Lookups to be made after the maps are applied, as for
        O(mailfleet.postfix_mysql.postmap_query#module:expect) with a C(map) or C(parameter) each
        (the role's C(mailfleet_postfix_checks)). A C(map) must name a present map.
    type: list
    elements: dict
    default: []
  labels:
    description:
      - "The name each input has for the user, used in messages, for example
        C({maps: mailfleet_postfix_maps, hosts: mailfleet_postfix_db_hosts}). Keys are the option
        names of this module; by default each input is named by its option."
    type: dict
    default: {}
  mail_version:
    description:
      - The host's Postfix release (RV(mailfleet.postfix_mysql.postfix_info#module:mail_version)).
        With it, options the release does not know are refused.
    type: str
  chrooted_map_readers:
    description:
      - The host's chrooted services that read maps directly
        (RV(mailfleet.postfix_mysql.postfix_info#module:chrooted_map_readers)). With O(mail_version),
        a UNIX socket in O(hosts) is refused while there are any, unless O(proxy=true).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - mailfleet.postfix_mysql.maps
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Only reads its input; the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller.
seealso:
  - module: mailfleet.postfix_mysql.mysql_maps
'''

EXAMPLES = r'''
- name: Check the maps before anything is installed
  mailfleet.postfix_mysql.validate_maps:
    default_maps:
      - name: virtual-alias-maps
        parameter: virtual_alias_maps
        query: SELECT destination FROM virtual_aliases WHERE source='%s'
      - name: email2email
        parameter: virtual_alias_maps
        query: SELECT email FROM virtual_users WHERE email='%s'
    maps:
      - name: email2email
        state: absent
    hosts: [10.0.0.5]
    password: "{{ vault_mailuser_password }}"
    labels:
      maps: my_maps
  register: checked

- name: Write what was checked
  mailfleet.postfix_mysql.mysql_maps:
    maps: "{{ checked.maps }}"
    hosts: [10.0.0.5]
    password: "{{ vault_mailuser_password }}"
'''

RETURN = r'''
maps:
  description: The combined maps, in order, each with its C(state).
  returned: success
  type: list
  elements: dict
  sample:
    - {name: virtual-alias-maps, parameter: virtual_alias_maps, state: present,
       query: "SELECT destination FROM virtual_aliases WHERE source='%s'"}
    - {name: email2email, parameter: virtual_alias_maps, state: absent,
       query: "SELECT email FROM virtual_users WHERE email='%s'"}
problems:
  description: Every problem found, when the input is refused.
  returned: failure
  type: list
  elements: str
  sample: ["my_maps: map 'email2email': state must be present or absent, not 'gone'"]
'''
