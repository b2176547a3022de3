"""Build the collection tarball and check it holds exactly what should ship.

    python scripts/check_build.py [--output-path DIR]

Fails when the tarball holds anything outside SHIPPED (dev files, caches, test fixtures, ...),
when a file of the checkout that SHIPPED names is missing from it (the galaxy.yml manifest
dropped it), or when plugins/ or roles/ hold a file that neither ships nor is listed in
NOT_SHIPPED (a new kind of file must be decided on, not silently left out).
SHIPPED is kept apart from galaxy.yml's manifest on purpose: each checks the other.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import os
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GALAXY = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")

# fnmatch patterns ("*" also matches "/"), relative to the collection root.
SHIPPED = (
    "MANIFEST.json", "FILES.json",
    "README.md", "requirements.txt", "bindep.txt",
    "meta/runtime.yml", "meta/execution-environment.yml",
    "plugins/*.py",
    "plugins/plugin_utils/powershell/*.ps1",
    "plugins/plugin_utils/sequence.schema.json",
    "docs/*.md",
    "playbooks/*.yml",
    "roles/*",
)
# In the shipped folders but not shipped, with the reason.
NOT_SHIPPED = {
    "docs/site/*": "docs site build configuration (scripts/docs.sh)",
    "docs/dev/*": "notes for the collection's developers",
}
# Never in a tarball, whatever the patterns say.
FORBIDDEN_PARTS = ("tests", "scripts", "extensions", ".ci", ".cache", ".venv", "__pycache__", "winsim")
REQUIRED = ("README.md", "meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt", "bindep.txt",
            "playbooks/demo.yml")
SHIPPED_ROOTS = ("plugins/", "roles/", "docs/", "playbooks/", "meta/")


def build(out_dir: str) -> str:
    """Build the collection from the checkout into out_dir; return the tarball's path."""
    for old in glob.glob(os.path.join(out_dir, "tasksequence-windows-*.tar.gz")):
        os.unlink(old)
    subprocess.run([GALAXY, "collection", "build", "--force", "--output-path", out_dir],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    (tarball,) = glob.glob(os.path.join(out_dir, "tasksequence-windows-*.tar.gz"))
    return tarball


def checkout_files() -> list[str]:
    """Files of the checkout as git sees them (tracked, or new and not ignored)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout.decode()
    return [f for f in out.split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]


def matches(name: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def problems(names: list[str], repo_files: list[str]) -> list[str]:
    found = []
    for n in names:
        parts = n.split("/")
        if any(p.startswith(".") or p in FORBIDDEN_PARTS for p in parts) or n.endswith((".pyc", ".pyo")):
            found.append(f"shipped but must not be: {n}")
        elif not matches(n, SHIPPED):
            found.append(f"shipped but not in SHIPPED: {n}")
    shipped = set(names)
    for f in repo_files:
        if not f.startswith(SHIPPED_ROOTS):
            continue
        if matches(f, NOT_SHIPPED):
            if f in shipped:
                found.append(f"listed in NOT_SHIPPED, but shipped: {f}")
        elif matches(f, SHIPPED):
            if f not in shipped:
                found.append(f"in the checkout and in SHIPPED, missing from the tarball: {f}")
        else:
            found.append(f"neither shipped nor listed in NOT_SHIPPED: {f}")
    found += [f"missing: {r}" for r in REQUIRED if r not in shipped]
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output-path", help="keep the tarball in this folder (default: a temporary folder)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.abspath(args.output_path) if args.output_path else tmp
        os.makedirs(out, exist_ok=True)
        tarball = build(out)
        with tarfile.open(tarball) as tar:
            names = [m.name for m in tar.getmembers() if m.isfile()]
    found = problems(names, checkout_files())
    print(f"{len(names)} files in {os.path.basename(tarball)}" + (f" ({tarball})" if args.output_path else ""))
    for line in found:
        print(f"  {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
