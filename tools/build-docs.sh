#!/usr/bin/env bash
# The collection's docsite, with antsibull-docs and Sphinx: build/docs/build/html/index.html.
# Run by `make docs` with .cache/venvs/docs first on PATH, and .venv's ansible-doc (the
# tested ansible-core) after it. Offline machines cannot fetch
# the intersphinx inventories of docs.ansible.com and docs.python.org: those warnings,
# and the references into them they leave undefined, are expected; any other Sphinx
# warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.cache/collections}
site=build/docs
rm -rf "$site"
mkdir -p "$site"
chmod 0755 "$site"  # antsibull-docs wants a directory only its owner can write
antsibull-docs sphinx-init --use-current --lenient --dest-dir "$site" mailfleet.postfix_mysql >/dev/null
log=$site/build.log
if ! "$site/build.sh" >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
# Sphinx writes a warning on one line, or on several for an intersphinx inventory. A
# reference into this collection's own pages (ansible_collections.mailfleet.postfix_mysql.*)
# must resolve; one into the unreachable inventories cannot.
unexpected=$(grep -E 'WARNING|ERROR' "$log" |
  grep -vE "failed to reach any of the inventories" |
  grep -vE "undefined label: '(ansible_collections\.)?[a-z_]+' \[ref\.ref\]|undefined label: 'ansible_collections\.(ansible|community)\.[^']+' \[ref\.ref\]" || true)
if [ -n "$unexpected" ]; then
  printf 'build-docs: Sphinx warned (full log: %s):\n%s\n' "$log" "$unexpected" >&2
  exit 1
fi
echo "build-docs: $site/build/html/index.html"
