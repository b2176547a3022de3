#!/usr/bin/env bash
# Set up the development environment on a fresh machine, idempotently:
#   .venv/                 pinned toolchain from requirements-dev.txt
#   .cache/collections/    ansible.windows (offline, from the `ansible` PyPI bundle)
#                          and this repo linked in as tasksequence.windows
#   .cache/dist/           ansible-windows-<version>.tar.gz built from that copy, for installing
#                          the collection's tarball offline (README, "Install")
# Galaxy is unreachable here, so ansible.windows is taken out of the bundle's wheel.
# Prints one line per stage, before the stage starts, so a first run is never silent.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3}
ANSIBLE_BUNDLE_VERSION=12.3.0   # carries ansible.windows 3.3.0

say() { printf 'bootstrap: %s\n' "$*"; }
started=$SECONDS

if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $("$PYTHON" --version 2>&1) ($PYTHON)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    count=$(grep -cE '^[A-Za-z0-9]' requirements-dev.txt)
    say "installing $count pinned tools from requirements-dev.txt into .venv (ansible-core, pywinrm," \
        "pytest, molecule, ansible-lint, antsibull-docs, ansible-builder, ...; about a minute the first time)"
    # pip's "Collecting <pinned tool>" lines are the progress; its other chatter is dropped.
    # pipefail keeps pip's own exit status.
    .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt \
        2> >(grep -v "is neither a file nor a directory" >&2) \
        | awk '/^Collecting / && (!/\(from / || /\(from -r /) { sub(/ \(from -r .*/, ""); print "  pip: " $0; fflush() }
               /^Installing collected packages/ { print "  pip: installing " split($0, a, ",") " packages"; fflush() }'
    .venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }
    echo "$want" > "$stamp"
else
    say ".venv is up to date with requirements-dev.txt"
fi

coll=.cache/collections/ansible_collections
if [ ! -f "$coll/ansible/windows/MANIFEST.json" ]; then
    mkdir -p .cache/dl "$coll"
    wheel=.cache/dl/ansible-$ANSIBLE_BUNDLE_VERSION-py3-none-any.whl
    if [ ! -f "$wheel" ]; then
        say "downloading the ansible $ANSIBLE_BUNDLE_VERSION bundle wheel (~50 MB) for its ansible.windows"
        .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps \
            "ansible==$ANSIBLE_BUNDLE_VERSION" -d .cache/dl 2> >(grep -v "is neither a file nor a directory" >&2)
    fi
    say "extracting ansible.windows into $coll"
    .venv/bin/python - "$wheel" <<'PY'
import sys, zipfile
prefix = "ansible_collections/ansible/windows/"
with zipfile.ZipFile(sys.argv[1]) as z:
    members = [m for m in z.namelist() if m.startswith(prefix) and ".." not in m]
    z.extractall(".cache/collections", members=members)
print(f"bootstrap: ansible.windows extracted: {len(members)} files")
PY
fi
mkdir -p "$coll/tasksequence"
ln -sfn "$root" "$coll/tasksequence/windows"   # relinked each time: the clone may have moved

aw_version=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
    "$coll/ansible/windows/MANIFEST.json")
aw_tar=.cache/dist/ansible-windows-$aw_version.tar.gz
if [ ! -f "$aw_tar" ]; then
    say "building $aw_tar from that copy (offline install source for ansible.windows)"
    .venv/bin/python scripts/dep_tarball.py "$coll/ansible/windows" .cache/dist >/dev/null
fi
core=$(.venv/bin/python -c "from ansible.release import __version__; print(__version__)")
say "ok in $((SECONDS - started)) s (ansible-core $core, ansible.windows $aw_version)"
