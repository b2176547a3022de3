"""The emulated modules through real ansible-playbook, its action plugins and the winrm connection plugin."""

from __future__ import annotations

import os

import pytest

from tests.winsim.fleet import Fleet
from tests.winsim.testkit import run_playbook

HERE = os.path.dirname(os.path.abspath(__file__))

pytestmark = pytest.mark.slow

SEED = {
    "web": {"https://files.contoso.example/agent.msi": {
        "content": "agent-msi", "msi": {"product_code": "{E2E2E2E2-0000-4000-8000-000000000001}",
                                        "name": "Contoso Agent", "version": "3.1"}}},
    "shares": {"\\\\fs01\\content": {"username": "svc-content", "password": "Share-Test-Pass!"}},
}


def test_emulated_modules_through_ansible(tmp_path):
    with Fleet(2, tmp_path / "fleet", transport="both", reboot_seconds=1, seed=SEED) as fleet:
        proc = run_playbook(fleet.inventory_path, os.path.join(HERE, "playbooks", "modules.yml"), tmp_path,
                            "-e", f"fetch_dir={tmp_path / 'fetched'}")
        assert proc.returncode == 0, proc.stdout[-6000:]
        assert "failed=0" in proc.stdout
        counters = fleet.counters("win01")["host_side"]
        assert counters["modules"]["ansible.windows.win_copy"] >= 3   # query, explode, query
        assert counters["raw"] >= 2   # put_file (the zip) and fetch_file at least
        state = fleet.machine("win02").state_snapshot()
        assert "{E2E2E2E2-0000-4000-8000-000000000001}" in state["products"]
        assert "Share-Test-Pass!" not in str(state["mapped_drives"])


def test_update_loop_is_detected_by_the_action_plugin(tmp_path):
    seed = {"updates": {"available": [{"id": "0f0f0f0f-0000-4000-8000-000000000009", "title": "Bad driver (KB5070009)",
                                       "kb": ["5070009"], "categories": ["Critical Updates"], "reboot_required": True,
                                       "rolls_back": True}], "installed": []}}
    with Fleet(1, tmp_path / "fleet", reboot_seconds=1, seed=seed) as fleet:
        proc = run_playbook(fleet.inventory_path, os.path.join(HERE, "playbooks", "update_loop.yml"), tmp_path)
        assert proc.returncode == 0, proc.stdout[-6000:]
        assert fleet.machine("win01").boot_id() == 2
