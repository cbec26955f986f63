"""Build the collection tarball as a used work tree would, and fail on anything in it that
a user should not get, or on anything a user needs that is missing.

The tarball is built from a copy of the files git tracks or would track, with the debris
of a used work tree planted beside them (caches, a venv, test output, bench results):
`build_ignore` in galaxy.yml must keep all of it out. The tarball is left in OUT_DIR
(default build/) for galaxy-importer.

    python tools/check-tarball.py [OUT_DIR]     (with .venv's ansible-galaxy first on PATH)
"""

import fnmatch
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

# What a user of the collection gets. Every member of the tarball must match one of
# these patterns (fnmatch: `*` also matches `/`).
ALLOWED = (
    'MANIFEST.json', 'FILES.json',
    'README.md', 'LICENSE', 'CHANGELOG.rst',
    'requirements.txt', 'bindep.txt',
    'meta', 'meta/runtime.yml', 'meta/execution-environment.yml',
    'changelogs', 'changelogs/changelog.yaml', 'changelogs/config.yaml',
    'docs', 'docs/*.md', 'docs/*.png', 'docs/docsite', 'docs/docsite/*.yml',
    'docs/docsite/rst', 'docs/docsite/rst/*.rst',
    'playbooks', 'playbooks/*.yml',
    'plugins', 'plugins/*', 'roles', 'roles/*',
    'tests', 'tests/unit', 'tests/unit/*.py', 'tests/unit/*',
)

# Must never be in it, whatever ALLOWED says: secrets and debris.
FORBIDDEN = (
    '*vault-password*', '*vault_password*', '*.pyc', '*__pycache__*', '*.pytest_cache*',
    '.*', '*/.*', '*.log', '*.tar.gz', 'tests/output*',
)

# Must be in it.
REQUIRED = (
    'MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'CHANGELOG.rst',
    'meta/runtime.yml', 'meta/execution-environment.yml', 'requirements.txt', 'bindep.txt',
    'changelogs/changelog.yaml', 'playbooks/site.yml',
    'roles/mailfleet_database/README.md', 'roles/mailfleet_postfix/README.md',
    'roles/mailfleet_database/meta/argument_specs.yml',
    'roles/mailfleet_postfix/meta/argument_specs.yml',
)

# What a used work tree holds beside the tracked files.
DEBRIS = (
    '.ansible/tmp/ansible-local-1/x', '.pytest_cache/v/cache/lastfailed',
    '.cache/collections/x', '.venv/bin/python', 'build/x.txt', 'bench/results/run.log',
    'tests/output/junit/x.xml', 'plugins/modules/__pycache__/postconf.cpython-311.pyc',
    'demo/.state/x', 'mailfleet-postfix_mysql-0.0.1.tar.gz',
)


def tracked_files(top):
    out = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        cwd=top, check=True, stdout=subprocess.PIPE).stdout
    return [name for name in out.decode().split('\0') if name and os.path.exists(os.path.join(top, name))]


def copy_tree(top, files, dest):
    for name in files:
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(top, name), target)
    for name in DEBRIS:
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w') as debris:
            debris.write('debris of a used work tree\n')


def relative(name):
    """A member's path without the './' some tarballs put first (a file's own dot stays)."""
    return name[2:] if name.startswith('./') else name


def problems(members):
    """Every problem with the tarball's member names (without the leading './')."""
    found = []
    for name in members:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in FORBIDDEN):
            found.append('%s: must never ship (a secret, a cache or debris)' % name)
        elif not any(fnmatch.fnmatchcase(name, pattern) for pattern in ALLOWED):
            found.append('%s: not something a user of the collection needs' % name)
    for name in REQUIRED:
        if name not in members:
            found.append('%s: missing' % name)
    return found


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, 'build'))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='mailfleet-tarball.') as work:
        tree = os.path.join(work, 'postfix_mysql')
        copy_tree(top, tracked_files(top), tree)
        subprocess.run(['ansible-galaxy', 'collection', 'build', '--force', '--output-path', work, tree],
                       check=True, stdout=subprocess.DEVNULL)
        built = [name for name in os.listdir(work) if name.endswith('.tar.gz')]
        if len(built) != 1:
            sys.exit('check-tarball: expected one tarball, found %s' % built)
        tarball = os.path.join(out_dir, built[0])
        shutil.move(os.path.join(work, built[0]), tarball)
    with tarfile.open(tarball) as archive:
        members = sorted(relative(member.name) for member in archive.getmembers() if member.name not in ('.', './'))
    found = problems(members)
    if found:
        print('%s: %d problem(s)' % (tarball, len(found)), file=sys.stderr)
        for line in found:
            print('  ' + line, file=sys.stderr)
        sys.exit(1)
    print('%s: %d members, only what a user needs, nothing missing' % (tarball, len(members)))


if __name__ == '__main__':
    main()
