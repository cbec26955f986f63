# -*- coding: utf-8 -*-
# Copyright: mailfleet.postfix_mysql contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role's defaults/main.yml and meta/argument_specs.yml say the same thing.

The argument spec is what ansible-doc shows and what checks the input; defaults/main.yml
is what the role really uses. Both are written by hand, so this test keeps them equal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..')
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, 'roles'))
               if os.path.isfile(os.path.join(ROOT, 'roles', name, 'meta', 'argument_specs.yml')))


def load(role, *path):
    with open(os.path.join(ROOT, 'roles', role, *path)) as handle:
        return yaml.safe_load(handle) or {}


def entry_points(role):
    return load(role, 'meta', 'argument_specs.yml')['argument_specs']


@pytest.mark.parametrize('role', ROLES)
def test_every_default_is_documented_with_the_same_value(role):
    defaults = load(role, 'defaults', 'main.yml')
    options = entry_points(role)['main']['options']
    assert sorted(set(defaults) - set(options)) == [], 'defaults without an argument spec'
    for name, value in defaults.items():
        if is_computed(value, options[name]):
            # A value computed from other variables is not of the option's type until
            # it is templated, and documentation tools (antsibull-docs, Galaxy) refuse
            # it as a default: the description says it instead.
            assert 'default' not in options[name], '%s: a computed default goes in the description' % name
            assert 'By default' in ' '.join(options[name]['description']), name
        else:
            assert options[name].get('default') == value, name


def is_computed(value, spec):
    return isinstance(value, str) and '{{' in value and spec.get('type', 'str') != 'str'


@pytest.mark.parametrize('role', ROLES)
def test_every_documented_option_has_a_default_or_is_required(role):
    defaults = load(role, 'defaults', 'main.yml')
    for name, spec in entry_points(role)['main']['options'].items():
        assert spec.get('required') or name in defaults, '%s has neither a default nor required: true' % name
        assert not (spec.get('required') and name in defaults), '%s is required and has a default' % name


@pytest.mark.parametrize('role', ROLES)
def test_other_entry_points_agree_with_main(role):
    points = entry_points(role)
    for point, spec in points.items():
        for name, option in (spec.get('options') or {}).items():
            if name in points['main']['options']:
                assert option.get('default') == points['main']['options'][name].get('default'), (point, name)
                assert option.get('type') == points['main']['options'][name].get('type'), (point, name)


@pytest.mark.parametrize('role', ROLES)
def test_every_variable_carries_the_role_name(role):
    names = set(load(role, 'defaults', 'main.yml'))
    for spec in entry_points(role).values():
        names |= set(spec.get('options') or {})
    assert sorted(n for n in names if not n.startswith(role + '_')) == []
