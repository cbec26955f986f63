"""Run galaxy-importer on the built tarball as Galaxy and Automation Hub do on an upload,
and fail unless it passes with every module, lookup, filter and role documented.

    python tools/check-import.py TARBALL     (with the importer's venv first on PATH)

galaxy-importer's config is tools/galaxy-importer.cfg (ansible-test off: `make sanity`
and `make versions` run it). Its ansible-lint warnings are shown; those about modules of
community.mysql and community.crypto come from the importer's sandbox, which has no
dependencies installed, as on Galaxy.
"""

import glob
import json
import os
import subprocess
import sys


def expected_docs(top):
    """(content_type, name) of everything that must come out of the import documented."""
    names = set()
    for path in glob.glob(os.path.join(top, 'plugins', 'modules', '*.py')):
        names.add(('module', os.path.basename(path)[:-3]))
    for path in glob.glob(os.path.join(top, 'plugins', 'lookup', '*.py')):
        names.add(('lookup', os.path.basename(path)[:-3]))
    for path in glob.glob(os.path.join(top, 'plugins', 'filter', '*.yml')):
        names.add(('filter', os.path.basename(path)[:-4]))
    return names


def problems(result, top):
    found = []
    contents = {(item['content_type'], item['content_name']): item for item in result['docs_blob']['contents']}
    for key in sorted(expected_docs(top)):
        doc_strings = (contents.get(key) or {}).get('doc_strings') or {}
        if not doc_strings.get('doc'):
            found.append('%s %s: no documentation in the import' % key)
    for path in sorted(glob.glob(os.path.join(top, 'roles', '*'))):
        key = ('role', os.path.basename(path))
        if not (contents.get(key) or {}).get('readme_html'):
            found.append('role %s: no README in the import' % key[1])
    if not result['docs_blob'].get('collection_readme', {}).get('html'):
        found.append('the collection README is missing from the import')
    return found


def main():
    tarball = os.path.abspath(sys.argv[1])
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=os.path.join(top, 'tools', 'galaxy-importer.cfg'))
    work = os.path.dirname(tarball)
    result_file = os.path.join(work, 'importer_result.json')
    if os.path.exists(result_file):  # never judge an earlier import's result
        os.remove(result_file)
    run = subprocess.run([os.path.abspath(sys.executable), '-m', 'galaxy_importer.main', tarball], cwd=work, env=env, check=False,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    shown = [line for line in run.stdout.splitlines() if line and not line.startswith('Loading ')]
    print('\n'.join(shown))
    if run.returncode != 0 or any(line.startswith('ERROR') for line in shown):
        sys.exit('check-import: galaxy-importer refused the tarball (exit %d)' % run.returncode)
    skipped = [line for line in shown if 'not found, skipping' in line]
    if skipped:
        sys.exit('check-import: the import ran without its tools (put the importer venv first on PATH):\n  '
                 + '\n  '.join(skipped))
    with open(result_file) as handle:
        found = problems(json.load(handle), top)
    if found:
        sys.exit('check-import:\n  ' + '\n  '.join(found))
    print('check-import: imported, with the documentation of %d plugins and modules and every role README'
          % len(expected_docs(top)))


if __name__ == '__main__':
    main()
