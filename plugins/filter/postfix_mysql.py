# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter that names a map's Postfix table, from the one function that decides it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailfleet.postfix_mysql.plugins.module_utils.maps import map_table


class FilterModule(object):
    def filters(self):
        return {
            'map_table': map_table,
        }
