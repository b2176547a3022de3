#!/usr/bin/env bash
# The second ansible-core of the compatibility matrix (README, "Compatibility"): a small venv in
# .cache/core-2.20/ (ansible-core 2.20 needs Python 3.12) with only what a controller needs.
# tests/ecosystem/test_matrix.py runs the demo and the README example with it. Created once
# (package index needed then), reused while the pins below stay the same.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dest=.cache/core-2.20
pins="ansible-core==2.20.10 pywinrm==0.5.0 pypsrp==0.9.1 pyspnego==0.12.4 requests-ntlm==1.3.0 cryptography==50.0.2"

if [ "$(cat "$dest/.pins" 2>/dev/null)" = "$pins" ]; then
    echo "core-venv: $dest is up to date ($("$dest/bin/python" --version), $pins)"
    exit 0
fi
py=
for candidate in "${PYTHON312:-}" python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
        py=$candidate
        break
    fi
done
if [ -z "$py" ]; then
    echo "core-venv: ansible-core 2.20 needs Python 3.12 and none was found (set PYTHON312=/path/to/python3.12)" >&2
    exit 1
fi
echo "core-venv: creating $dest with $("$py" --version) ($py): $pins"
rm -rf "$dest"
"$py" -m venv "$dest"
# shellcheck disable=SC2086 # the pins are words on purpose
"$dest/bin/python" -m pip install -q --disable-pip-version-check $pins \
    2> >(grep -v "is neither a file nor a directory" >&2)   # a missing local index of this machine's pip config
echo "$pins" > "$dest/.pins"
