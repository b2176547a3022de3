"""Helpers of the ecosystem tests: paths, the scripts, clean Ansible environments."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CHECKOUT_COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
ANSIBLE_WINDOWS = os.path.join(CHECKOUT_COLLECTIONS, "ansible_collections", "ansible", "windows")

# The README's example runs C:\Tools\register.exe: declared here, not a simulator default.
SEED = {
    "files": {
        "C:\\Tools\\register.exe": {"program": {"rc": 0, "stdout": "registered {args}\r\n"}},
    },
}


def load_script(name: str):
    """Import scripts/<name>.py (not a package: the scripts are not shipped)."""
    spec = importlib.util.spec_from_file_location(f"_scripts_{name}", os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean_env(tmp_path, collections_path: str, **extra) -> dict:
    """Environment for ansible-* commands that sees only collections_path (no checkout, no ansible.cfg)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTHONPATH"))}
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n")
    env.update({
        "ANSIBLE_CONFIG": str(cfg),
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "TASKSEQUENCE_WINDOWS_KEY_FILE": str(tmp_path / "controller.key"),
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
    })
    env.update(extra)
    return env


def checkout_env(tmp_path, **extra) -> dict:
    """Environment for ansible-* commands run from this checkout (as scripts/demo.sh does)."""
    return clean_env(tmp_path, CHECKOUT_COLLECTIONS, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), **extra)


README = os.path.join(ROOT, "README.md")


def readme_section(title: str) -> str:
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README.md has no section {title!r}"
    return match.group(1)


# Runs right after the README's example in the same ansible-playbook (facts are shared).
README_VERIFY = """
- name: What the README example did
  hosts: windows
  gather_facts: false
  tasks:
    - name: C:\\Tools\\register.exe (declared in the fixture's seed) ran with %SiteCode% expanded; the when-step ran last
      ansible.builtin.assert:
        that:
          - tsenv['RegisterOutput'] | trim == 'registered --site PS1'
          - tsenv['_SMSTSLastActionName'] == 'Only on the lab site'
          - tsenv['_SMSTSLastActionSucceeded'] == 'true'
"""


def run_readme_example(tmp_path, fleet, ansible_playbook: str) -> None:
    """The YAML block of the README's "Steps and modules", as written, against the simulated hosts."""
    (block,) = re.findall(r"```yaml\n(.*?)```", readme_section("Steps and modules"), re.S)
    (tmp_path / "readme_example.yml").write_text(block)
    (tmp_path / "verify.yml").write_text(README_VERIFY)
    proc = subprocess.run([ansible_playbook, "-i", fleet.inventory_path, "readme_example.yml", "verify.yml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
                          env=checkout_env(tmp_path))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    recap = proc.stdout.split("PLAY RECAP")[-1]
    assert all(re.search(rf"^{h}\s+: ok=\d+\s+changed=[1-9]", recap, re.M) for h in fleet.names), recap
