"""One semantics: the SAME condition cases through the sequence engine (host_query.ps1's answers, its
real text executed on a simulated host) and through the playbook writer's generated `when:`
(evaluated by Ansible's Templar over what ansible.windows.win_stat / win_reg_stat return on that
same host, and the facts ansible.windows' setup gives). Both must agree, case by case."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import playbook_text
from tests.unit.plugins.plugin_utils.importer_support import walk_tasks
from tests.winsim.machine import Machine
from tests.winsim.testkit import run_module

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCRIPT = os.path.join(ROOT, "plugins", "plugin_utils", "powershell", "host_query.ps1")
TSENV = {"Model": "Latitude 7440", "Count": "10", "Empty": ""}
AGENT = "C:\\Tools\\agent.exe"
# The PowerShell form; ConfigMgr's HKEY_LOCAL_MACHINE\... form is converted by both (see the test below).
KEY = "HKLM:\\SOFTWARE\\Contoso"


def var(name, op, value=None):
    return {"variable": {"name": name, "operator": op, **({} if value is None else {"value": value})}}


def reg(op, value=None, data=None, key=KEY, type_=None):
    leaf = {"key": key, "operator": op}
    leaf.update({k: v for k, v in (("value", value), ("data", data), ("type", type_)) if v is not None})
    return {"registry": leaf}


# (condition, what ConfigMgr's rules say) - the expected values are written from sequence-format.md.
CASES = [
    (var("Count", "equals", "10.0"), True),            # numbers as numbers
    (var("Count", "less", "9"), False),
    (var("Model", "like", "lat%"), True),
    (var("Model", "not_like", "opti%"), True),
    (var("Missing", "not_like", "x%"), False),          # a missing variable is not like anything, nor unlike
    (var("Missing", "not_equals", "x"), False),
    (var("Missing", "not_exists"), True),
    (var("Model", "greater", "k"), True),               # text without case
    ({"os_version": {"product_type": "client"}}, True),
    ({"os_version": {"product_type": "server"}}, False),
    ({"os_version": {"architecture": "x64", "min_version": "10.0", "max_version": "10.0.99999.9999"}}, True),
    ({"os_version": {"min_version": "10.0.19045.0"}}, True),
    ({"os_version": {"max_version": "6.3.9999.9999"}}, False),
    ({"os_version": {"architecture": "x86"}}, False),
    ({"file": {"path": AGENT}}, True),
    ({"file": {"path": "C:\\Tools\\nope.exe"}}, False),
    ({"folder": {"path": "C:\\Tools"}}, True),
    ({"folder": {"path": AGENT}}, False),
    ({"file": {"path": AGENT, "date_time": "2023-06-01T00:00:00Z", "date_time_operator": "greater"}}, True),
    ({"file": {"path": AGENT, "date_time": "2024-01-01T00:00:00Z", "date_time_operator": "equals"}}, True),
    ({"file": {"path": AGENT, "date_time": "2024-01-01T00:00:00Z", "date_time_operator": "less"}}, False),
    ({"folder": {"path": "C:\\Tools", "date_time": "2030-01-01T00:00:00Z", "date_time_operator": "less"}}, True),
    (reg("exists"), True),
    (reg("exists", key="HKLM:\\SOFTWARE\\NoSuchVendor"), False),
    (reg("not_exists", key="HKLM:\\SOFTWARE\\NoSuchVendor"), True),
    (reg("exists", "Ring", type_="REG_DWORD"), True),
    (reg("exists", "Ring", type_="REG_SZ"), False),     # the type counts for exists
    (reg("not_exists", "Ring", type_="REG_SZ"), True),
    (reg("exists", "Site"), True),
    (reg("exists", "Nope"), False),
    (reg("greater_equal", "Ring", "2"), True),
    (reg("less", "Ring", "10"), True),                  # 2 < 10 as numbers
    (reg("equals", "Site", "berlin"), True),
    (reg("equals", "Nope", "x"), False),
    ({"all": [var("Model", "exists"), {"none": [{"file": {"path": "C:\\Tools\\nope.exe"}}]}]}, True),
    ({"any": []}, False),
]


def _machine(tmp_path) -> Machine:
    machine = Machine("win01", tmp_path / "host", seed={
        "os": {"version": "10.0.19045", "product_type": "workstation", "architecture": "64-bit"},
        "files": {AGENT: {"content": "x", "version": "2.1.0.0"}},
        "registry": {"HKLM:\\SOFTWARE\\Contoso": {"Ring": 2, "Site": {"type": "REG_SZ", "data": "Berlin"}}}})
    machine.state["files"]["c:\\tools\\agent.exe"]["mtime"] = 1704067200.25   # 2024-01-01T00:00:00.25Z
    return machine


def _engine_results(machine, cases=None) -> list[bool]:
    cases = CASES if cases is None else cases
    env = TaskSequenceEnvironment(TSENV)
    leaves = [leaf for node, _expected in cases for leaf in _engine.host_leaves(node)]
    queries = _engine.host_queries(leaves, env, None)
    with open(SCRIPT, encoding="utf-8") as f:
        out = run_module(machine, "win_powershell", {"script": f.read(), "parameters": {"Queries": queries},
                                                     "depth": 5})[0]
    assert out.get("error") == [], out
    (answers,) = out["output"]
    host = {_engine.leaf_key(leaf): _engine.host_leaf_value(leaf, answers, None) for leaf in leaves}
    return [_engine.evaluate(node, env, host, []) for node, _expected in cases]


def _playbook_results(machine, tmp_path, cases=None) -> list[bool]:
    cases = CASES if cases is None else cases
    steps = [{"name": f"Case {i}", "module": "set_task_sequence_variable", "options": {"name": "X", "value": "1"},
              "conditions": node} for i, (node, _expected) in enumerate(cases)]
    text = playbook_text({"format_version": 1, "name": "agree", "steps": steps})
    tasks = yaml.safe_load(text.replace("!unsafe", ""))[0]["tasks"]
    registered = {}
    for task in walk_tasks(tasks):   # each host check, answered by the module on the same simulated host
        if str(task.get("register", "")).startswith("ts_check_"):
            (module,) = [k for k in task if k.startswith("ansible.windows.")]
            registered[task["register"]] = run_module(machine, module.rsplit(".", 1)[1], task[module])[0]
    os_ = machine.state["os"]
    # What ansible.windows' setup reports: [Environment]::OSVersion (four parts) and OSArchitecture.
    facts = {"architecture": os_["architecture"], "distribution_version": os_["version"] + ".0",
             "os_product_type": os_["product_type"]}
    path = tmp_path / "agree.yml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "tests.unit.plugins.plugin_utils.importer_support", "whens", str(path),
                           json.dumps({"tsenv": TSENV, "registered": registered, "facts": facts})],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    whens = json.loads(proc.stdout.splitlines()[-1])
    return [whens[f"Case {i}"] for i in range(len(cases))]


@pytest.mark.slow
def test_engine_and_generated_playbook_agree_case_by_case(tmp_path):
    machine = _machine(tmp_path)
    engine = _engine_results(machine)
    playbook = _playbook_results(machine, tmp_path)
    table = [(json.dumps(node), expected, e, p) for (node, expected), e, p in zip(CASES, engine, playbook, strict=True)]
    assert [row for row in table if not (row[1] is row[2] is row[3])] == []


@pytest.mark.slow
def test_configmgr_registry_key_form_agrees(tmp_path):
    machine = _machine(tmp_path)
    cases = [(reg("exists", key="HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso"), True)]
    assert _engine_results(machine, cases) == [True]
    assert _playbook_results(machine, tmp_path, cases) == [True]
