"""The simulated host, driven by real ansible-playbook over Ansible's winrm connection plugin."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from tests.winsim.fleet import Fleet
from tests.winsim.machine import TEST_PASSWORD

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)


def run_playbook(inventory, playbook, tmp_path, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with Fleet(2, tmp_path_factory.mktemp("fleet"), transport="both", reboot_seconds=2) as f:
        yield f


def test_ping_facts_and_commands_over_ntlm_and_https(fleet, tmp_path):
    proc = run_playbook(fleet.inventory_path, os.path.join(HERE, "playbooks", "basics.yml"), tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "win01" in proc.stdout and "win02" in proc.stdout
    assert {fleet.servers["win01"].scheme, fleet.servers["win02"].scheme} == {"http", "https"}


def test_win_command_costs(fleet, tmp_path):
    """WinRM HTTP requests one win_command task costs (NTLM-encrypted HTTP)."""
    fleet.reset_counters("win01")
    play = tmp_path / "cmd.yml"
    play.write_text(yaml.safe_dump([{"name": "One command", "hosts": "win01", "gather_facts": False, "tasks": [
        {"name": "Hostname", "ansible.windows.win_command": {"cmd": "hostname"}}]}]))
    proc = run_playbook(fleet.inventory_path, str(play), tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    c = fleet.counters("win01")
    # One shell, one command, its stdin, at least one receive, then signal and delete.
    assert c["http"]["by_action"]["Create"] == 1 and c["http"]["by_action"]["Command"] == 1
    assert c["http"]["by_action"]["Delete"] == 1
    assert c["host_side"]["modules"] == {"ansible.windows.win_command": 1}
    print(f"win_command task: {c['http']['requests']} HTTP requests, by action {c['http']['by_action']}")
    assert c["http"]["requests"] <= 12


def test_reboot_round_trip_keeps_state(fleet, tmp_path):
    boot_before = fleet.machine("win01").boot_id()
    time_before = fleet.machine("win01").boot_time()
    proc = run_playbook(fleet.inventory_path, os.path.join(HERE, "playbooks", "reboot.yml"), tmp_path, "--limit", "win01")
    assert proc.returncode == 0, proc.stdout[-4000:]
    m = fleet.machine("win01")
    assert m.boot_id() == boot_before + 1
    assert m.boot_time() > time_before
    assert "c:\\temp\\before-reboot.txt" in m.state_snapshot()["files"]
    assert fleet.counters("win01")["host_side"]["boots"] == 1


def test_wrong_password_is_refused(fleet, tmp_path):
    inv = yaml.safe_load(open(fleet.inventory_path))
    hosts = inv["all"]["children"]["windows"]["hosts"]
    for hv in hosts.values():
        hv["ansible_password"] = "not-the-" + TEST_PASSWORD
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(inv))
    before = fleet.counters("win01")["http"]["auth_failures"]
    play = tmp_path / "ping.yml"
    play.write_text(yaml.safe_dump([{"name": "Ping", "hosts": "all", "gather_facts": False,
                                     "tasks": [{"name": "Ping", "ansible.windows.win_ping": {}}]}]))
    proc = run_playbook(str(bad), str(play), tmp_path)
    assert proc.returncode != 0
    assert "unreachable=1" in proc.stdout
    assert "credentials were rejected" in proc.stdout
    assert fleet.counters("win01")["http"]["auth_failures"] > before


def test_win_updates_protocol_with_reboot(tmp_path):
    seed = {"updates": {"available": [
        {"id": "11111111-0000-0000-0000-000000000001", "title": "2026-11 Cumulative Update (KB5099001)",
         "kb": ["5099001"], "categories": ["Security Updates"], "mandatory": True, "reboot_required": True},
        {"id": "11111111-0000-0000-0000-000000000002", "title": "Feature pack (KB5099002)", "kb": ["5099002"],
         "categories": ["Feature Packs"]}], "installed": []}}
    with Fleet(1, tmp_path / "upd", reboot_seconds=1, seed=seed) as f:
        proc = run_playbook(f.inventory_path, os.path.join(HERE, "playbooks", "updates.yml"), tmp_path)
        assert proc.returncode == 0, proc.stdout[-4000:]
        state = f.machine("win01").state_snapshot()
        assert [u["id"][-1] for u in state["updates"]["installed"]] == ["1"]
        assert state["boot"]["boot_id"] == 2 and state["boot"]["pending_reboot"] is False
