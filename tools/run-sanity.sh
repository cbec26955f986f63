#!/usr/bin/env bash
# ansible-test sanity on the collection, laid out as ansible-test wants it:
# TMP/ansible_collections/mailfleet/postfix_mysql (a copy of the files git tracks or
# would track), with the collections it imports from (community.mysql) beside it.
# The copy lies outside this checkout: inside it, ansible-test would ask git for the
# file list and find the copy ignored.
#
# SANITY_VENV: the venv whose ansible-test runs (default .venv, the pinned ansible-core;
# `make versions` passes those of the other supported releases), SANITY_PYTHON: the
# controller's Python for it, SANITY_TARGET_PYTHONS: the managed hosts' Pythons for the
# compile and import tests.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
venv=${SANITY_VENV:-$top/.venv}
python=${SANITY_PYTHON:-${TOOLS_PYTHON:-3.11}}
work=$(mktemp -d "${TMPDIR:-/tmp}/mailfleet-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/ansible_collections
mkdir -p "$tree/mailfleet/postfix_mysql" "$tree/community"

git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [ -e "$file" ] && printf '%s\0' "$file"
done | tar --null -T - -cf - | tar -C "$tree/mailfleet/postfix_mysql" -xf -

# community.mysql as `make collection` links it (.venv's).
cp -aL .cache/collections/ansible_collections/community/mysql "$tree/community/mysql"

# ansible-test fetches a pip bootstrap script from a host that is out of reach here;
# give it the stand-in under the name it looks for (its pip pin, e.g. 24.2 -> 24_2).
pip_pin=$("$venv/bin/python" - "$python" <<'PY'
import sys
from ansible_test._internal.python_requirements import get_venv_packages
class Python:  # only .version is read
    version = sys.argv[1]
print(get_venv_packages(Python())['pip'].replace('.', '_'))
PY
)
# ansible-test keeps its per-test virtual environments under ~/.ansible/test; a HOME of
# the project's own keeps them apart from anything else on the machine and reusable
# between runs.
export PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}  # where tools/find-python.sh looks
export HOME=$top/.cache/ansible-test-home
mkdir -p "$HOME/.ansible/test/cache"
cp tools/get-pip-standin.py "$HOME/.ansible/test/cache/get_pip_${pip_pin}.py"

# ansible-test finds each Python by its name (python3.12) on the PATH.
use_python() {
  local path
  path=$("$top/tools/find-python.sh" "$1") && PATH=$(dirname "$path"):$PATH
}

cd "$tree/mailfleet/postfix_mysql"
# Every test on the controller's Python; then the tests that look at code running on
# managed hosts (compile, import) on the oldest and newest Python the targets may have
# (Debian 12 has 3.11, Debian 13 has 3.13; ansible-core 2.19 supports targets from 3.8).
# A Python that is missing fails the run: a test that did not run is not a pass.
use_python "$python"
"$venv/bin/ansible-test" sanity --venv --python "$python" --color no
for target_python in ${SANITY_TARGET_PYTHONS-3.8 3.13}; do
  use_python "$target_python"
  "$venv/bin/ansible-test" sanity --venv --python "$target_python" --color no --test compile --test import
done
