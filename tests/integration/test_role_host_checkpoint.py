"""The task_sequence role's checkpoint on the (simulated) host: a new controller resumes from it.

Issue 12 part 2: progress is checkpointed on the controller and on the host, hidden values never
in clear. These tests delete the controller's journal between two runs (another controller, an
AWX job on another node) and prove the rerun continues from the host's copy; and they count the
remote executions the host checkpoint costs (docs/engine.md).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from tests.integration.conftest import BIN, ROOT, ansible_env

pytestmark = pytest.mark.integration

SECRET = "t-secret-h0st"
FOLDER = "c:\\programdata\\tasksequence"


def simulated(fleet) -> None:
    if not getattr(fleet, "simulated", False):
        pytest.skip("simulator-only: reads the simulated host's files and counters")


def host_checkpoint(fleet, plan_id: str) -> dict | None:
    """The checkpoint file on the simulated host, as its clear header (and the raw text)."""
    files = fleet.machine("win01").state_snapshot()["files"]
    rec = files.get(f"{FOLDER}\\{plan_id}\\state.json")
    if not rec:
        return None
    text = base64.b64decode(rec["content_b64"]).decode("utf-8")
    return {**json.loads(text), "_text": text}


def plan_ids(fleet) -> set[str]:
    files = fleet.machine("win01").state_snapshot()["files"]
    return {k.split("\\")[3] for k in files if k.startswith(FOLDER + "\\") and k.endswith("\\state.json")}


def write_playbook(tmp_path, definition: dict, state_dir, mode: str, tag: str):
    seq = tmp_path / f"{tag}.sequence.yml"
    seq.write_text(yaml.safe_dump(definition))
    playbook = tmp_path / f"{tag}.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Run", "hosts": "win01", "gather_facts": False, "tasks": [
        {"name": "Run the sequence", "ansible.builtin.include_role": {"name": "tasksequence.windows.task_sequence"},
         "vars": {"task_sequence_definition_file": str(seq), "task_sequence_state_dir": str(state_dir),
                  "task_sequence_host_checkpoint": mode}},
        {"name": "Keep tsenv", "ansible.builtin.copy": {"content": "{{ tsenv | to_json }}",
                                                        "dest": str(tmp_path / f"{tag}.tsenv.json"), "mode": "0600"},
         "delegate_to": "localhost"}]}]))
    return [os.path.join(BIN, "ansible-playbook"), "-i", None, str(playbook)]


def test_new_controller_resumes_from_the_host_checkpoint(fleet, tmp_path):
    """Kill the controller mid-sequence, delete its journal (and plans), run again: the rerun
    continues from the host's checkpoint, repeats no step the host checkpoint has as finished,
    loses no variable, and the host's file holds no hidden value (nor any other value) in clear."""
    simulated(fleet)
    steps = [{"name": "Set early", "module": "set_task_sequence_variable",
              "options": {"name": "Early", "value": "e1-%Token%"}}]
    for n in range(1, 7):
        # Each step appends to a file on the host (to count runs) and keeps its output as a variable.
        steps.append({"name": f"Step {n}", "module": "run_command_line",
                      "options": {"command_line": f"cmd.exe /c echo s{n} >> C:\\hostresume.txt & ping -n 2 127.0.0.1"
                                                  f" >nul & echo v{n}", "output_variable": f"Out{n}"}})
    steps.append({"name": "Use early", "module": "set_task_sequence_variable",
                  "options": {"name": "Late", "value": "%Out1%|%Plain%"}})
    definition = {"format_version": 1, "name": "host resume",
                  "variables": [{"name": "Token", "value": SECRET, "hidden": True},
                                {"name": "Plain", "value": "plain-v4lue"}],
                  "steps": steps}
    state_dir = tmp_path / "state"
    cmd = write_playbook(tmp_path, definition, state_dir, "every_step", "hr")
    cmd[2] = fleet.inventory_path
    env = ansible_env(tmp_path)
    before = plan_ids(fleet)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    at_kill = None
    while time.monotonic() < deadline and proc.poll() is None:
        new = plan_ids(fleet) - before
        header = host_checkpoint(fleet, next(iter(new))) if new else None
        if header and header["steps_ended"] >= 3:   # Set early, Step 1, Step 2 done on the host
            os.killpg(proc.pid, signal.SIGKILL)
            at_kill = header
            break
        time.sleep(0.05)
    out = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert at_kill and at_kill["status"] == "running", f"the kill did not land mid-sequence:\n{out[-4000:]}"
    plan_id = at_kill["plan_id"]

    # Nothing of the variables in clear on the host: the state is sealed whole with the controller's key.
    text = at_kill["_text"]
    assert SECRET not in text and "plain-v4lue" not in text and "e1-" not in text
    assert set(json.loads(text)) == {"format", "plan_id", "run_id", "seq", "status", "updated", "steps_ended", "sealed"}

    # Another controller: no journal, no plans.
    shutil.rmtree(state_dir)
    rerun = subprocess.run([*cmd, "-v"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    assert "from the checkpoint on the host" in rerun.stdout, rerun.stdout[-4000:]
    assert "ended in an earlier run" in rerun.stdout

    files = fleet.machine("win01").state_snapshot()["files"]
    runs = [int(x) for x in re.findall(r"s(\d+)", base64.b64decode(files["c:\\hostresume.txt"]["content_b64"]).decode())]
    finished = at_kill["steps_ended"] - 1   # command steps the host checkpoint had as ended (Set early first)
    for n in range(1, finished + 1):
        assert runs.count(n) == 1, f"step {n} ran again: {runs}"
    assert sorted(set(runs)) == list(range(1, 7)), runs

    tsenv = json.loads((tmp_path / "hr.tsenv.json").read_text())
    assert all(tsenv[f"Out{n}"].strip().endswith(f"v{n}") for n in range(1, 7))   # no variable lost
    assert tsenv["Late"].startswith(tsenv["Out1"]) and tsenv["Late"].endswith("|plain-v4lue")
    assert tsenv["Token"] == "********" and tsenv["Early"] == "********"   # still hidden (it carries Token)

    journal = json.loads((state_dir / "win01.json").read_text())
    assert journal["status"] == "succeeded" and journal["resumes"]
    assert SECRET not in (state_dir / "win01.json").read_text()
    final = host_checkpoint(fleet, plan_id)
    assert final["status"] == "succeeded" and SECRET not in final["_text"]


def run_counting(fleet, tmp_path, definition, mode, *args):
    state_dir = tmp_path / f"state-{mode}"
    cmd = write_playbook(tmp_path, definition, state_dir, mode, f"count-{mode}")
    cmd[2] = fleet.inventory_path
    fleet.reset_counters("win01")
    proc = subprocess.run([*cmd, *args], cwd=ROOT, env=ansible_env(tmp_path), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return fleet.counters("win01")["host_side"]


# Through ansible.windows modules: one slurp when the role starts; the folder once per run (win_file);
# each write is win_copy's own action (a query, the transfer, the copy: two module executions).
# boundaries writes after B (leaves G1), after D (leaves G3 and G2: one write) and after E (last step);
# every_step after each of the five steps; never: nothing.
@pytest.mark.parametrize(("mode", "writes"), [("boundaries", 3), ("every_step", 5), ("never", 0)])
def test_host_checkpoint_remote_executions(fleet, tmp_path, mode, writes):
    simulated(fleet)
    mark = [{"name": n, "module": "set_task_sequence_variable", "options": {"name": f"Ran{n}", "value": "y"}}
            for n in "ABCDE"]   # controller-only steps: every remote execution is the checkpoint's
    definition = {"format_version": 1, "name": f"count {mode}", "steps": [
        {"group": "G1", "steps": mark[0:2]},
        {"group": "G2", "steps": [mark[2], {"group": "G3", "steps": [mark[3]]}]},
        mark[4]]}
    host = run_counting(fleet, tmp_path, definition, mode)
    expected = {"ansible.windows.slurp": 1, "ansible.windows.win_file": 1, "ansible.windows.win_copy": 2 * writes}
    assert host["modules"] == (expected if writes else {}), host
    # Besides the modules, win_copy's transfer takes raw commands (remote temp folder, put_file, clean-up).
    assert host["executions"] == sum(host["modules"].values()) + host["raw"]
    print(f"\nhost checkpoint {mode}: {sum(host['modules'].values())} module executions and {host['raw']} raw "
          "commands for 5 steps in 3 groups")


def test_check_mode_neither_reads_nor_writes_the_host_checkpoint(fleet, tmp_path):
    simulated(fleet)
    definition = {"format_version": 1, "name": "count dry", "steps": [
        {"group": "G", "steps": [{"name": "A", "module": "set_task_sequence_variable",
                                  "options": {"name": "RanA", "value": "y"}}]}]}
    before = json.dumps(fleet.machine("win01").state_snapshot(), sort_keys=True)
    host = run_counting(fleet, tmp_path, definition, "every_step", "--check")
    assert host["executions"] == 0, host
    assert json.dumps(fleet.machine("win01").state_snapshot(), sort_keys=True) == before
