"""Restarts against simulated hosts: Restart Computer, the engine's restart rules, updates in
rounds, unexpected restarts, a slow restart and a host that never returns. Measures, from the
simulated host's clock, how soon the next step starts after the host is up again, and the
WinRM requests a restart costs."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import yaml

from tests.integration.conftest import Runner
from tests.winsim.fleet import Fleet

pytestmark = pytest.mark.integration

WU = "ansible.windows.win_updates"


def _update(n, **extra):
    return {"id": f"11111111-0000-4000-8000-{n:012d}", "title": f"2026-11 Update {n} (KB50{n:05d})",
            "kb": [f"50{n:05d}"], "categories": ["Security Updates"], "mandatory": True, "reboot_required": True, **extra}


SEED = {
    "files": {
        "C:\\Pkg\\needs_restart.exe": {"program": {"rc": 3010, "effects": [{"request_reboot": True}]}},
        "C:\\Pkg\\restarts_itself.exe": {"program": {"rc": 1641, "effects": [{"restart": 1}]}},
        "C:\\Pkg\\marker.exe": {"program": {"rc": 0, "stdout": "{args}",
                                            "effects": [{"write_file": {"path": "C:\\Temp\\marker.txt", "content": "{args}"}}]}},
    },
}
ROUNDS = {"updates": {"available": [_update(1), _update(2, requires=[_update(1)["id"]]),
                                    _update(3, requires=[_update(2)["id"]], reboot_required=False)], "installed": []}}
SLOW = {"updates": {"available": [_update(9, reboot_required=False, seconds=3)], "installed": []}}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # Simulator-only: these tests switch the simulated host's restarts and crashes.
    with Fleet(4, tmp_path_factory.mktemp("winsim-restarts"), reboot_seconds=2, seed=SEED,
               seeds={"win02": ROUNDS, "win03": SLOW}) as f:
        yield f


@pytest.fixture
def ansible(fleet, tmp_path):
    return Runner(fleet, tmp_path)


def _one(tmp_path, hosts, *tasks) -> str:
    path = tmp_path / "one.yml"
    path.write_text(yaml.safe_dump([{"name": "Restarts", "hosts": hosts, "gather_facts": False, "tasks": list(tasks)}]))
    return str(path)


def test_restart_computer_with_and_without_message(ansible, fleet):
    boots = fleet.machine("win01").boot_id()
    ansible.playbook("tests_restart_computer.yml")
    assert fleet.machine("win01").boot_id() == boots + 2


def test_3010_1641_and_retry_requested(ansible, fleet):
    machine = fleet.machine("win01")
    boots = machine.boot_id()
    ansible.playbook("tests_restart_semantics.yml")
    # 3010 before the next step, 1641 by the installer, one for SMSTSRetryRequested.
    assert machine.boot_id() == boots + 3
    assert machine.fs_exists("C:\\Temp\\retried.txt")


def _requests(fleet, name) -> int:
    return fleet.counters(name)["http"]["requests"]


def test_next_step_starts_soon_after_the_host_is_up_and_what_a_restart_costs(ansible, fleet, tmp_path, capsys):
    machine = fleet.machine("win01")
    plain = {"name": "Plain", "tasksequence.windows.run_command_line": {"command_line": "cmd.exe /c exit 0"}}
    asks = {"name": "Asks", "tasksequence.windows.run_command_line": {"command_line": "C:\\Pkg\\needs_restart.exe"}}
    marker = {"name": "Marker", "tasksequence.windows.run_command_line": {"command_line": "C:\\Pkg\\marker.exe m"},
              "register": "m"}
    fleet.reset_counters("win01")
    ansible.playbook(_one(tmp_path, "win01", plain, marker))
    baseline = fleet.counters("win01")["http"]
    fleet.reset_counters("win01")
    ansible.playbook(_one(tmp_path, "win01", asks, marker))
    with_restart = fleet.counters("win01")["http"]
    state = machine.state_snapshot()
    up = state["boot"]["boot_time"]            # the moment the host accepts connections again
    ran = state["files"]["c:\\temp\\marker.txt"]["mtime"]   # when the next step's program ran
    latency = ran - up
    cost = with_restart["requests"] - baseline["requests"]
    by_action = {k: with_restart["by_action"].get(k, 0) - baseline["by_action"].get(k, 0)
                 for k in with_restart["by_action"]}
    with capsys.disabled():
        print(f"\n[measure] host up -> next step's program ran: {latency:.2f} s; "
              f"WinRM requests for the restart: {cost} {by_action}; refused while down: "
              f"{with_restart['refused_while_down']}")
    # Within 2 s plus the test command (and the next step's own module start).
    assert 0 < latency < 3.0
    assert 0 < cost < 60


def test_a_restart_slower_than_the_connect_timeout(ansible, fleet, tmp_path):
    machine = fleet.machine("win01")
    machine.reboot_seconds = 12               # longer than the 5 s connect timeout of the polls
    fleet.faults("win01", hang_while_down=True)
    try:
        task = {"name": "Restart", "tasksequence.windows.restart_computer": {"notify_user": False}, "register": "r"}
        check = {"name": "Waited", "ansible.builtin.assert": {"that": ["r.restarted", "r.restarts[0].waited_seconds >= 10"]}}
        ansible.playbook(_one(tmp_path, "win01", task, check))
    finally:
        machine.reboot_seconds = 2
        fleet.faults("win01", hang_while_down=False)


def test_updates_in_three_rounds_then_a_rollback(ansible, fleet):
    machine = fleet.machine("win02")
    boots = machine.boot_id()
    ansible.playbook("tests_updates_rounds.yml")
    assert machine.boot_id() == boots + 2
    assert {u["id"] for u in machine.state_snapshot()["updates"]["installed"]} >= {_update(n)["id"] for n in (1, 2, 3)}
    with machine.lock:   # an update that the next restart undoes
        machine.state["updates"]["available"].append(_update(79999, rolls_back=True))
        machine.save()
    ansible.playbook("tests_updates_rollback.yml")


def _crash_during_updates(machine, times: int) -> threading.Thread:
    """Crash the host shortly after win_updates starts, ``times`` times, once per boot."""

    def watch():
        left, base = times, machine.counters_snapshot()["modules"].get(WU, 0)
        end = time.monotonic() + 120
        while left and time.monotonic() < end:
            count = machine.counters_snapshot()["modules"].get(WU, 0)
            if count > base and machine.is_up():
                time.sleep(0.5)               # inside the round's 3 s install
                machine.crash()
                left -= 1
                while not machine.is_up():
                    time.sleep(0.05)
                base = machine.counters_snapshot()["modules"].get(WU, 0)
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _result(proc) -> dict:
    return json.loads(re.search(r'"msg": "RESULT=(.*)"\n', proc.stdout).group(1).encode().decode("unicode_escape"))


@pytest.mark.parametrize("crashes,retries,completes", [(1, 2, True), (2, 2, True), (2, 1, False)])
def test_unexpected_restarts_during_updates(ansible, fleet, crashes, retries, completes):
    machine = fleet.machine("win03")
    with machine.lock:   # the same slow update offered again for each case
        machine.state["updates"]["available"] = [_update(9, reboot_required=False, seconds=3)]
        machine.state["updates"]["installed"] = []
        machine.save()
    boots = machine.boot_id()
    watcher = _crash_during_updates(machine, crashes)
    proc = ansible.playbook("tests_updates_unexpected.yml", "-e", f"retries={retries}")
    watcher.join(5)
    res = _result(proc)
    assert machine.boot_id() == boots + crashes
    kinds = [r["kind"] for r in res["restarts"]]
    assert kinds == ["unexpected"] * crashes
    if completes:
        assert not res.get("step_failed") and res["installed_update_count"] == 1
    else:
        assert res["step_failed"] and "retry_count (1) is used up" in res["msg"]


def test_a_host_that_never_returns_fails_alone(ansible, fleet, tmp_path):
    fleet.faults("win04", never_return=True)
    try:
        restart = {"name": "Restart", "tasksequence.windows.restart_computer": {"notify_user": False,
                                                                                "restart_timeout": 15}}
        after = {"name": "After", "tasksequence.windows.run_command_line": {"command_line": "cmd.exe /c echo on"}}
        started = time.monotonic()
        proc = ansible.playbook(_one(tmp_path, "win01,win04", restart, after), check=False)
        took = time.monotonic() - started
    finally:
        fleet.faults("win04", never_return=False)
    assert re.search(r"win04\s*: ok=0 .*unreachable=1", proc.stdout), proc.stdout[-3000:]
    assert re.search(r"win01\s*: ok=2 .*unreachable=0 .*failed=0", proc.stdout), proc.stdout[-3000:]
    assert "did not come back" in proc.stdout and "restart_timeout 15 s" in proc.stdout
    assert took < 90
