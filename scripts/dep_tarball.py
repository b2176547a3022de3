"""Build a Galaxy tarball from an installed collection (e.g. ansible.windows out of the `ansible` bundle).

    python scripts/dep_tarball.py .cache/collections/ansible_collections/ansible/windows .cache/dist

An installed collection has MANIFEST.json but no galaxy.yml, so `ansible-galaxy collection build`
cannot build it as it is: a galaxy.yml is written from MANIFEST.json's collection_info into a copy
(the generated MANIFEST.json/FILES.json are left out) and that copy is built. The tarball then
installs offline with `ansible-galaxy collection install --offline`. Prints the tarball's path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

GALAXY = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")


def build(collection_dir: str, out_dir: str) -> str:
    with open(os.path.join(collection_dir, "MANIFEST.json")) as fh:
        info = json.load(fh)["collection_info"]
    # galaxy.yml takes license or license_file, and no empty values.
    galaxy = {k: v for k, v in info.items() if v not in (None, [], {}, "")}
    galaxy["build_ignore"] = ["MANIFEST.json", "FILES.json"]
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "src")
        shutil.copytree(collection_dir, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        with open(os.path.join(copy, "galaxy.yml"), "w") as fh:
            yaml.safe_dump(galaxy, fh, sort_keys=False)
        subprocess.run([GALAXY, "collection", "build", "--force", "--output-path", os.path.abspath(out_dir)],
                       cwd=copy, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out_dir, f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(build(sys.argv[1], sys.argv[2]))
