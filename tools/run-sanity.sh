#!/usr/bin/env bash
# ansible-test sanity on the collection, laid out as ansible-test wants it:
# build/sanity/ansible_collections/mailfleet/postfix_mysql (a copy of the tracked files),
# with the collections it imports from (community.mysql) beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
python=${SANITY_PYTHON:-3.11}
tree=build/sanity/ansible_collections
rm -rf build/sanity
mkdir -p "$tree/mailfleet/postfix_mysql" "$tree/community"

git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [ -e "$file" ] && printf '%s\0' "$file"
done | tar --null -T - -cf - | tar -C "$tree/mailfleet/postfix_mysql" -xf -

site=$(.venv/bin/python -c 'import ansible_collections.community.mysql as m, os; print(os.path.dirname(m.__path__[0]))')
cp -a "$site/mysql" "$tree/community/mysql"

# ansible-test fetches a pip bootstrap script from a host that is out of reach here;
# give it the stand-in under the name it looks for (its pip pin, e.g. 24.2 -> 24_2).
pip_pin=$(.venv/bin/python - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
class Python:  # only .version is read
    version = '3.11'
print(get_venv_packages(Python())['pip'].replace('.', '_'))
PY
)
mkdir -p ~/.ansible/test/cache
cp tools/get-pip-standin.py ~/.ansible/test/cache/get_pip_${pip_pin}.py

cd "$tree/mailfleet/postfix_mysql"
# shellcheck disable=SC2086
"$top/.venv/bin/ansible-test" sanity --venv --python "$python" --color no ${SANITY_ARGS:-}
