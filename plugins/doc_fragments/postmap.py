# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What the postmap_query module and the postmap lookup share: both ask tables with
    # `postmap -q -` through the same code (module_utils/postmap.py), the module on the
    # managed host, the lookup on the controller.
    DOCUMENTATION = r'''
options:
  config_dir:
    description:
      - The Postfix configuration directory (C(postmap -c)), for a second Postfix instance.
      - By default, postmap's own default (usually C(/etc/postfix)).
    type: path
  parallel:
    description:
      - The largest number of C(postmap -q -) processes run at once for one table. Each
        process is one database connection and gets at least 100 keys, so fewer than 200
        keys always use one process.
      - V(0) means the number of CPUs of the machine that runs postmap (the managed host
        for the module, the controller for the lookup), at most 8. V(1) never splits.
      - The answers are the same whatever the value.
    type: int
    default: 0
  timeout:
    description:
      - Seconds each C(postmap) process may run before it is killed and the query fails.
    type: int
    default: 120
notes:
  - Keys go to C(postmap -q -) one a line, so a key cannot be empty, start or end with a
    blank, or contain a newline, a carriage return, a TAB or a NUL byte. Such keys are
    refused before postmap runs.
  - C(postmap -q) does one literal lookup per key, without the C(@domain) fallback of
    virtual(5). To test a catch-all, ask for the key C(@example.org) itself.
'''
