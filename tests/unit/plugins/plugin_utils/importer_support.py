"""Exports built in the tests: hostile ones, big ones, damaged containers (never copied from the corpus)."""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from xml.sax.saxutils import escape, quoteattr


def payloads(marker_dir) -> dict[str, str]:
    """Jinja that would create a file in ``marker_dir`` if anything ever evaluated it."""
    return {
        "expr": "{{ lookup('pipe', 'touch " + str(marker_dir) + "/PWNED') }}",
        "block": "{% set x = lookup('pipe', 'touch " + str(marker_dir) + "/PWNED2') %}done{% if true %}!{% endif %}",
        "comment": "{# c #}{{ 7 * 7 }}",
    }


def var(name: str, value: str, prop: str | None = None, hidden: bool = False) -> str:
    attrs = f"name={quoteattr(name)} property={quoteattr(prop or name)}" + (' hidden="true"' if hidden else "")
    return f"<variable {attrs}>{escape(value)}</variable>"


def expr(kind: str, **values: str) -> str:
    body = "".join(f"<variable name={quoteattr(k)}>{escape(v)}</variable>" for k, v in values.items())
    return f'<expression type="SMS_TaskSequence_{kind}ConditionExpression">{body}</expression>'


def step(kind: str, name: str, variables: str = "", condition: str = "", attrs: str = "", tag: str = "step") -> str:
    cond = f"<condition>{condition}</condition>" if condition else ""
    return (f'<{tag} type="SMS_TaskSequence_{kind}" name={quoteattr(name)} {attrs}>{cond}'
            f"<defaultVarList>{variables}</defaultVarList></{tag}>")


def hostile_sequence(p: dict[str, str], host_checks: bool = True) -> str:
    """Every kind of field an export can carry, each holding Jinja (without host checks: runs on localhost)."""
    e, b, c = p["expr"], p["block"], p["comment"]
    rules = ("<Rules><Rule><condition>" + expr("MakeModel", Make=e, Model=b) + "</condition><Variables>"
             f"<Variable Name=\"Dyn\" IsSecret=\"false\">{escape(e)}</Variable></Variables></Rule></Rules>")
    return (
        f'<sequence version="3.10"><globalVarList>{var("Payload", e)}{var("PayloadBlock", b)}</globalVarList>'
        f"<group name={quoteattr('Group ' + e)} description={quoteattr(b)} continueOnError=\"true\">"
        "<condition><operator type=\"or\">"
        + expr("Variable", Variable="Payload", Operator="equals", Value=e)
        + ("" if not host_checks else expr("WMI", Namespace="root\\" + c,
                                           Query="select * from Win32_OS where Caption = '" + e + "'")
           + expr("Registry", KeyPath="HKLM\\SOFTWARE\\" + e, Value=b, Type="REG_SZ", Operator="equals", Data=c)
           + expr("File", Path="C:\\" + e, Version="1.0", VersionOperator="greaterEqual")
           + expr("Folder", Path="%Payload%\\" + b)
           + expr("Software", Operator="AnyVersion", ProductCode="{" + e + "}", UpgradeCode="{" + b + "}",
                  ProductName=c, Version="1.0"))
        + "</operator></condition>"
        + step("SetVariableAction", "Set " + e, var("VariableName", "Copy") + var("VariableValue", "%Payload% " + c),
               condition=expr("Variable", Variable="PayloadBlock", Operator="like", Value="{%*"),
               attrs=f"description={quoteattr(c)}")
        + step("SetVariableAction", "Second " + b, var("VariableName", "Block") + var("VariableValue", b))
        + step("SetVariableAction", "Never " + c, var("VariableName", "Wrong") + var("VariableValue", "1"),
               condition=expr("Variable", Variable="Payload", Operator="equals", Value="{{ 7 * 7 }}"))
        + "</group>"
        + step("RunCommandLineAction", "Run " + e,
               var("CommandLine", "cmd /c echo " + e + " " + b, hidden=True) + var("WorkingDirectory", "C:\\" + c)
               + var("SMSTSRunCommandLineOutputVariableName", "Out"), attrs='disable="true"')
        + step("RunPowerShellScriptAction", "Script " + e,
               var("OSDRunPowerShellScriptSourceScript", "Write-Output '" + e + "'")
               + var("OSDRunPowerShellScriptParameters", "-A '" + b + "'"), attrs='disable="true"')
        + step("SetDynamicVariablesAction", "Dynamic " + c, var("OSDSetDynamicVariablesRules", rules),
               attrs='disable="true"')
        + step("ConnectNetworkFolderAction", "Map " + e, var("SMSConnectNetworkFolderPath", "\\\\srv\\" + e)
               + var("SMSConnectNetworkFolderDriveLetter", "Z:"), attrs='disable="true"')
        + step("ApplyOperatingSystemAction", "Apply " + e)
        + "</sequence>")


def cim(sequence: str, package_id: str = "PS100001", name: str = "Test") -> str:
    return ('<?xml version="1.0" encoding="utf-16"?><INSTANCE CLASSNAME="SMS_TaskSequencePackage">'
            f'<PROPERTY NAME="PackageID" TYPE="string"><VALUE>{escape(package_id)}</VALUE></PROPERTY>'
            f'<PROPERTY NAME="Name" TYPE="string"><VALUE>{escape(name)}</VALUE></PROPERTY>'
            f'<PROPERTY NAME="Sequence" TYPE="string"><VALUE><![CDATA[{sequence}]]></VALUE></PROPERTY></INSTANCE>')


def zip_bytes(members: dict[str, bytes | str], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buf.getvalue()


def console_zip(sequences: dict[str, str]) -> bytes:
    """A console export zip: package ID -> <sequence> text."""
    return zip_bytes({f"SMS_TaskSequencePackage/{pid}/object.xml": cim(seq, pid, f"Sequence {pid}").encode("utf-16")
                      for pid, seq in sequences.items()})


SMALL = ('<sequence version="3.10"><step type="SMS_TaskSequence_SetVariableAction" name="S"><defaultVarList>'
         + var("VariableName", "A") + var("VariableValue", "1") + "</defaultVarList></step></sequence>")


def big_sequence(steps: int) -> str:
    """About 275 bytes a step: groups of 100 with a condition, one step in ten a Run Command Line with run-as."""
    parts = ['<sequence version="3.10"><globalVarList><variable name="Site" property="Site">PS1</variable>'
             "</globalVarList>"]
    n = g = 0
    while n < steps:
        g += 1
        parts.append(f'<group name="Group {g}" continueOnError="true"><condition><expression type="SMS_TaskSequence_'
                     'VariableConditionExpression"><variable name="Operator">equals</variable><variable name="Value">'
                     f'{g}</variable><variable name="Variable">Level</variable></expression></condition>')
        for i in range(min(100, steps - n)):
            n += 1
            if i % 10 == 0:
                parts.append(f'<step type="SMS_TaskSequence_RunCommandLineAction" name="Run" timeout="60" '
                             f'successCodeList="0 3010"><action>smsswd.exe /run: cmd /c echo {n}</action><defaultVarList>'
                             f'<variable name="CommandLine" property="CommandLine" hidden="true">cmd /c echo {n}</variable>'
                             '<variable name="_SMSTSRunCommandLineAsUser" property="RunAsUser">true</variable>'
                             '<variable name="SMSTSRunCommandLineUserName" property="UserName">C\\svc</variable>'
                             "</defaultVarList></step>")
            else:
                parts.append(f'<step type="SMS_TaskSequence_SetVariableAction" name="Set {n}"><defaultVarList>'
                             f'<variable name="VariableName" property="VariableName">V{n}</variable>'
                             f'<variable name="VariableValue" property="VariableValue">value {n}</variable>'
                             "</defaultVarList></step>")
        parts.append("</group>")
    parts.append("</sequence>")
    return "".join(parts)


def big_export(steps: int) -> bytes:
    """A console export zip (UTF-8 object.xml) of ``big_sequence``."""
    return zip_bytes({"SMS_TaskSequencePackage/BIG00001/object.xml": cim(big_sequence(steps), "BIG00001", "Big")})


def walk_tasks(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from walk_tasks(task.get(key) or [])


def template_playbook(path: str, tsenv: dict) -> list[dict]:
    """Load a playbook as ansible-playbook does, then template every task's fields with Ansible's Templar
    and evaluate its `when` (host checks answer as if everything were there)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar

    init_plugin_loader([os.path.join(ROOT, ".cache", "collections")])
    loader = DataLoader()
    play = loader.load_from_file(path, trusted_as_template=True)
    out, registered, facts = [], {}, {}
    for task in walk_tasks(play[0]["tasks"]):
        variables = {"tsenv": tsenv, "ansible_facts": {"architecture": "64-bit", "distribution_version": "10.0.19045"},
                     **registered, **facts, **(task.get("vars") or {})}
        templar = Templar(loader=loader, variables=variables)
        rendered = {k: templar.template(v) for k, v in task.items() if k not in ("when", "block", "rescue", "until")}
        if isinstance(task.get("when"), str):
            rendered["when"] = templar.evaluate_conditional(task["when"])
        if "ansible.builtin.set_fact" in rendered:
            facts.update(rendered["ansible.builtin.set_fact"])
        if "register" in task:
            registered[task["register"]] = {"stat": {"exists": True, "isreg": True, "isdir": True, "lastwritetime": 0,
                                                     "file_version": "2.0"}, "exists": True, "value": "x",
                                            "output": [True]}
        out.append(rendered)
    return out


def evaluate_whens(path: str, tsenv: dict, registered: dict, facts: dict) -> dict:
    """Each task's `when` of a generated playbook, evaluated by Ansible's Templar with the task's vars,
    ``tsenv``, the given registered results and ``ansible_facts``: {task name: bool}."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar

    init_plugin_loader([os.path.join(ROOT, ".cache", "collections")])
    loader = DataLoader()
    play = loader.load_from_file(path, trusted_as_template=True)
    out = {}
    for task in walk_tasks(play[0]["tasks"]):
        if not isinstance(task.get("when"), str):
            continue
        variables = {"tsenv": tsenv, "ansible_facts": facts, **registered, **(task.get("vars") or {})}
        out[str(task["name"])] = Templar(loader=loader, variables=variables).evaluate_conditional(task["when"])
    return out


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def _peak_rss_mb() -> float:
    """This process's peak resident memory. ru_maxrss survives exec (it would count the parent's pytest
    process, copied at fork); /proc's VmHWM belongs to this program's own address space."""
    import resource

    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str) -> dict:
    """Import one export twice: timed, then under tracemalloc; with the process's peak RSS."""
    import time
    import tracemalloc

    sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))
    from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import import_sequence

    with open(path, "rb") as f:
        data = f.read()
    start, cpu_start = time.perf_counter(), time.process_time()
    steps = import_sequence(data, os.path.basename(path))["import_summary"]["steps"]
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    rss_mb = _peak_rss_mb()
    tracemalloc.start()
    import_sequence(data, os.path.basename(path))
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return {"steps": steps, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mb": rss_mb,
            "tracemalloc_peak_mb": peak_mb}


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        print(json.dumps(measure(sys.argv[2])))
    if sys.argv[1] == "template":
        print(json.dumps(template_playbook(sys.argv[2], json.loads(sys.argv[3])), default=str))
    if sys.argv[1] == "whens":
        args = json.loads(sys.argv[3])
        print(json.dumps(evaluate_whens(sys.argv[2], args["tsenv"], args["registered"], args["facts"])))
