#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection laid out as ansible_collections/<ns>/<name>.
# Offline: ansible-test's pip bootstrap download is replaced by a stand-in (see
# ../shared/design/tooling.md). pslint needs pwsh and is skipped by ansible-test itself.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
py=.venv/bin/python

pip_version=$($py - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
class P: version = "3.11"
print(get_venv_packages(P())["pip"])
PY
)
standin="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
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
ansible-test sanity --venv --python 3.11 --color no "$@"
