"""The engine's pure rules: plan, group failure propagation, host condition answers, WQL filter, checkpoint."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment


def step(name, **kw):
    return {"name": name, "module": "set_task_sequence_variable", "options": {"name": "X", "value": "1"}, **kw}


def test_plan_orders_steps_with_their_groups_and_inlines_children():
    child = {"format_version": 1, "name": "C", "steps": [step("c1")]}
    definition = {"format_version": 1, "name": "P", "steps": [
        {"group": "G", "steps": [step("a"), {"group": "H", "steps": [step("b")]}]},
        {"name": "Run C", "module": None, "options": {}, "disabled": True, "placeholder": {"reason": "child"},
         "source": {"type": "SMS_TaskSequence_SubTasksequence"}},
        step("z")]}
    p = _engine.plan(definition, {"Run C": child})
    assert [(s["name"], s["path"]) for s in p["steps"]] == [("a", ["G"]), ("b", ["G", "H"]), ("c1", ["Run C"]), ("z", [])]
    assert p["groups"][2]["disabled"] is False   # the placeholder's disabled flag is its own, not the child's


@pytest.mark.parametrize("coe,goes_on,failed", [
    ((False, False), False, ["Inner", "Outer"]),
    ((False, True), True, ["Inner", "Outer"]),
    ((True, False), True, ["Inner"]),
])
def test_failure_ends_groups_up_to_continue_on_error(coe, goes_on, failed):
    definition = {"format_version": 1, "name": "P", "steps": [
        {"group": "Outer", "continue_on_error": coe[1], "steps": [
            {"group": "Inner", "continue_on_error": coe[0], "steps": [step("f")]}]}]}
    p = _engine.plan(definition)
    run = _engine.Run()
    assert run.fail(p, p["steps"][0]) == (goes_on, failed)
    assert run.failed is (not goes_on)


def test_host_answers():
    env = TaskSequenceEnvironment({"Dir": "C:\\Tools"})
    reg = {"registry": {"key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso", "value": "Ver", "operator": "greater_equal",
                        "data": "10"}}
    osv = {"os_version": {"architecture": "x64", "min_version": "10.0.17763"}}
    lang = {"os_language": {"language": "1033"}}
    f = {"file": {"path": "%Dir%\\a.exe", "version": "2.0", "version_operator": "greater_equal"}}
    wmi = {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_ComputerSystem WHERE Model LIKE '%Virtual%'"}}
    queries, modules = _engine.host_queries([reg, osv, lang, f, wmi], env, None)
    by_kind = {q["kind"] + q.get("class", ""): q for q in queries}
    assert by_kind["registry"]["path"] == "HKLM:\\SOFTWARE\\Contoso"
    assert by_kind["cimWin32_ComputerSystem"]["properties"] == ["Model"]
    assert modules[0]["args"]["path"] == "C:\\Tools\\a.exe"
    answers = {_engine.leaf_key(reg): {"rows": [{"value": 12}], "error": None},
               "os": {"rows": [{"Version": "10.0.22631", "OSArchitecture": "64-bit", "ProductType": 1,
                                "OSLanguage": 1033}], "error": None},
               _engine.leaf_key(wmi): {"rows": [{"Model": "Virtual Machine"}], "error": None}}
    stats = {_engine.leaf_key(f): {"stat": {"exists": True, "isdir": False, "file_version": "2.1.0.0"}}}
    assert _engine.host_leaf_value(reg, answers, stats, None) is True   # 12 >= 10 as numbers
    assert _engine.host_leaf_value(osv, answers, stats, None) is True
    assert _engine.host_leaf_value(lang, answers, stats, None) is True
    assert _engine.host_leaf_value(f, answers, stats, None) is True
    assert _engine.host_leaf_value(wmi, answers, stats, None) is True
    answers[_engine.leaf_key(wmi)] = {"rows": [{"Model": "OptiPlex"}], "error": None}
    assert _engine.host_leaf_value(wmi, answers, stats, None) is False
    answers[_engine.leaf_key(wmi)] = {"rows": [], "error": "Invalid namespace"}
    assert isinstance(_engine.host_leaf_value(wmi, answers, stats, None), _engine.HostError)


@pytest.mark.parametrize("where,row,expected", [
    ("Model = 'X' AND NOT (Vendor = 'Y')", {"Model": "x", "Vendor": "Z"}, True),
    ("Memory >= 4096 OR Name IS NULL", {"Memory": "2048", "Name": None}, True),
    ("Memory >= 4096 OR Name IS NOT NULL", {"Memory": "2048", "Name": None}, False),
    ("Name LIKE 'Dell%'", {"Name": "Dell Inc."}, True),
])
def test_wql_where(where, row, expected):
    assert _engine._wql_where(where, row) is expected


def test_evaluate_group_none_any_all_with_variables():
    env = TaskSequenceEnvironment({"A": "5", "B": "text"})
    node = {"all": [{"any": [{"variable": {"name": "a", "operator": "greater", "value": "10"}},
                             {"variable": {"name": "B", "operator": "like", "value": "t%"}}]},
                    {"none": [{"variable": {"name": "C", "operator": "exists"}}]}]}
    trace: list = []
    assert _engine.evaluate(node, env, {}, trace) is True
    assert any("variable a greater '10': false" in t for t in trace)


def test_checkpoint_is_atomic_and_private(tmp_path):
    sf = _engine.StateFile(str(tmp_path / "s"), "win/01")
    sf.save({"run": {"steps": {"0": {"status": "succeeded"}}}})
    assert oct(os.stat(sf.path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(sf.directory).st_mode & 0o777) == "0o700"
    assert json.loads(open(sf.path).read())["format"] == _engine.STATE_FORMAT
    assert _engine.Run(sf.load()["run"]).first_unfinished(3) == 1
    assert os.path.basename(sf.path) == "win_01.json"
