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
    queries = _engine.host_queries([reg, osv, lang, f, wmi], env, None)
    by_kind = {q["kind"] + q.get("class", ""): q for q in queries}
    assert by_kind["registry"]["path"] == "HKLM:\\SOFTWARE\\Contoso"
    assert by_kind["cimWin32_ComputerSystem"]["properties"] == ["Model"]
    assert by_kind["path"]["path"] == "C:\\Tools\\a.exe"
    # win_stat has no file version: CIM_DataFile by its name, a WQL string (backslashes doubled).
    assert by_kind["cimCIM_DataFile"]["filter"] == "Name='C:\\\\Tools\\\\a.exe'"
    answers = {_engine.leaf_key(reg): {"rows": [{"value": 12}], "error": None},
               "os": {"rows": [{"Version": "10.0.22631", "OSArchitecture": "64-bit", "ProductType": 1,
                                "OSLanguage": 1033}], "error": None},
               _engine.leaf_key(wmi): {"rows": [{"Model": "Virtual Machine"}], "error": None},
               _engine.leaf_key(f): {"rows": [{"folder": False, "time": 133485408000000000}], "error": None},
               _engine.leaf_key(f) + "_version": {"rows": [{"Name": "c:\\tools\\a.exe", "Version": "2.1.0.0"}],
                                                  "error": None}}
    assert _engine.host_leaf_value(reg, answers, None) is True   # 12 >= 10 as numbers
    assert _engine.host_leaf_value(osv, answers, None) is True
    assert _engine.host_leaf_value(lang, answers, None) is True
    assert _engine.host_leaf_value(f, answers, None) is True
    assert _engine.host_leaf_value(wmi, answers, None) is True
    answers[_engine.leaf_key(f) + "_version"]["rows"][0]["Version"] = None   # a file without a version resource
    assert _engine.host_leaf_value(f, answers, None) is False
    answers[_engine.leaf_key(wmi)] = {"rows": [{"Model": "OptiPlex"}], "error": None}
    assert _engine.host_leaf_value(wmi, answers, None) is False
    answers[_engine.leaf_key(wmi)] = {"rows": [], "error": "Invalid namespace"}
    assert isinstance(_engine.host_leaf_value(wmi, answers, None), _engine.HostError)


def test_all_host_conditions_are_one_batch_of_queries():
    leaves = [{"file": {"path": "C:\\a.exe", "date_time": "2024-01-01T00:00:00Z", "date_time_operator": "less"}},
              {"folder": {"path": "C:\\Data"}},
              {"registry": {"key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso", "operator": "exists"}},
              {"registry": {"key": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso", "value": "V", "type": "REG_SZ",
                            "operator": "exists"}},
              {"os_version": {"product_type": "server"}}]
    queries = _engine.host_queries(leaves, TaskSequenceEnvironment(), None)
    assert sorted(q["kind"] for q in queries) == ["cim", "key", "path", "path", "registry"]
    assert next(q for q in queries if q["kind"] == "registry")["type"] is True


@pytest.mark.parametrize("path,literal", [
    ("C:\\Tools\\a.exe", "'C:\\\\Tools\\\\a.exe'"),
    ("C:\\O'Neil\\x.dll", "'C:\\\\O\\'Neil\\\\x.dll'"),
])
def test_wql_string_escapes_backslash_and_quote(path, literal):
    assert _engine.wql_string(path) == literal


def test_not_like_on_a_missing_variable_is_false():
    env = TaskSequenceEnvironment({"Model": "Latitude"})
    node = {"variable": {"name": "Missing", "operator": "not_like", "value": "x%"}}
    assert _engine.evaluate(node, env, {}, []) is False
    assert _engine.evaluate({"variable": {"name": "Model", "operator": "not_like", "value": "Opti%"}}, env, {}, [])


OS_ANSWER = {"rows": [{"Version": "6.1.7601", "OSArchitecture": "64-bit", "ProductType": 1, "OSLanguage": 1033}],
             "error": None}


@pytest.mark.parametrize("condition,product_type,expected", [
    ({"product_type": "client"}, 1, True),
    ({"product_type": "client"}, 3, False),
    ({"product_type": "server"}, 2, True),
    ({"product_type": "server"}, 3, True),
    ({"product_type": "server"}, 1, False),
    ({"min_version": "6.1", "max_version": "6.1.9999.9999"}, 1, True),
    ({"min_version": "6.10.0000.0", "max_version": "6.10.9999.9999"}, 1, True),   # ConfigMgr's padded keys
    ({"min_version": "6.1.7601.0"}, 1, True),
    ({"max_version": "6.1"}, 1, False),
    ({"architecture": "X64"}, 1, True),
    ({"architecture": "x86"}, 1, False),
])
def test_os_conditions_use_the_comparison_module(condition, product_type, expected):
    answers = {"os": {**OS_ANSWER, "rows": [{**OS_ANSWER["rows"][0], "ProductType": product_type}]}}
    assert _engine.host_leaf_value({"os_version": condition}, answers, None) is expected


def test_os_version_six_one_equals_six_one_zero_zero():
    answers = {"os": {**OS_ANSWER, "rows": [{**OS_ANSWER["rows"][0], "Version": "6.1"}]}}
    both = {"os_version": {"min_version": "6.1.0.0", "max_version": "6.1.0.0"}}
    assert _engine.host_leaf_value(both, answers, None) is True


@pytest.mark.parametrize("wanted,found,operator,expected", [
    ("REG_SZ", "String", "exists", True),
    ("REG_DWORD", "String", "exists", False),
    ("reg_dword", "DWord", "exists", True),
    ("REG_DWORD", "String", "not_exists", True),
    ("REG_EXPAND_SZ", "ExpandString", "not_exists", False),
])
def test_registry_type_counts_for_exists(wanted, found, operator, expected):
    node = {"registry": {"key": "HKLM\\SOFTWARE\\C", "value": "V", "type": wanted, "operator": operator}}
    answers = {_engine.leaf_key(node): {"rows": [{"value": "1", "type": found}], "error": None}}
    assert _engine.host_leaf_value(node, answers, None) is expected
    # ...and only for exists: a data comparison does not ask for the type.
    compare = {"registry": {**node["registry"], "operator": "equals", "data": "1"}}
    (query,) = _engine.host_queries([compare], TaskSequenceEnvironment(), None)
    assert "type" not in query
    answers = {_engine.leaf_key(compare): {"rows": [{"value": "1"}], "error": None}}
    assert _engine.host_leaf_value(compare, answers, None) is True


def test_file_version_of_a_path_with_a_host_environment_variable_is_an_error():
    node = {"file": {"path": "%SystemRoot%\\x.dll", "version": "1.0"}}
    (query,) = _engine.host_queries([node], TaskSequenceEnvironment(), None)
    assert query["kind"] == "path"   # the host expands it for existence; CIM_DataFile needs the full name
    answers = {_engine.leaf_key(node): {"rows": [{"folder": False, "time": 0}], "error": None}}
    assert "environment variable" in _engine.host_leaf_value(node, answers, None)


def test_file_and_folder_times_and_kinds():
    time_2024 = 1704067200 * 10_000_000 + _engine.FILETIME_EPOCH
    f = {"file": {"path": "C:\\a", "date_time": "2024-01-01T00:00:00Z", "date_time_operator": "equals"}}
    d = {"folder": {"path": "C:\\a"}}
    row = {"rows": [{"folder": False, "time": time_2024 + 4_000_000}], "error": None}   # 0.4 s later: same second
    assert _engine.host_leaf_value(f, {_engine.leaf_key(f): row}, None) is True
    assert _engine.host_leaf_value(d, {_engine.leaf_key(d): row}, None) is False
    assert _engine.host_leaf_value(f, {_engine.leaf_key(f): {"rows": [], "error": None}}, None) is False


def test_child_sequences_by_package_id_then_by_name():
    child = {"format_version": 1, "name": "C", "steps": [step("c1")]}
    other = {"format_version": 1, "name": "O", "steps": [step("o1")]}
    imported = {"name": "Run C", "module": None, "options": {}, "disabled": True, "placeholder": {"reason": "child"},
                "child_sequence": {"package_id": "PS100013", "name": "C"},
                "source": {"type": "SMS_TaskSequence_SubTasksequence"}}
    hand = {"name": "Run O", "module": None, "options": {}, "disabled": True, "placeholder": {"reason": "child"},
            "source": {"type": "SMS_TaskSequence_SubTasksequence"}}
    definition = {"format_version": 1, "name": "P", "steps": [imported, hand]}
    p = _engine.plan(definition, {"ps100013": child, "Run O": other})
    assert [s["name"] for s in p["steps"]] == ["c1", "o1"]
    # An imported placeholder is not found by its step name: two steps may share a name, IDs are unique.
    p = _engine.plan(definition, {"Run C": child})
    assert [s["name"] for s in p["steps"]] == ["Run C", "Run O"]


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


def test_packed_guid_is_windows_installers_layout():
    # Windows Installer names UpgradeCodes subkeys by the packed GUID: the first three groups
    # reversed, then every byte of the last two with its two hex digits swapped.
    assert _engine.packed_guid("{F5B09CFD-F0B2-36AF-8DF4-1DF6B63FC7B4}") == "DFC90B5F2B0FFA63D84FD16F6BF37C4B"
    with pytest.raises(_engine.EngineError, match="is not a GUID"):
        _engine.packed_guid("{not-a-guid}")


def test_any_version_of_software_is_its_upgrade_code_key():
    leaf = {"software": {"match": "any_version", "upgrade_code": "{F5B09CFD-F0B2-36AF-8DF4-1DF6B63FC7B4}",
                         "product_code": "{11111111-2222-3333-4444-555555555555}"}}
    env = TaskSequenceEnvironment({})
    (query,) = _engine.host_queries([leaf], env, None)
    assert query["kind"] == "key"
    assert query["path"] == "HKLM:\\SOFTWARE\\Classes\\Installer\\UpgradeCodes\\DFC90B5F2B0FFA63D84FD16F6BF37C4B"
    key = _engine.leaf_key(leaf)
    assert _engine.host_leaf_value(leaf, {key: {"rows": [{}], "error": None}}, None) is True
    assert _engine.host_leaf_value(leaf, {key: {"rows": [], "error": None}}, None) is False


def test_negative_dword_compares_unsigned_as_windows_shows_it():
    leaf = {"registry": {"key": "HKLM:\\SOFTWARE\\Contoso", "value": "Mask", "operator": "equals",
                         "data": "4294967295"}}
    key = _engine.leaf_key(leaf)
    # Get-ItemProperty gives 0xFFFFFFFF as -1; win_reg_stat and regedit give 4294967295.
    assert _engine.host_leaf_value(leaf, {key: {"rows": [{"value": -1}], "error": None}}, None) is True


@pytest.mark.parametrize("value, kind", [(["a"], "list"), ({"a": 1}, "dict")])
def test_a_variable_value_that_is_not_text_is_named_by_its_yaml_kind(value, kind):
    from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceVariableError

    with pytest.raises(TaskSequenceVariableError) as err:
        TaskSequenceEnvironment().set("OSDTimeZone", value, field="task_sequence_device_variables")
    assert str(err.value).startswith("task_sequence_device_variables: the value of 'OSDTimeZone' must be a string "
                                     f"(got a {kind});")


def test_a_wmi_condition_without_where_names_no_property():
    # Only whether instances exist matters; a system property such as __PATH is not asked for.
    leaf = {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_BIOS"}}
    (query,) = _engine.host_queries([leaf], TaskSequenceEnvironment(), None)
    assert (query["class"], query["properties"]) == ("Win32_BIOS", [])
    answers = {query["name"]: {"rows": [{}], "error": None}}
    assert _engine.host_leaf_value(leaf, answers, None) is True
    assert _engine.host_leaf_value(leaf, {query["name"]: {"rows": [], "error": None}}, None) is False


def test_a_plan_is_stored_by_what_it_holds(tmp_path):
    # One definition with two different child sequences: two plans, each with its own step tasks
    # (a plan stored by the definition's id alone would be reused for the other children).
    parent = {"format_version": 1, "name": "P", "steps": [
        {"name": "Run C", "module": None, "options": {}, "disabled": True, "placeholder": {"reason": "child"},
         "source": {"type": "SMS_TaskSequence_SubTasksequence"}}]}
    one = _engine.plan(parent, {"Run C": {"format_version": 1, "name": "C", "steps": [step("c1")]}})
    two = _engine.plan(parent, {"Run C": {"format_version": 1, "name": "C", "steps": [step("c1"), step("c2")]}})
    assert one["id"] == two["id"]
    first, second = _engine.save_plan(str(tmp_path), one), _engine.save_plan(str(tmp_path), two)
    assert first != second and _engine.save_plan(str(tmp_path), one) == first
    assert [s["name"] for s in _engine.load_plan(second[0])["steps"]] == ["c1", "c2"]
    with open(second[1], encoding="utf-8") as f:
        assert f.read().count("tasksequence.windows.sequence_step:") == 2
