"""Pack installed collections into tarballs that `ansible-galaxy collection install` takes,
for places that cannot reach a Galaxy server (tools/ee-test.sh: the execution environment).

An installed collection keeps its MANIFEST.json and FILES.json, the manifest ansible-galaxy
checks every file against when it installs a tarball. The `ansible` package leaves out what
only a collection's own CI uses (tests/, .github/, ...) but keeps their FILES.json entries:
the tarball gets the files that are there, each checked against its checksum, and a
FILES.json of those (with its new checksum in MANIFEST.json).

    .venv/bin/python tools/pack-collection.py OUT_DIR NAMESPACE.NAME...

writes OUT_DIR/NAMESPACE-NAME.tar.gz for each.

The collections are found on the Python path of the interpreter that runs this (.venv).
"""
import hashlib
import importlib
import io
import json
import os
import sys
import tarfile


def sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main(out, names):
    for fqcn in names:
        namespace, name = fqcn.split('.')
        root = importlib.import_module('ansible_collections.%s.%s' % (namespace, name)).__path__[0]
        with open(os.path.join(root, 'MANIFEST.json')) as handle:
            manifest = json.load(handle)
        with open(os.path.join(root, 'FILES.json')) as handle:
            files = json.load(handle)
        kept = []
        for entry in files['files']:
            path = os.path.join(root, entry['name'])
            if not os.path.lexists(path):
                continue
            if entry['ftype'] == 'file' and sha256(path) != entry['chksum_sha256']:
                sys.exit('pack-collection: %s differs from the checksum in %s/FILES.json' % (path, root))
            kept.append(entry)
        files['files'] = kept
        files_json = json.dumps(files, indent=4).encode()
        manifest['file_manifest_file']['chksum_sha256'] = hashlib.sha256(files_json).hexdigest()
        with tarfile.open(os.path.join(out, '%s-%s.tar.gz' % (namespace, name)), 'w:gz') as tar:
            add_bytes(tar, 'MANIFEST.json', json.dumps(manifest, indent=4).encode())
            add_bytes(tar, 'FILES.json', files_json)
            for entry in kept:
                if entry['name'] != '.':
                    tar.add(os.path.join(root, entry['name']), arcname=entry['name'], recursive=False)


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
