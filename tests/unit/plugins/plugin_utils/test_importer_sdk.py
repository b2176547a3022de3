"""Every property of ConfigMgr's task sequence classes, walked from the SDK reference (configmgr-sdk.md):
each has a mapping the import really makes, or a documented "not applicable"."""

from __future__ import annotations

import importlib
import json
import os
import re
from xml.sax.saxutils import escape, quoteattr

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import import_sequence, sdk

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
DESIGN = os.environ.get("TASKSEQUENCE_DESIGN") or os.path.abspath(os.path.join(ROOT, "..", "shared", "design"))
REFERENCE = os.path.join(DESIGN, "configmgr-sdk.md")
if not os.path.exists(REFERENCE) and os.environ.get("CI"):
    raise RuntimeError(f"the SDK reference is missing ({REFERENCE}); CI must check the importer against it")
pytestmark = pytest.mark.skipif(not os.path.exists(REFERENCE), reason=f"no {REFERENCE} (set TASKSEQUENCE_DESIGN)")
STEP_CLASSES = sorted(sdk.MODULES)   # the 11 steps
ITEM_KEYS = {"success_codes", "timeout"}   # item keys of docs/sequence-format.md, not module options


def reference() -> dict[str, list[dict]]:
    """{class: [{property, type, variable, default, allowed}]} from the reference's tables."""
    classes: dict[str, list[dict]] = {}
    current = None
    for line in open(REFERENCE, encoding="utf-8"):
        heading = re.match(r"^#{2,3} .*?\b(SMS_TaskSequence\w*)", line)
        if heading:
            current = heading.group(1)
            classes.setdefault(current, [])
            continue
        if line.startswith("#"):
            current = None
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if current and len(cells) == 6 and cells[0] not in ("property", "---") and not cells[0].startswith("("):
            variable = re.fullmatch(r"`([^`]+)`", cells[2])
            classes[current].append({"property": cells[0], "type": cells[1], "default": cells[3], "allowed": cells[4],
                                     "variable": variable.group(1) if variable else None})
    return classes


REF = reference() if os.path.exists(REFERENCE) else {}
ROWS = [(cls, row) for cls, rows in REF.items() for row in rows
        if cls not in ("SMS_TaskSequence", "SMS_TaskSequencePackage")]   # the package's metadata, not steps


def spec(module: str) -> dict:
    return importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.action.{module}").ActionModule.option_spec()


def test_the_reference_has_the_eleven_step_classes():
    # Set Dynamic Variables has no SDK page (no table): its one setting is in sdk.CLASSES from exports.
    tabled = {cls for cls, rows in REF.items() if rows}
    assert set(STEP_CLASSES) - tabled == {"SMS_TaskSequence_SetDynamicVariablesAction"}
    assert len(ROWS) > 120


@pytest.mark.parametrize("cls,row", ROWS, ids=[f"{c[17:]}.{r['property']}" for c, r in ROWS])
def test_every_property_is_mapped_with_its_documented_variable_name(cls, row):
    setting = sdk.CLASSES.get(cls, {}).get(row["property"])
    assert setting is not None, f"{cls}.{row['property']} has no entry in importer/sdk.py"
    if row["variable"]:
        assert setting.names and setting.names[0] == row["variable"]
    assert bool(setting.option) != bool(setting.na), "a mapping or a reason why not, never both"
    if setting.na:
        docs = open(os.path.join(ROOT, "docs", "importer.md"), encoding="utf-8").read()
        assert re.search(rf"^\| {re.escape(cls[17:])} \| `{re.escape(row['property'])}` \|", docs, re.M), \
            "every 'not applicable' is listed in docs/importer.md"
    module = sdk.MODULES.get(cls) or sdk.MODULES.get(next((s for s, e in sdk.ELEMENTS.items() if e == cls), ""))
    if module and setting.option:
        assert setting.option in spec(module) or setting.option in ITEM_KEYS, f"{module} has no option {setting.option}"


# Settings the step needs besides the one under test, and samples the reference's text cannot give.
COMPANIONS = {
    "SMS_TaskSequence_RunCommandLineAction": {"CommandLine": "cmd.exe /c exit 0"},
    "SMS_TaskSequence_RunPowerShellScriptAction": {"ScriptName": "x.ps1"},
    "SMS_TaskSequence_SetVariableAction": {"VariableName": "Name1", "VariableValue": "v"},
    "SMS_TaskSequence_DownloadPackageContentAction": {"DownloadPackages": "PS100001", "DestinationLocationType": "Custom"},
    "SMS_TaskSequence_InstallUpdateAction": {"Target": "All"},
    "SMS_TaskSequence_InstallApplicationAction": {"NumApps": "1", "AppInfo": "1"},
    "SMS_TaskSequence_ConnectNetworkFolderAction": {"Path": "\\\\fs\\share", "Username": "C\\svc"},
    "SMS_TaskSequence_RebootAction": {"Target": "HD"},
}
SAMPLES = {"SuccessCodes": "0 1641", "RetryCount": "3", "OSLanguageID": "1031", "SourceScript": "Write-Output 1",
           "AppInfo": "1", "NumApps": "1"}
MAPPED = [(cls, row) for cls, row in ROWS if cls in sdk.MODULES or cls in sdk.ELEMENTS.values()]


def _sample(row: dict) -> str:
    if row["property"] in SAMPLES:
        return SAMPLES[row["property"]]
    if row["type"] == "Boolean":
        return "true"
    if row["type"] == "UInt32":
        return "3"
    tokens = [t for t in re.findall(r"`([^`]*)`", row["allowed"]) if t not in ("", '""', "WinPE")]
    return tokens[0] if tokens else f"Sample-{row['property']}"


@pytest.mark.parametrize("cls,row", MAPPED, ids=[f"{c[17:]}.{r['property']}" for c, r in MAPPED])
def test_every_mapped_property_reaches_its_option(cls, row):
    """The property's variable, as an export writes it, becomes the option (or the step runs in the full OS)."""
    setting = sdk.CLASSES[cls][row["property"]]
    step_cls = next((s for s, e in sdk.ELEMENTS.items() if e == cls), cls)
    values = {sdk.CLASSES[step_cls][p].names[0]: v for p, v in COMPANIONS.get(step_cls, {}).items()}
    sample = _sample(row)
    attrs = ""
    if setting.attribute:
        attrs = f" {setting.attribute}={quoteattr(sample)}"
    elif setting.names:
        values[setting.names[0].replace("{n}", "0")] = sample
    if setting.requires:
        values[sdk.CLASSES[step_cls][setting.requires].names[0]] = "true"
    for prop, other in sdk.CLASSES[step_cls].items():   # a switch under test: the values it switches on
        if other.requires == row["property"] and other.names and other.names[0] not in values:
            values[other.names[0]] = _sample(next(r for r in REF[step_cls] if r["property"] == prop))
    if step_cls == "SMS_TaskSequence_InstallApplicationAction" and row["property"] not in ("DisplayName", "Name",
                                                                                           "ApplicationName"):
        values.setdefault("OSDApp0DisplayName", "Companion app")
    body = "".join(f"<variable name={quoteattr(k)} property={quoteattr(k)}>{escape(v)}</variable>" for k, v in values.items())
    xml = (f'<sequence version="3.10"><step type="{step_cls}" name="Under test"{attrs}>'
           f"<defaultVarList>{body}</defaultVarList></step></sequence>")
    item = import_sequence(xml, "sdk.xml")["steps"][0]
    if setting.na:
        assert item["module"] == sdk.MODULES[step_cls] and sample not in json.dumps(item["options"])
        return
    assert item["module"] == sdk.MODULES[step_cls], item.get("placeholder")
    value = item[setting.option] if setting.option in ITEM_KEYS else item["options"][setting.option]
    option = spec(sdk.MODULES[step_cls]).get(setting.option, {})
    if isinstance(value, str) and value.startswith("{{ tasksequence_secret_"):
        assert sample not in json.dumps(item)   # a password: a secret reference, never the value
    elif row["type"] == "Boolean" and option.get("type") != "bool":
        assert not isinstance(value, bool)   # a switch that brings its value's option (memory_mb, run_as_user)
    elif option.get("type") == "bool":
        assert value is True
    elif option.get("type") == "int":
        assert value == int(sample) if row["type"] in ("UInt32", "String") and sample.isdigit() else isinstance(value, int)
    elif option.get("choices"):
        assert value in option["choices"]
    elif setting.option == "success_codes":
        assert value == [int(c) for c in sample.split()]
    elif isinstance(value, list):
        assert sample in value or (sample.isdigit() and value == ["Companion app"] * int(sample))
    else:
        assert value == (sample if row["type"] != "UInt32" else str(int(sample)))


@pytest.mark.parametrize("cls", STEP_CLASSES)
def test_every_switch_that_is_off_leaves_its_option_out(cls):
    """Check Readiness' values are used only when their Check… switch is on (SDK), whatever their value."""
    switched = {p: s for p, s in sdk.CLASSES[cls].items() if s.requires}
    values = {s.names[0]: "7" for s in switched.values()}
    values.update({sdk.CLASSES[cls][s.requires].names[0]: "false" for s in switched.values()})
    values.update({sdk.CLASSES[cls][p].names[0]: v for p, v in COMPANIONS.get(cls, {}).items()})
    body = "".join(f"<variable name={quoteattr(k)}>{escape(v)}</variable>" for k, v in values.items())
    item = import_sequence(f'<sequence version="3.10"><step type="{cls}" name="S"><defaultVarList>{body}'
                           "</defaultVarList></step></sequence>", "x.xml")["steps"][0]
    for prop, setting in switched.items():
        if not any(s.requires is None and s.option == setting.option and s.names and s.names[0] in values
                   for s in sdk.CLASSES[cls].values()):
            assert setting.option not in item["options"], prop
