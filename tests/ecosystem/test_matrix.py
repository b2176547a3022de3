"""The compatibility matrix beyond the main venv: ansible-core 2.20 on Python 3.12 (scripts/core_venv.sh).

The whole suite runs on ansible-core 2.19 / Python 3.11 (.venv); here the demo and the README's
example run with the second controller, against the same simulated hosts.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.ecosystem.helpers import ROOT, checkout_env, run_readme_example

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CORE_220 = os.path.join(ROOT, ".cache", "core-2.20", "bin", "ansible-playbook")


@pytest.fixture(scope="module")
def core_220() -> str:
    if not os.path.exists(CORE_220):
        if os.environ.get("CI"):
            pytest.fail("no ansible-core 2.20 venv: scripts/test.sh runs scripts/core_venv.sh before pytest")
        pytest.skip("no ansible-core 2.20 venv: run scripts/core_venv.sh")
    version = subprocess.run([CORE_220, "--version"], capture_output=True, text=True, check=True).stdout
    assert "core 2.20." in version
    return CORE_220


def test_readme_example_on_ansible_core_220(tmp_path, fleet, core_220):
    run_readme_example(tmp_path, fleet, core_220)


def test_demo_on_ansible_core_220(tmp_path, fleet, core_220):
    proc = subprocess.run([core_220, "-i", fleet.inventory_path, os.path.join(ROOT, "playbooks", "demo.yml"),
                           "-e", "demo_hosts=all"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False, env=checkout_env(tmp_path))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.stdout.count("PowerShell step for site LAB") == len(fleet.names)
