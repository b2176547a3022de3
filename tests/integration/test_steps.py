"""The five steps, run by ansible-playbook against simulated hosts (NTLM-encrypted HTTP and HTTPS)."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.integration

PLAYBOOKS = ["tests_sequence.yml", "tests_run_command_line.yml", "tests_run_powershell_script.yml",
             "tests_dynamic_and_readiness.yml", "tests_host_truth.yml"]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_assertions_pass(ansible, playbook):
    proc = ansible.playbook(playbook)
    assert "failed=0" in proc.stdout and "unreachable=0" in proc.stdout


def _one_task_playbook(tmp_path, task: dict, gather: bool = False) -> str:
    import yaml

    path = tmp_path / "one.yml"
    path.write_text(yaml.safe_dump([{"name": "One step", "hosts": "win01", "gather_facts": gather, "tasks": [task]}]))
    return str(path)


@pytest.mark.parametrize("task,modules", [
    ({"name": "Echo", "tasksequence.windows.run_command_line": {"command_line": "cmd.exe /c echo hi"}},
     {"ansible.windows.win_command": 1}),
    ({"name": "Script", "tasksequence.windows.run_powershell_script": {"script": "Write-Output 'hi'"}},
     {"ansible.windows.win_command": 1}),
    ({"name": "Ready", "tasksequence.windows.check_readiness": {"memory_mb": 1}},
     {"ansible.windows.win_powershell": 1}),
    ({"name": "Var", "tasksequence.windows.set_task_sequence_variable": {"name": "A", "value": "1"}}, {}),
])
def test_remote_executions_per_step(ansible, fleet, tmp_path, task, modules):
    fleet.reset_counters("win01")
    ansible.playbook(_one_task_playbook(tmp_path, task))
    counters = fleet.counters("win01")
    assert counters["host_side"]["modules"] == modules
    assert counters["host_side"]["executions"] == sum(modules.values())
    if not modules:
        assert counters["http"]["requests"] == 0   # not even a connection


def test_inventory_once_per_boot(ansible, fleet, tmp_path):
    fleet.reset_counters("win01")
    ansible.playbook("tests_dynamic_and_readiness.yml", limit="win01")
    # Four steps use the inventory; the host is asked once (one host_query through win_powershell).
    assert fleet.counters("win01")["host_side"]["modules"].get("ansible.windows.win_powershell") == 1


def test_check_mode_changes_nothing_on_the_host(ansible, fleet, tmp_path):
    fleet.reset_counters("win01")
    before = fleet.machine("win01").state_snapshot()
    task = {"name": "Would write", "tasksequence.windows.run_command_line":
            {"command_line": "cmd.exe /c echo x > C:\\Temp\\check.txt"}, "register": "r"}
    ansible.playbook(_one_task_playbook(tmp_path, task), "--check")
    after = fleet.machine("win01").state_snapshot()
    assert "c:\\temp\\check.txt" not in after["files"]
    assert before["files"] == after["files"]
    assert fleet.counters("win01")["host_side"]["executions"] == 0
    ansible.playbook(_one_task_playbook(tmp_path, task))
    assert "c:\\temp\\check.txt" in fleet.machine("win01").state_snapshot()["files"]


def test_hidden_values_never_in_verbose_output(ansible, fleet, tmp_path):
    secret = "Zq7-hidden-" + os.urandom(6).hex()
    log = tmp_path / "ansible.log"
    cache = tmp_path / "facts"
    tree = tmp_path / "tree"
    proc = ansible.playbook("tests_hidden_values.yml", "-vvvv",
                            env={"ANSIBLE_CALLBACK_TREE_DIR": str(tree), "TS_TEST_SECRET": secret, "ANSIBLE_LOG_PATH": str(log),
                                 "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
                                 "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache),
                                 "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree"})
    assert "failed=0" in proc.stdout
    assert "JoinPassword" in proc.stdout          # the run really shows variables at -vvvv
    deploy = json.dumps("Deploy-Test-Passw0rd!")[1:-1]
    places = {"stdout": proc.stdout, "stderr": proc.stderr, "log": log.read_text()}
    for folder in (cache, tree):
        assert folder.is_dir() and any(folder.iterdir()), f"{folder} was not written"
        places.update({str(p): p.read_text() for p in folder.rglob("*") if p.is_file()})
    found = {where: text.count(secret) + text.count(deploy) for where, text in places.items()}
    assert sum(found.values()) == 0, f"secrets found: { {k: v for k, v in found.items() if v} }"
    if getattr(fleet, "simulated", False):
        # The host needs the value only inside the processes that used it: nothing of it is kept.
        for name in ("win01", "win02"):
            assert secret not in json.dumps(fleet.machine(name).state_snapshot())


def test_bad_option_fails_before_the_host(ansible, fleet, tmp_path):
    fleet.reset_counters("win01")
    task = {"name": "Bad", "tasksequence.windows.run_command_line": {"command_line": "x", "timeout": 0}}
    proc = ansible.playbook(_one_task_playbook(tmp_path, task), check=False)
    assert proc.returncode != 0 and "timeout: 0 is out of range" in proc.stdout
    assert fleet.counters("win01")["host_side"]["executions"] == 0
