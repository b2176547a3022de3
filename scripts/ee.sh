#!/usr/bin/env bash
# Check execution-environment.yml with `ansible-builder create` (no image build: no container
# engine here): builds the collection tarball it installs, writes the build context into
# build/ee-context/, and checks that the context holds the tarball the galaxy requirements name.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
python scripts/check_build.py --output-path build/dist
rm -rf build/ee-context
ansible-builder create -f execution-environment.yml -c build/ee-context --output-filename Containerfile -v 1
python - <<'PY'
import os
import sys

import yaml

with open("execution-environment.yml") as fh:
    ee = yaml.safe_load(fh)
context = "build/ee-context"
wanted = [os.path.basename(c["name"]) for c in ee["dependencies"]["galaxy"]["collections"] if c.get("type") == "file"]
missing = [w for w in wanted if not os.path.isfile(os.path.join(context, "_build", "collections", w))]
containerfile = open(os.path.join(context, "Containerfile")).read()
if missing or "ansible-core==2.19.14" not in containerfile:
    sys.exit(f"ee: the build context lacks {missing or 'the pinned ansible-core'} (version bumped in galaxy.yml only?)")
print(f"ee: build context in {context} ok ({', '.join(wanted)})")
PY
