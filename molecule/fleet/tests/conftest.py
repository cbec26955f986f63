import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'shared'))

from mailfleet_testlib import podman_host  # noqa: E402
from fleetlib import fleet_problems, start_stopped_hosts  # noqa: E402

# The last test that ran (its module, whether it failed), and the first one after which the
# fleet was found changed.
_history = {'previous': None, 'module': None, 'failed': False, 'changed_by': None}


@pytest.fixture(scope='module')
def host(_testinfra_host):
    return podman_host(_testinfra_host)


@pytest.fixture(autouse=True)
def fleet_as_converged(request):
    """Every test starts from the fleet that converge.yml left, except one marked
    `continues` (it takes over what the test before it left on purpose). A host that an
    earlier test left stopped is started again; anything else that differs fails this test
    at once, naming the test after which it was found, instead of a confusing failure
    further on. Every host running and reachable is checked before each test; the rest
    (accounts, client files, certificates) at the start of each file and after a test that
    failed, since a test that passed put back what it changed."""
    if request.node.get_closest_marker('continues') is None:
        thorough = _history['failed'] or _history['module'] != request.node.module.__name__
        problems = fleet_problems(thorough)
        if problems and start_stopped_hosts():
            problems = fleet_problems(thorough)
        if problems:
            if _history['changed_by'] is None:
                _history['changed_by'] = _history['previous']
            pytest.fail('the fleet is not as converge.yml left it, since %s: %s'
                        % (_history['changed_by'] or 'the converge', '; '.join(problems)), pytrace=False)
        _history['changed_by'] = None
    _history.update(previous=request.node.nodeid, module=request.node.module.__name__, failed=False)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if outcome.get_result().failed:
        _history['failed'] = True


def pytest_configure(config):
    config.addinivalue_line('markers', 'continues: the test starts from what the test before it left on purpose')
    # make test runs the other tests beside other scenarios, and these alone (-m timed).
    config.addinivalue_line('markers', 'timed: the test measures time (an outage, load, a recovery, killed runs): '
                                       'it must not share the machine')
