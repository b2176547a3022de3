#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection laid out as ansible_collections/<ns>/<name>.
#
# Runs with --local (ansible-test itself runs from .venv: no delegation venv to rebuild) and with
# HOME pointed at .cache/at, so the per-test virtual environments ansible-test keeps in
# ~/.ansible/test/venv live under .cache/ and are created once per machine and reused. After the
# first successful run the environments are complete, so later runs set PIP_NO_INDEX: a warm
# machine never asks the package index for anything.
# ansible-test's pip bootstrap download is replaced by a stand-in (see ../shared/design/tooling.md).
# pslint needs pwsh and is skipped by ansible-test itself.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
py=$root/.venv/bin/python

# Short on purpose: venv paths under it must stay below Linux's 127-character shebang limit.
at_home=${TASKSEQUENCE_SANITY_HOME:-$root/.cache/at}
mkdir -p "$at_home"
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip}   # keep the real pip cache shared

read -r pip_version at_version < <($py - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible.release import __version__
class P: version = "3.11"
print(get_venv_packages(P())["pip"], __version__)
PY
)
standin="$at_home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -f "$standin" ]; then
    mkdir -p "$(dirname "$standin")"
    cat > "$standin" <<'PY'
# Stand-in for pip's get-pip.py (no download here): ensurepip, then pip install the rest.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
PY
fi

warm="$at_home/warm-ansible-core-$at_version"
if [ -f "$warm" ]; then
    echo "sanity: reusing ansible-test's virtual environments in $at_home (no package index)"
    export PIP_NO_INDEX=1
else
    echo "sanity: first run for ansible-core $at_version: ansible-test creates its virtual environments" \
         "in $at_home (package index needed, a few minutes; reused afterwards)"
fi

# Outside the repo: ansible-test walks up to the nearest .git and would see only tracked files there.
work=${TASKSEQUENCE_SANITY_DIR:-${TMPDIR:-/tmp}/tasksequence-windows-sanity}
dest=$work/ansible_collections/tasksequence/windows
rm -rf "$work"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] || continue
    mkdir -p "$dest/$(dirname "$f")"
    cp -p "$f" "$dest/$f"
done
cd "$dest"
# The copy has no .git: ansible-test then treats every file in it as part of the collection.
export PATH="$root/.venv/bin:$PATH"
rc=0
HOME="$at_home" ansible-test sanity --local --python 3.11 --color no "$@" || rc=$?
if [ "$rc" -ne 0 ] && [ -f "$warm" ]; then
    echo "sanity: if that failed while installing packages (PIP_NO_INDEX is set once warm), remove $warm" \
         "and run again" >&2
fi
[ "$rc" -eq 0 ] && touch "$warm"
exit "$rc"
