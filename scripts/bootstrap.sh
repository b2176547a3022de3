#!/usr/bin/env bash
# Set up the development environment on a fresh machine, idempotently:
#   .venv/                 pinned toolchain from requirements-dev.txt
#   .cache/collections/    ansible.windows (offline, from the `ansible` PyPI bundle)
#                          and this repo linked in as tasksequence.windows
# Galaxy is unreachable here, so ansible.windows is taken out of the bundle's wheel.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3}
ANSIBLE_BUNDLE_VERSION=12.3.0   # carries ansible.windows 3.3.0

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
fi

coll=.cache/collections/ansible_collections
if [ ! -f "$coll/ansible/windows/MANIFEST.json" ]; then
    mkdir -p .cache/dl "$coll"
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps \
        "ansible==$ANSIBLE_BUNDLE_VERSION" -d .cache/dl
    .venv/bin/python - "$ANSIBLE_BUNDLE_VERSION" <<'PY'
import sys, zipfile
wheel = f".cache/dl/ansible-{sys.argv[1]}-py3-none-any.whl"
prefix = "ansible_collections/ansible/windows/"
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.namelist() if m.startswith(prefix) and ".." not in m]
    z.extractall(".cache/collections", members=members)
print(f"ansible.windows extracted: {len(members)} files")
PY
fi
mkdir -p "$coll/tasksequence"
ln -sfn "$root" "$coll/tasksequence/windows"   # relinked each time: the clone may have moved
echo "bootstrap: ok ($(.venv/bin/ansible --version | head -1))"
