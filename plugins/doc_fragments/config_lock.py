# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The modules that change a Postfix configuration directory take one lock per
    # directory (module_utils/postfix_control.py), so two runs at once take turns.
    DOCUMENTATION = r'''
options:
  lock_timeout:
    description:
      - "Seconds to wait when another run (of this module or of another module of this collection
        that changes the same configuration directory) holds the directory's lock: two admins, or a
        timer and an admin. When the time is up the task fails with nothing changed, naming the run
        that holds the lock. V(0) fails at once."
      - The lock is C(/run/mailfleet.postfix_mysql/DIR.lock), an flock(2) that the kernel drops when its
        holder ends, however it ends.
    type: int
    default: 120
'''
