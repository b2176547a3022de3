"""The task_sequence role against simulated Windows hosts: ConfigMgr's run rules, resume, check mode, logs."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import signal
import subprocess
import time

import pytest
import yaml

from tests.integration.conftest import BIN, ROOT, ansible_env

pytestmark = pytest.mark.integration

FAIL5 = {"command_line": "cmd.exe /c exit 5"}
CMTRACE = re.compile(r'^<!\[LOG\[(?P<msg>.*)\]LOG\]!><time="\d\d:\d\d:\d\d\.\d{3}[+-]\d{3}" date="\d\d-\d\d-\d{4}" '
                     r'component="[^"]{1,100}" context="" type="[123]" thread="\d+" file="[^"]*">$')


def mark(name: str, **extra) -> dict:
    """A controller-only step that records it ran."""
    return {"name": name, "module": "set_task_sequence_variable", "options": {"name": f"Ran{name}", "value": "yes"},
            **extra}


def run_cases(ansible, tmp_path, cases: dict, *args, extra_vars: dict | None = None, check=True, **kw):
    """Each case's definition through the role (a block each, so a failed sequence ends only its case);
    returns each case's checkpoint and the tsenv it ended with."""
    tasks = []
    for name, definition in cases.items():
        path = tmp_path / f"{name}.sequence.yml"
        path.write_text(yaml.safe_dump(definition, sort_keys=False))
        tasks.append({"name": f"Case {name}", "block": [
            {"name": f"Run {name}", "ansible.builtin.include_role": {"name": "tasksequence.windows.task_sequence"},
             "vars": {"task_sequence_definition_file": str(path), "task_sequence_resume": False,
                      "task_sequence_state_dir": str(tmp_path / "state" / name), **(extra_vars or {})}}],
            "always": [{"name": f"Keep tsenv of {name}", "ansible.builtin.copy": {
                "content": "{{ tsenv | default({}) | to_json }}", "dest": str(tmp_path / f"{name}.tsenv.json"),
                "mode": "0600"}, "delegate_to": "localhost", "check_mode": False}],
            "rescue": [{"name": f"Sequence {name} failed", "ansible.builtin.debug": {"msg": "failed as expected?"}}]})
    playbook = tmp_path / "cases.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Cases", "hosts": "win01", "gather_facts": False, "tasks": tasks}],
                                       sort_keys=False))
    proc = ansible.playbook(str(playbook), *args, check=check, **kw)
    out = {}
    for name in cases:
        state_file = tmp_path / "state" / name / "win01.json"
        state = json.loads(state_file.read_text()) if state_file.exists() else None
        tsenv_file = tmp_path / f"{name}.tsenv.json"
        out[name] = (state, json.loads(tsenv_file.read_text()) if tsenv_file.exists() else {})
    return proc, out


def statuses(state: dict, names: list[str]) -> dict:
    plan = json.load(open(state["plan_path"]))
    by_name = {s["name"]: (state["run"]["steps"].get(str(s["index"])) or {}).get("status", "not_run")
               for s in plan["steps"]}
    return {n: by_name[n] for n in names}


# ---------------------------------------------------------------------------------------------
# Nested groups x every continue-on-error combination. Outer { Inner { F (fails, rc 5), I2 }, O2 },
# then W (runs only when _SMSTSLastActionSucceeded is false: the gather-logs pattern), then T.
# Expected outcomes written from steps.md, not from the engine:
#  - a failing step with continue on error: its group goes on;
#  - otherwise it stops its group and fails it; a group with continue on error lets the sequence go
#    on with its next sibling; a failure that reaches the top ends the sequence.

def nested(f: bool, i: bool, o: bool) -> dict:
    return {"format_version": 1, "name": f"coe f={f} i={i} o={o}", "steps": [
        {"group": "Outer", "continue_on_error": o, "steps": [
            {"group": "Inner", "continue_on_error": i, "steps": [
                {"name": "F", "module": "run_command_line", "options": FAIL5, "continue_on_error": f},
                mark("I2")]},
            mark("O2")]},
        {"name": "W", "module": "set_task_sequence_variable",
         "options": {"name": "SeenRc", "value": "%_SMSTSLastActionRetCode%"},
         "conditions": {"variable": {"name": "_SMSTSLastActionSucceeded", "operator": "equals", "value": "false"}}},
        mark("T")]}


FC, OK, SK, NR, FA = "failed_continue", "succeeded", "skipped", "not_run", "failed"
EXPECTED = {
    # (f, i, o): F, I2, O2, W, T, sequence
    (True, None, None): (FC, OK, OK, SK, OK, "succeeded"),
    (False, True, None): (FC, SK, OK, SK, OK, "succeeded"),
    (False, False, True): (FC, SK, SK, OK, OK, "succeeded"),
    (False, False, False): (FA, NR, NR, NR, NR, "failed"),
}


def expected(f, i, o):
    for (ef, ei, eo), outcome in EXPECTED.items():
        if ef == f and ei in (None, i) and eo in (None, o):
            return outcome
    raise AssertionError("no documented outcome")


def test_continue_on_error_table(ansible, tmp_path):
    combos = list(itertools.product([True, False], repeat=3))
    cases = {f"c{int(f)}{int(i)}{int(o)}": nested(f, i, o) for f, i, o in combos}
    _proc, out = run_cases(ansible, tmp_path, cases)
    for (f, i, o), name in zip(combos, cases, strict=True):
        state, tsenv = out[name]
        want = expected(f, i, o)
        assert statuses(state, ["F", "I2", "O2", "W", "T"]) == dict(zip(["F", "I2", "O2", "W", "T"], want[:5], strict=True)), name
        assert state["status"] == want[5], name
        if want[3] == OK:   # the on-failure step saw the failure's return code
            assert tsenv["SeenRc"] == "5"
        if want[5] == "succeeded":
            assert tsenv["_SMSTSLastActionName"] == "T" and tsenv["_SMSTSLastActionSucceeded"] == "true"


def test_disabled_and_skipped_keep_last_action(ansible, tmp_path):
    definition = {"format_version": 1, "name": "builtins", "steps": [
        {"name": "Fails", "module": "run_command_line", "options": FAIL5, "continue_on_error": True},
        mark("Disabled", disabled=True),
        {"group": "Off", "disabled": True, "steps": [mark("InOff")]},
        mark("CondFalse", conditions={"variable": {"name": "Nope", "operator": "exists"}}),
        {"name": "Placeholder", "module": None, "options": {}, "disabled": True,
         "placeholder": {"reason": "applies an OS image (OS deployment)"}},
        {"name": "Check", "module": "set_task_sequence_variable",
         "options": {"name": "Last", "value": "%_SMSTSLastActionName%:%_SMSTSLastActionSucceeded%"}}]}
    _proc, out = run_cases(ansible, tmp_path, {"b": definition})
    state, tsenv = out["b"]
    assert tsenv["Last"] == "Fails:false"
    assert "RanDisabled" not in tsenv and "RanInOff" not in tsenv and "RanCondFalse" not in tsenv
    assert statuses(state, ["Disabled", "InOff", "CondFalse", "Placeholder", "Check"]) == {
        "Disabled": SK, "InOff": SK, "CondFalse": SK, "Placeholder": SK, "Check": OK}


def test_step_and_group_names_stay_text(ansible, tmp_path):
    """The role's step tasks are written from the definition's names (sequence_start, beside the
    plan): whatever a name holds, it is shown as it is and never templated, and YAML's own
    characters do not change what the task is."""
    marks = tmp_path / "marks"
    marks.mkdir()
    payload = "{{ lookup('pipe', 'touch " + str(marks) + "/PWNED') }}"
    names = [payload, "{% if true %}block{% endif %}", "5", "*", "- not a list", "a: b # c", "'quoted'", "x\ny"]
    definition = {"format_version": 1, "name": "names", "steps": [
        {"group": payload, "steps": [{**mark(f"Step{i}"), "name": n} for i, n in enumerate(names)]}]}
    proc, out = run_cases(ansible, tmp_path, {"n": definition})
    assert list(marks.iterdir()) == []
    _state, tsenv = out["n"]
    assert all(tsenv.get(f"RanStep{i}") == "yes" for i in range(len(names)))
    assert f"TASK [tasksequence.windows.task_sequence : {payload} / {payload[:1].upper()}{payload[1:]}]" in proc.stdout
    for n in names[1:-1]:
        assert f" / {n[:1].upper()}{n[1:]}]" in proc.stdout, n


def test_group_condition_once_action_variables_precedence_child(ansible, tmp_path):
    child = {"format_version": 1, "name": "Child", "variables": [{"name": "FromChild", "value": "from-child"}],
             "steps": [{"name": "In child", "module": "set_task_sequence_variable",
                        "options": {"name": "ChildSaw", "value": "%SetInParent%"}}]}
    (tmp_path / "child.yml").write_text(yaml.safe_dump(child))
    definition = {"format_version": 1, "name": "rules",
                  "variables": [{"name": "Layer", "value": "sequence"}, {"name": "OnlySeq", "value": "s"},
                                {"name": "Gate", "value": "1"}],
                  "steps": [
                      {"group": "Gated", "conditions": {"variable": {"name": "Gate", "operator": "equals", "value": "1"}},
                       "steps": [{"name": "Close gate", "module": "set_task_sequence_variable",
                                  "options": {"name": "Gate", "value": "0"}},
                                 mark("AfterGate")]},
                      {"name": "With action var", "module": "set_task_sequence_variable",
                       "options": {"name": "SawAction", "value": "%WorkingDirectory%|%Layer%"},
                       "action_variables": {"WorkingDirectory": "C:\\Step", "Layer": "action"}},
                      {"name": "After action var", "module": "set_task_sequence_variable",
                       "options": {"name": "AfterAction", "value": "%WorkingDirectory%|%Layer%"}},
                      {"name": "Set in parent", "module": "set_task_sequence_variable",
                       "options": {"name": "SetInParent", "value": "p"}},
                      {"name": "Run child", "module": None, "options": {}, "disabled": True,
                       "placeholder": {"reason": "runs another task sequence"},
                       "source": {"type": "SMS_TaskSequence_SubTasksequence"}},
                      {"name": "Device override", "module": "set_task_sequence_variable",
                       "options": {"name": "OnlyDevice", "value": "run"}}]}
    _proc, out = run_cases(ansible, tmp_path, {"r": definition}, extra_vars={
        "task_sequence_collection_variables": {"Layer": "collection", "OnlyCollection": "c"},
        "task_sequence_device_variables": {"Layer": "device", "OnlyDevice": "d"},
        "task_sequence_child_sequences": {"Run child": str(tmp_path / "child.yml")}})
    state, tsenv = out["r"]
    assert tsenv.get("RanAfterGate") == "yes"   # the group went on after its condition changed
    assert tsenv["Gate"] == "0"   # the group's condition was not evaluated again after it changed
    # steps.md: an action variable applies to one step unless set globally (the value set earlier wins).
    assert tsenv["SawAction"] == "C:\\Step|device"
    assert tsenv["AfterAction"] == "%WorkingDirectory%|device"   # removed after its step; Layer untouched
    assert (tsenv["Layer"], tsenv["OnlySeq"], tsenv["OnlyCollection"], tsenv["OnlyDevice"]) == ("device", "s", "c", "run")
    assert tsenv["ChildSaw"] == "p" and tsenv["FromChild"] == "from-child"   # one environment for both
    assert statuses(state, ["In child"]) == {"In child": OK}


def test_host_conditions_files_and_registry(ansible, fleet, tmp_path):
    if not getattr(fleet, "simulated", False):
        pytest.skip("uses the simulated host's seeded files")
    definition = {"format_version": 1, "name": "host", "steps": [
        mark("FileThere", conditions={"file": {"path": "C:\\Windows\\System32\\only64.exe"}}),
        mark("FileMissing", conditions={"file": {"path": "C:\\Nowhere\\x.exe"}}),
        mark("FolderThere", conditions={"folder": {"path": "C:\\Windows"}}),
        mark("FileIsNoFolder", conditions={"folder": {"path": "C:\\Windows\\System32\\only64.exe"}}),
        mark("KeyThere", conditions={"registry": {"key": "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control",
                                                  "operator": "exists"}}),
        mark("KeyMissing", conditions={"registry": {"key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\NoSuchVendor",
                                                    "operator": "exists"}}),
        mark("NoneOfMissing", conditions={"none": [{"file": {"path": "C:\\Nowhere\\x.exe"}}]})]}
    _proc, out = run_cases(ansible, tmp_path, {"h": definition})
    _state, tsenv = out["h"]
    ran = {k[3:] for k in tsenv if k.startswith("Ran")}
    assert ran == {"FileThere", "FolderThere", "KeyThere", "NoneOfMissing"}


def test_host_conditions_one_remote_execution_per_group(ansible, fleet, tmp_path):
    """Issue 12: every host condition a step needs (its groups' included) in ONE host_query execution,
    file versions too (CIM_DataFile; win_stat has none)."""
    if not getattr(fleet, "simulated", False):
        pytest.skip("counts the simulated host's executions")
    fleet.machine("win01").fs_write("C:\\Windows\\System32\\tsagent.dll", b"x", extra={"version": "2.1.0.0"})
    control = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control"
    gate = {"all": [
        {"file": {"path": "%SystemRoot%\\System32\\only64.exe"}},   # expanded on the host, as win_stat does
        {"file": {"path": "C:\\Windows\\System32\\tsagent.dll", "version": "2.1", "version_operator": "equals"}},
        {"file": {"path": "C:\\Windows\\System32\\tsagent.dll", "version": "3.0", "version_operator": "less"}},
        {"folder": {"path": "C:\\Windows", "date_time": "2000-01-01T00:00:00Z", "date_time_operator": "greater"}},
        {"registry": {"key": control, "operator": "exists"}},
        {"registry": {"key": control, "value": "PEFirmwareType", "type": "REG_DWORD", "operator": "exists"}},
        {"registry": {"key": control, "value": "PEFirmwareType", "type": "REG_SZ", "operator": "not_exists"}},
        {"os_version": {"architecture": "x64", "min_version": "6.1.0.0"}}]}
    definition = {"format_version": 1, "name": "batched", "steps": [
        {"group": "Gated", "conditions": gate, "steps": [
            mark("First", conditions={"none": [{"file": {"path": "C:\\Nowhere\\x.exe"}}]}),
            mark("Second")]},
        mark("Outside", conditions={"registry": {"key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\NoSuchVendor",
                                                 "operator": "not_exists"}}),
        mark("OldVersion", conditions={"file": {"path": "C:\\Windows\\System32\\tsagent.dll", "version": "2.2",
                                                "version_operator": "greater_equal"}})]}
    fleet.reset_counters("win01")
    # The host checkpoint's own executions are counted in test_role_host_checkpoint.py.
    _proc, out = run_cases(ansible, tmp_path, {"b": definition}, extra_vars={"task_sequence_host_checkpoint": "never"})
    host = fleet.counters("win01")["host_side"]
    _state, tsenv = out["b"]
    assert {k[3:] for k in tsenv if k.startswith("Ran")} == {"First", "Second", "Outside"}
    # Gated + First together, Second none, Outside one, OldVersion one: nothing else reaches the host.
    assert host["modules"] == {"ansible.windows.win_powershell": 3}, host
    print(f"\nremote executions for 4 steps (one group): {host['executions']}, modules {host['modules']}")


def test_check_mode_walks_everything_and_changes_nothing(ansible, fleet, tmp_path):
    if not getattr(fleet, "simulated", False):
        pytest.skip("compares the simulated host's state")
    definition = {"format_version": 1, "name": "dry", "steps": [
        {"name": "Write", "module": "run_command_line", "options": {"command_line": "cmd.exe /c echo x > C:\\dry.txt"}},
        mark("Skipped", conditions={"variable": {"name": "Nope", "operator": "exists"}}),
        mark("Runs")]}
    before = json.dumps(fleet.machine("win01").state_snapshot(), sort_keys=True)
    logs = tmp_path / "logs"
    proc, _out = run_cases(ansible, tmp_path, {"d": definition}, "--check",
                           env={"ANSIBLE_CALLBACKS_ENABLED": "tasksequence.windows.task_sequence_report",
                                "TASKSEQUENCE_WINDOWS_LOG_DIR": str(logs)})
    assert json.dumps(fleet.machine("win01").state_snapshot(), sort_keys=True) == before
    assert not (tmp_path / "state" / "d" / "win01.json").exists()   # a dry run marks nothing as done
    report = json.loads(next((logs / "runs").glob("*.json")).read_text())
    steps = {s["name"]: s for s in report["hosts"]["win01"]["steps"]}
    assert steps["Write"]["status"] == "succeeded" and "would run" in steps["Write"]["msg"]
    assert steps["Skipped"]["status"] == "skipped" and "Nope" in steps["Skipped"]["reason"]
    assert steps["Runs"]["status"] == "succeeded"


def test_resume_after_controller_kill(fleet, tmp_path):
    if not getattr(fleet, "simulated", False):
        pytest.skip("counts on the simulated host")
    steps = []
    for n in range(1, 9):
        # Each step appends to a file on the host (to count runs) and keeps its output as a variable.
        steps.append({"name": f"Step {n}", "module": "run_command_line",
                      "options": {"command_line": f"cmd.exe /c echo s{n} >> C:\\resume.txt & ping -n 2 127.0.0.1 & echo v{n}",
                                  "output_variable": f"Out{n}"}})
    definition = {"format_version": 1, "name": "resume", "variables": [{"name": "Token", "value": "t-secret-9x",
                                                                        "hidden": True}], "steps": steps}
    seq = tmp_path / "resume.yml"
    seq.write_text(yaml.safe_dump(definition))
    playbook = tmp_path / "resume_pb.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Resume", "hosts": "win01", "gather_facts": False, "tasks": [
        {"name": "Run", "ansible.builtin.include_role": {"name": "tasksequence.windows.task_sequence"},
         "vars": {"task_sequence_definition_file": str(seq), "task_sequence_state_dir": str(tmp_path / "state")}},
        {"name": "Keep tsenv", "ansible.builtin.copy": {"content": "{{ tsenv | to_json }}", "dest": str(tmp_path / "tsenv.json"),
                                                        "mode": "0600"}, "delegate_to": "localhost"}]}]))
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", fleet.inventory_path, str(playbook)]
    env = ansible_env(tmp_path)
    checkpoint = tmp_path / "state" / "win01.json"
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    finished_at_kill = set()
    while time.monotonic() < deadline:
        if checkpoint.exists():
            state = json.loads(checkpoint.read_text())
            done = {k for k, v in state["run"]["steps"].items() if v["status"] == "succeeded"}
            if len(done) >= 3:
                os.killpg(proc.pid, signal.SIGKILL)
                finished_at_kill = done
                break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert finished_at_kill and len(finished_at_kill) < 8, "the kill did not land mid-sequence"
    secret_state = checkpoint.read_text()
    assert "t-secret-9x" not in secret_state   # hidden values only as ciphertext
    rerun = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    files = fleet.machine("win01").state_snapshot()["files"]
    content = base64.b64decode(files["c:\\resume.txt"]["content_b64"]).decode()
    runs = [int(x) for x in re.findall(r"s(\d+)", content)]
    for index in finished_at_kill:
        assert runs.count(int(index) + 1) == 1, f"step {int(index) + 1} ran again: {runs}"
    assert sorted(set(runs)) == list(range(1, 9))
    tsenv = json.loads((tmp_path / "tsenv.json").read_text())
    assert all(tsenv[f"Out{n}"].strip().endswith(f"v{n}") for n in range(1, 9))   # no variable lost
    assert tsenv["Token"] == "********"
    assert "resuming" in rerun.stdout or "Resum" in rerun.stdout or "earlier run" in rerun.stdout


def test_cmtrace_log_and_html(ansible, tmp_path):
    secret = "Zq-" + os.urandom(5).hex()
    definition = {"format_version": 1, "name": "logged", "steps": [
        {"name": "Hidden", "module": "set_task_sequence_variable",
         "options": {"name": "Pw", "value": secret, "hidden": True}},
        {"name": "Echo", "module": "run_command_line", "options": {"command_line": "cmd.exe /c echo %Pw% done"}},
        {"name": "Fails", "module": "run_command_line", "options": FAIL5, "continue_on_error": True},
        mark("Gated", conditions={"variable": {"name": "_SMSTSLastActionSucceeded", "operator": "equals",
                                               "value": "false"}})]}
    logs = tmp_path / "logs"
    run_cases(ansible, tmp_path, {"l": definition},
              env={"ANSIBLE_CALLBACKS_ENABLED": "tasksequence.windows.task_sequence_report",
                   "TASKSEQUENCE_WINDOWS_LOG_DIR": str(logs)})
    text = (logs / "win01" / "smsts.log").read_text()
    lines = text.splitlines()
    assert lines and all(CMTRACE.match(line) for line in lines), [ln for ln in lines if not CMTRACE.match(ln)][:3]
    assert secret not in text
    messages = [CMTRACE.match(line).group("msg") for line in lines]
    assert any("Instruction name: Echo" in m for m in messages)
    assert any("exit code 5" in m for m in messages)
    assert any("evaluated to true" in m for m in messages)
    assert any(m.startswith("Set variable Pw = ********") for m in messages)
    assert 'type="3"' in text or 'type="2"' in text
    for path in (logs / "runs").iterdir():
        assert secret not in path.read_text()
    state = (tmp_path / "state" / "l" / "win01.json").read_text()
    assert secret not in state


def test_rerun_after_a_failure_goes_on_from_the_failed_step(ansible, fleet, tmp_path):
    """steps.md / issue 12: running the sequence again after a failure continues from the first
    unfinished step; the steps that ended are not repeated."""
    flag = "C:\\Temp\\resume-flag.txt"
    definition = {"format_version": 1, "name": "resume after failure", "steps": [
        mark("One"),
        {"name": "Two", "module": "run_command_line",
         "options": {"command_line": f"cmd.exe /c if exist {flag} (exit 0) else (exit 5)"}},
        mark("Three")]}
    path = tmp_path / "seq.yml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    state_dir = tmp_path / "state"
    playbook = tmp_path / "run.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Run", "hosts": "win01", "gather_facts": False, "tasks": [
        {"name": "Sequence", "ansible.builtin.include_role": {"name": "tasksequence.windows.task_sequence"},
         "vars": {"task_sequence_definition_file": str(path), "task_sequence_state_dir": str(state_dir)}}]}],
        sort_keys=False))
    first = ansible.playbook(str(playbook), check=False, limit="win01")
    assert first.returncode != 0
    state = json.loads((state_dir / "win01.json").read_text())
    assert state["status"] == "failed" and statuses(state, ["One", "Two", "Three"]) == {
        "One": "succeeded", "Two": "failed", "Three": "not_run"}
    ended_one = state["run"]["steps"]["0"]["ended"]
    if getattr(fleet, "simulated", False):
        fleet.machine("win01").fs_write(flag, b"ok")
    else:   # pragma: no cover - a real host: create the flag with a module
        ansible.playbook(_flag_playbook(tmp_path, flag), limit="win01")
    ansible.playbook(str(playbook), limit="win01")
    state = json.loads((state_dir / "win01.json").read_text())
    assert state["status"] == "succeeded"
    assert statuses(state, ["One", "Two", "Three"]) == {"One": "succeeded", "Two": "succeeded", "Three": "succeeded"}
    assert state["run"]["steps"]["0"]["ended"] == ended_one      # One was not run again
    assert state["resumes"] and state["resumes"][-1]["step"] == 1  # resumed at Two


def _flag_playbook(tmp_path, flag):
    path = tmp_path / "flag.yml"
    path.write_text(yaml.safe_dump([{"name": "Flag", "hosts": "win01", "gather_facts": False, "tasks": [
        {"name": "Create the flag", "ansible.windows.win_copy": {"content": "ok", "dest": flag}}]}]))
    return str(path)
