import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'shared'))

from mailfleet_testlib import podman_host  # noqa: E402


@pytest.fixture(scope='module')
def host(_testinfra_host):
    return podman_host(_testinfra_host)
