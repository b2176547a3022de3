"""Importer fidelity: one semantics for conditions, OS conditions, MDT step settings and restarts,
disabled items, child sequences, and the per-file counts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _conditions
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    definition_yaml,
    import_sequence,
    import_sequences,
    playbook_text,
    summary_row,
)
from ansible_collections.tasksequence.windows.plugins.test.tsvar import tsvar
from tests.unit.plugins.plugin_utils.importer_support import console_zip, expr, step, var, walk_tasks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
CORPUS = os.environ.get("TASKSEQUENCE_CORPUS") or os.path.abspath(os.path.join(ROOT, "..", "shared", "corpus"))
OPS = list(_conditions.COMPARISONS)

# (left, right, order): how ConfigMgr orders them. Numbers compare as numbers, other text without case.
ORDERED = [
    ("10", "9", 1),            # as numbers (as text "10" < "9")
    ("01", "1", 0),
    ("1.50", "1.5", 0),
    ("-3", "2", -1),
    ("abc", "ABC", 0),
    ("abc", "abd", -1),
    ("Server", "client", 1),
    ("x", "10", 1),            # one side is no number: text
    ("", "0", -1),
]
MEANING = {"equals": lambda o: o == 0, "not_equals": lambda o: o != 0, "less": lambda o: o < 0,
           "less_equal": lambda o: o <= 0, "greater": lambda o: o > 0, "greater_equal": lambda o: o >= 0}
TABLE = [(left, right, op, MEANING[op](order)) for left, right, order in ORDERED for op in OPS]
LIKE = [("Dell Inc.", "dell%", True), ("Dell Inc.", "dell*", True), ("HP", "H_", True), ("HPE", "H?", False),
        ("a.b", "a_b", True), ("a+b", "a+b", True), ("ab", "a", False)]


@pytest.mark.parametrize("left,right,op,expected", TABLE)
def test_one_comparison_table_for_variables_registry_data_and_tsvar(left, right, op, expected):
    assert _conditions.compare_text(left, right, op) is expected
    env = TaskSequenceEnvironment({"V": left} if left else {})
    if left:   # an empty value deletes the variable: then no comparison holds
        assert _conditions.variable_condition(env, "v", op, right) is expected
        assert tsvar({"V": left}, "v", op, right) is expected
    else:
        assert _conditions.variable_condition(env, "v", op, right) is False


@pytest.mark.parametrize("value,pattern,expected", LIKE)
def test_like_and_not_like(value, pattern, expected):
    env = TaskSequenceEnvironment({"Make": value})
    assert _conditions.variable_leaf(env, {"name": "make", "operator": "like", "value": pattern}) is expected
    assert _conditions.variable_leaf(env, {"name": "make", "operator": "not_like", "value": pattern}) is (not expected)
    # A variable that does not exist is neither like nor not like anything (as not_equals).
    assert _conditions.variable_leaf(env, {"name": "other", "operator": "not_like", "value": pattern}) is False


@pytest.mark.parametrize("left,right,order", [
    ("10.0.19045", "6.1.7601", 1), ("6.1", "6.1.0.0", 0), ("1.10.0.0", "1.9.0.0", 1), ("2.0", "10.0", -1),
    ("5.00.8913.1005", "5.0.8913.1005", 0)])
def test_versions_compare_part_by_part(left, right, order):
    for op in OPS:
        assert _conditions.compare_versions(left, right, op) is MEANING[op](order)


@pytest.mark.parametrize("padded,usual", [("6.10.0000.0", "6.1.0.0"), ("6.30.9999.9999", "6.3.9999.9999"),
                                          ("10.00.0000.0", "10.0.0.0"), ("6.00.6000.0", "6.0.6000.0"),
                                          ("10.0.19041", "10.0.19041")])
def test_configmgr_platform_versions_in_the_form_the_host_reports(padded, usual):
    assert _conditions.platform_version(padded) == usual
    # Windows 7 SP1 (6.1.7601) is inside ConfigMgr's 6.10.0000.0 - 6.10.9999.9999 platform.
    if padded.startswith("6.10"):
        assert _conditions.compare_versions("6.1.7601", _conditions.platform_version(padded), "greater_equal")


@pytest.mark.parametrize("text,arch", [("X86", "x86"), ("x64", "x64"), ("AMD64", "x64"), ("64-bit", "x64"),
                                       ("Arm64", "arm64"), ("sparc", None)])
def test_architectures_in_any_case(text, arch):
    assert _conditions.normalize_architecture(text) == arch


def test_times_and_product_types():
    for op in OPS:
        assert _conditions.compare_times(1704067200, 1704067199.5, op) is MEANING[op](1)
    assert _conditions.product_type_matches("client", 1) and not _conditions.product_type_matches("client", 3)
    assert _conditions.product_type_matches("server", "domain_controller")
    assert _conditions.product_type_matches("server", 3) and not _conditions.product_type_matches("server", "workstation")


def _whens(tmp_path, definition, tsenv, registered=None, facts=None) -> dict:
    path = tmp_path / "play.yml"
    path.write_text(playbook_text(definition))
    proc = subprocess.run([sys.executable, "-m", "tests.unit.plugins.plugin_utils.importer_support", "whens", str(path),
                           json.dumps({"tsenv": tsenv, "registered": registered or {}, "facts": facts or {}})],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def _mark(name: str, conditions: dict) -> dict:
    return {"name": name, "module": "set_task_sequence_variable", "options": {"name": "X", "value": "1"},
            "conditions": conditions}


@pytest.mark.slow
def test_playbook_conditions_mean_what_the_comparison_table_says(tmp_path):
    """The generated playbook's `when:` (variables, registry data), evaluated by Ansible, agree with the table."""
    steps, registered = [], {}
    for i, (_left, right, op, _expected) in enumerate(TABLE):
        steps.append(_mark(f"Var {i}", {"variable": {"name": f"V{i}", "operator": op, "value": right}}))
        steps.append(_mark(f"Reg {i}", {"registry": {"key": "HKLM\\SOFTWARE\\C", "value": f"R{i}", "operator": op,
                                                     "data": right}}))
    for i, (_value, pattern, _expected) in enumerate(LIKE):
        steps.append(_mark(f"Like {i}", {"variable": {"name": f"L{i}", "operator": "like", "value": pattern}}))
        steps.append(_mark(f"NotLike {i}", {"variable": {"name": f"L{i}", "operator": "not_like", "value": pattern}}))
    steps.append(_mark("NotLike missing", {"variable": {"name": "Missing", "operator": "not_like", "value": "x"}}))
    steps.append(_mark("Empty any", {"any": []}))
    definition = {"format_version": 1, "name": "semantics", "steps": steps}
    play = yaml.safe_load(playbook_text(definition).replace("!unsafe", ""))
    tasks = play[0]["tasks"]
    for n, task in enumerate(tasks):   # each registry check's result: the data as win_reg_stat returns it
        if task.get("register", "").startswith("ts_check_"):
            i = int(re.search(r"\d+", tasks[n + 1]["name"]).group(0))
            registered[task["register"]] = {"exists": True, "value": TABLE[i][0]}
    tsenv = {f"V{i}": left for i, (left, *_rest) in enumerate(TABLE) if left}
    tsenv.update({f"L{i}": value for i, (value, *_rest) in enumerate(LIKE)})
    whens = _whens(tmp_path, definition, tsenv, registered)
    for i, (left, right, op, expected) in enumerate(TABLE):
        assert whens[f"Reg {i}"] is expected, (left, op, right)
        assert whens[f"Var {i}"] is (expected if left else False), (left, op, right)
    for i, (value, pattern, expected) in enumerate(LIKE):
        assert (whens[f"Like {i}"], whens[f"NotLike {i}"]) == (expected, not expected), (value, pattern)
    assert whens["NotLike missing"] is False and whens["Empty any"] is False


OS_GROUP = """<osConditionGroup type="or">
  <osExpressionGroup name="All x64 Windows 7 Client">
    <expression type="SMS_TaskSequence_WMIConditionExpression"><variable name="Namespace">root\\cimv2</variable>
      <variable name="Query">SELECT * FROM Win32_OperatingSystem WHERE ProductType=1</variable></expression>
    <platformKey arch="X64" type="Windows" minVer="6.10.0000.0" maxVer="6.10.9999.9999"/>
  </osExpressionGroup>
  <osExpressionGroup name="All x86 Windows Server 2012 R2">
    <expression type="SMS_TaskSequence_WMIConditionExpression"><variable name="Namespace">root\\cimv2</variable>
      <variable name="Query">SELECT * FROM Win32_OperatingSystem WHERE ProductType&gt;1</variable></expression>
    <platformKey arch="X86" type="Windows" minVer="6.30.0000.0" maxVer="6.30.9999.9999"/>
  </osExpressionGroup>
</osConditionGroup>"""


def test_os_condition_group_keeps_its_queries_and_normalises_versions_and_architecture():
    xml = '<sequence version="3.10">' + step("SetVariableAction", "Os", var("VariableName", "A") + var("VariableValue", "1"),
                                             condition=OS_GROUP) + "</sequence>"
    d = import_sequence(xml, "os.xml")
    client, server = d["steps"][0]["conditions"]["any"]
    assert client["all"][0] == {"os_version": {"architecture": "x64", "min_version": "6.1.0.0",
                                               "max_version": "6.1.9999.9999", "platform": "Windows",
                                               "product_type": "client"}}
    assert client["all"][1]["wmi"]["query"].endswith("ProductType=1")   # the query itself stays
    assert server["all"][0]["os_version"]["architecture"] == "x86"
    assert server["all"][0]["os_version"]["product_type"] == "server"
    assert d["import_summary"]["conditions"] == {"translated": 4, "dropped": 0}


@pytest.mark.slow
def test_os_conditions_in_the_playbook_tell_client_from_server(tmp_path):
    os_client = {"os_version": {"architecture": "x64", "min_version": "6.1.0.0", "max_version": "6.1.9999.9999",
                                "product_type": "client"}}
    os_server = {"os_version": {"architecture": "x64", "min_version": "6.1.0.0", "product_type": "server"}}
    definition = {"format_version": 1, "name": "os", "steps": [_mark("Client", os_client), _mark("Server", os_server)]}
    win7 = {"architecture": "64-bit", "distribution_version": "6.1.7601.65536", "os_product_type": "workstation"}
    assert _whens(tmp_path, definition, {}, facts=win7) == {"Client": True, "Server": False}
    win10_server = {**win7, "distribution_version": "10.0.17763.0", "os_product_type": "server"}
    assert _whens(tmp_path, definition, {}, facts=win10_server) == {"Client": False, "Server": True}


def test_file_version_conditions_are_read_by_the_engine_in_the_playbook():
    d = {"format_version": 1, "name": "v", "steps": [_mark("Versioned", {"file": {
        "path": "C:\\Tools\\agent.exe", "version": "1.2.3.4", "version_operator": "greater_equal"}})]}
    tasks = list(walk_tasks(yaml.safe_load(playbook_text(d).replace("!unsafe", ""))[0]["tasks"]))
    assert "file_version" not in playbook_text(d)   # win_stat has none: never compared against a default
    check = next(t for t in tasks if "tasksequence.windows.evaluate_conditions" in t)
    leaf = check["tasksequence.windows.evaluate_conditions"]["conditions"]["file"]
    assert leaf == {"path": "C:\\Tools\\agent.exe", "version": "1.2.3.4", "version_operator": "greater_equal"}
    step = tasks[-1]
    assert check["register"] in step["when"] and tasks.index(check) < tasks.index(step)


MDT = """<sequence version="3.00" name="Client" description="">
  <group name="Install" disable="false">
    <condition><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Variable">PHASE</variable>
      <variable name="Operator">equals</variable><variable name="Value">INSTALL</variable></expression></condition>
    <step type="SMS_TaskSequence_RebootAction" name="Restart in Install" runIn="WinPEandFullOS">
      <defaultVarList><variable name="Message" property="Message"></variable>
        <variable name="MessageTimeout" property="MessageTimeout">60</variable>
        <variable name="Target" property="Target"></variable></defaultVarList>
      <action>smsboot.exe /target:WinPE</action></step>
  </group>
  <group name="State Restore" disable="false">
    <condition><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Variable">PHASE</variable>
      <variable name="Operator">equals</variable><variable name="Value">STATERESTORE</variable></expression></condition>
    <step type="BDD_InstallRoles" name="Install Roles" disable="false" continueOnError="false">
      <defaultVarList><variable name="OSRoles" property="OSRoles"></variable>
        <variable name="OSFeatures" property="OSFeatures">NetFx3,RSAT</variable>
        <variable name="SafeModeAdminPassword" property="SafeModeAdminPassword">P@ss-not-copied</variable></defaultVarList>
      <action>cscript.exe "%SCRIPTROOT%\\ZTIOSRole.wsf"</action></step>
    <step type="SMS_TaskSequence_RebootAction" name="Restart in State Restore" runIn="WinPEandFullOS">
      <defaultVarList><variable name="MessageTimeout" property="MessageTimeout">60</variable></defaultVarList>
      <action>smsboot.exe /target:WinPE</action></step>
    <group name="Capture Image">
      <step name="Apply Windows PE"><action>cscript.exe "%SCRIPTROOT%\\LTIApply.wsf" /PE /STAGE</action></step>
      <step type="SMS_TaskSequence_RebootAction" name="Restart to capture" runIn="WinPEandFullOS">
        <action>smsboot.exe /target:WinPE</action></step>
    </group>
  </group>
</sequence>"""


def _steps(d):
    todo = list(d["steps"])
    while todo:
        item = todo.pop(0)
        if "group" in item:
            todo[:0] = item["steps"]
        else:
            yield item


def test_mdt_step_settings_become_action_variables_and_restarts_follow_the_phase():
    d = import_sequence(MDT, "ts.xml")
    steps = {s["name"]: s for s in _steps(d)}
    roles = steps["Install Roles"]
    assert roles["module"] == "run_command_line"
    secret = roles["action_variables"]["SafeModeAdminPassword"]
    # OSRoles is empty: not set
    assert roles["action_variables"] == {"OSFeatures": "NetFx3,RSAT", "SafeModeAdminPassword": secret}
    assert secret.startswith("{{ tasksequence_secret_") and "P@ss-not-copied" not in json.dumps(d)
    assert steps["Restart in Install"]["placeholder"]["reason"].endswith("(phase INSTALL)")
    assert steps["Restart in State Restore"]["module"] == "restart_computer"
    assert steps["Restart in State Restore"]["options"] == {"target": "HD", "message_timeout": 60}
    assert "staged" in steps["Restart to capture"]["placeholder"]["reason"]
    assert d["import_summary"]["settings"]["dropped"] == 0
    text = playbook_text(d)
    task = next(t for t in walk_tasks(yaml.safe_load(text.replace("!unsafe", ""))[0]["tasks"])
                if t["name"] == "Install Roles")
    assert task["environment"]["OSFeatures"] == "NetFx3,RSAT"
    assert task["environment"]["SafeModeAdminPassword"] == secret   # the importer's own reference stays live


def test_disabled_items_keep_their_conditions_and_the_fact_they_were_disabled():
    cond = expr("Variable", Variable="Ready", Operator="equals", Value="yes")
    xml = ('<sequence version="3.10">'
           + step("SetVariableAction", "Off", var("VariableName", "A") + var("VariableValue", "1"), condition=cond,
                  attrs='disable="true"')
           + step("ApplyOperatingSystemAction", "Off placeholder", condition=cond, attrs='disable="true"')
           + step("ApplyOperatingSystemAction", "On placeholder", condition=cond)
           + f'<group name="Off group" disable="true"><condition>{cond}</condition>'
           + step("SetVariableAction", "Inside", var("VariableName", "B") + var("VariableValue", "2")) + "</group>"
           + "</sequence>")
    d = import_sequence(xml, "off.xml")
    off, off_ph, on_ph, group = d["steps"]
    want = {"variable": {"name": "Ready", "operator": "equals", "value": "yes"}}
    assert off["disabled"] and off["conditions"] == want and off["source"]["disabled"]
    assert off_ph["conditions"] == want and off_ph["source"]["disabled"] and off_ph["placeholder"]
    assert on_ph["disabled"] and "disabled" not in on_ph["source"]   # disabled only because it is a placeholder
    assert [p.get("disabled", False) for p in d["import_summary"]["placeholders"]] == [True, False]
    assert group["disabled"] and group["conditions"] == want
    tasks = yaml.safe_load(playbook_text(d).replace("!unsafe", ""))[0]["tasks"]
    for task in tasks:
        assert task["when"][0] is False and "tsvar" in task["when"][1]   # never evaluated, still there
    assert tasks[1]["name"].endswith("(disabled in the task sequence)")
    assert not tasks[2]["name"].endswith("(disabled in the task sequence)")
    assert [t["name"] for t in tasks[3]["block"]] == ["Inside"]   # a disabled group keeps its steps


def test_child_sequence_step_names_its_sibling_by_package_id():
    child = ('<sequence version="3.10">' + step("SetVariableAction", "In child", var("VariableName", "C")
                                                + var("VariableValue", "1")) + "</sequence>")
    parent = ('<sequence version="3.10"><subtasksequence type="SMS_TaskSequence_SubTasksequence" name="Run child">'
              "<defaultVarList>" + var("OSDSubTasksequencePackageID", "PS100002", "TsPackageID")
              + var("OSDSubTasksequenceTsName", "Child TS", "TsName") + "</defaultVarList></subtasksequence></sequence>")
    first, second = import_sequences(console_zip({"PS100001": parent, "PS100002": child}), "set.zip")
    run = first["steps"][0]
    assert run["child_sequence"] == {"package_id": second["source"]["package_id"], "name": "Child TS"}
    assert run["placeholder"] and "PS100002" in run["placeholder"]["reason"]


CORPUS_FILES = sorted(os.path.join(d, f) for d in (os.path.join(CORPUS, "configmgr"), os.path.join(CORPUS, "mdt"))
                      if os.path.isdir(d) for f in os.listdir(d))


@pytest.mark.skipif(not CORPUS_FILES, reason="no corpus")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=os.path.basename)
def test_corpus_counts_conditions_and_settings(path):
    """Measured per file (printed with -s): no condition dropped; every setting kept, not applicable, or
    dropped by name; the only drop is a package-relative start-in folder that run_command_line cannot take."""
    for d in import_sequences(open(path, "rb").read(), os.path.basename(path), lenient=True):
        s = d["import_summary"]
        print("\n" + summary_row(d))
        assert s["conditions"]["dropped"] == 0
        assert all(x["setting"] == "WorkingDirectory" for x in s["settings"].get("dropped_settings", []))
        assert s["settings"]["dropped"] == len(s["settings"].get("dropped_settings", []))


def test_action_variables_stay_inert():
    payload = "{{ lookup('pipe', 'touch pwned') }}"
    xml = ('<sequence version="3.00" name="MDT"><step type="BDD_Gather" name="Gather">'
           f'<defaultVarList>{var("RulesFile", payload)}</defaultVarList>'
           '<action>cscript.exe "%SCRIPTROOT%\\ZTIGather.wsf"</action></step></sequence>')
    d = import_sequence(xml, "ts.xml")
    assert d["steps"][0]["action_variables"] == {"RulesFile": payload}
    assert re.search(r"RulesFile: !unsafe ", playbook_text(d))
    assert re.search(r"RulesFile: !unsafe ", definition_yaml(d))
