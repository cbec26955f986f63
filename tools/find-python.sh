#!/usr/bin/env bash
# The path of a Python interpreter of the given version: find-python.sh 3.12
# pyenv's own interpreter first (pyenv's shims answer for every version but run only the
# selected ones), then `python3.12` on the PATH; each is asked for its version. Exits 1,
# saying so, when there is none: ansible-core 2.20 and later need Python 3.12 on the
# controller, and Debian 12 has no package of it.
set -euo pipefail
version=${1:?usage: find-python.sh VERSION}
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" "python$version"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if [ "$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
    echo "$path"
    exit 0
  fi
done
echo "find-python: no Python $version (python$version on the PATH, or under pyenv's versions/)" >&2
exit 1
