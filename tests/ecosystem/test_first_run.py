"""What a new user meets first: the README's example, the demo, the simulated hosts' command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.ecosystem.helpers import BIN, ROOT, readme_section, run_readme_example


def available_steps() -> set[str]:
    rows = re.findall(r"^\|[^|]+\|\s*`(tasksequence\.windows\.\w+)`\s*\|\s*available\s*\|", readme_section("Steps and modules"),
                      re.M)
    assert len(rows) >= 5
    return set(rows)


@pytest.mark.slow
@pytest.mark.integration
def test_readme_example_runs_as_written(tmp_path, fleet):
    run_readme_example(tmp_path, fleet, os.path.join(BIN, "ansible-playbook"))


def test_demo_shows_every_available_step():
    with open(os.path.join(ROOT, "playbooks", "demo.yml")) as fh:
        (play,) = yaml.safe_load(fh)
    used = {key for task in play["tasks"] for key in task if key.startswith("tasksequence.windows.")}
    assert available_steps() <= used
    shows = [t for t in play["tasks"] if "ansible.builtin.debug" in t]
    assert any("checks" in json.dumps(t) and "_TS_CR" in json.dumps(t) for t in shows), "Check Readiness results not shown"


def winsim(*args, cwd, wrapper=False) -> subprocess.CompletedProcess:
    cmd = [os.path.join(ROOT, "scripts", "winsim")] if wrapper else [sys.executable, "-m", "tests.winsim"]
    cmd += args
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command", ["serve", "stop", "counters", "faults"])
def test_winsim_help_explains_every_option(command):
    proc = winsim(command, "--help", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(("options:", "arguments:")))
    unexplained = []
    for i, line in enumerate(lines[start:], start):
        m = re.match(r"^  (-{0,2}[\w-]+(?: [A-Z_{}, a-z]+?)?)(?:\s{2,}(\S.*))?$", line)
        if m and not line.startswith("   ") and not m.group(2):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if not re.match(r"^\s{10,}\S", nxt):
                unexplained.append(m.group(1))
    assert not unexplained, proc.stdout


def test_winsim_wrapper_runs_from_another_folder(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")   # a project of the user's own with a tests package
    assert winsim("serve", "--help", cwd=tmp_path).returncode != 0   # why the wrapper exists
    proc = winsim("serve", "--help", cwd=tmp_path, wrapper=True)
    assert proc.returncode == 0 and "--state-dir" in proc.stdout, proc.stderr


def test_winsim_without_the_venv_says_how_to_run_it():
    # -S: no site-packages, as with a system Python that lacks the venv's packages.
    proc = subprocess.run([sys.executable, "-S", "-m", "tests.winsim", "serve", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "scripts/bootstrap.sh" in proc.stderr and "scripts/winsim" in proc.stderr
    assert "Traceback" not in proc.stderr
