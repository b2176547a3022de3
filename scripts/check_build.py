"""Build the collection tarball and check it ships no test fixtures or dev files."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tarfile
import tempfile

GALAXY = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")

FORBIDDEN_PREFIXES = ("tests/", "scripts/", ".ci/", ".cache/", ".venv/", "extensions/")
REQUIRED = ("plugins/action/run_command_line.py", "plugins/modules/run_command_line.py",
            "plugins/plugin_utils/powershell/run_process.ps1", "meta/runtime.yml", "README.md")


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([GALAXY, "collection", "build", "--force", "--output-path", out],
                       check=True, stdout=subprocess.DEVNULL)
        (tarball,) = glob.glob(os.path.join(out, "*.tar.gz"))
        with tarfile.open(tarball) as tar:
            names = tar.getnames()
    bad = [n for n in names if n.startswith(FORBIDDEN_PREFIXES) or "/winsim/" in n or n.endswith(".pyc")]
    missing = [n for n in REQUIRED if n not in names]
    print(f"{len(names)} entries in the built collection")
    if bad or missing:
        print("shipped but should not be:", *bad, sep="\n  ")
        print("missing:", *missing, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
