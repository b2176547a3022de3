"""Each shipped PowerShell script is really executed: replacing its body with a throw must fail
the playbooks that use it (against the simulated host, which runs the script's real text)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration
SCRIPTS = os.path.join(ROOT, "plugins", "plugin_utils", "powershell")
# script -> a playbook whose assertions need it
USERS = {"host_query.ps1": "tests_dynamic_and_readiness.yml", "run_script.ps1": "tests_host_truth.yml"}


def mutated_collection(tmp_path, script: str) -> str:
    """A copy of the collection whose script keeps its comment header and only throws."""
    dest = tmp_path / "mutant" / "ansible_collections" / "tasksequence" / "windows"
    for part in ("plugins", "meta"):
        shutil.copytree(os.path.join(ROOT, part), dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(ROOT, "galaxy.yml"), dest / "galaxy.yml")
    path = dest / "plugins" / "plugin_utils" / "powershell" / script
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[:next(i for i, line in enumerate(lines) if not line.startswith("#"))]
    path.write_text("\n".join([*header, "throw 'mutated'", ""]), encoding="utf-8")
    return str(tmp_path / "mutant")


def test_every_shipped_script_has_a_user_here():
    assert sorted(f for f in os.listdir(SCRIPTS) if f.endswith(".ps1")) == sorted(USERS)


@pytest.mark.parametrize("script", sorted(USERS))
def test_a_script_that_throws_fails_its_playbook(ansible, fleet, tmp_path, script):
    if not getattr(fleet, "simulated", False):
        pytest.skip("simulator-only: a mutated collection is not run against real hosts")
    mutant = mutated_collection(tmp_path, script)
    paths = os.pathsep.join([mutant, os.path.join(ROOT, ".cache", "collections")])
    proc = ansible.playbook(USERS[script], check=False, limit="win01", env={"ANSIBLE_COLLECTIONS_PATH": paths})
    assert proc.returncode != 0, f"{script} replaced by a throw, yet {USERS[script]} passed"
    assert "mutated" in proc.stdout
    # The unmutated collection passes the same playbook (so the failure is the mutation's).
    ansible.playbook(USERS[script], limit="win01")
