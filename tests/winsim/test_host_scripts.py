"""The collection's own PowerShell (plugins/plugin_utils/powershell/*.ps1), executed from its real
text on a simulated machine, the way the controller sends it: host_query.ps1 through
ansible.windows.win_powershell, run_script.ps1 through win_command + powershell.exe
-EncodedCommand. The simulated host holds no copy of either script: replacing a script's body
with ``throw 'mutated'`` must make its checks fail (test_mutated_scripts_fail_their_checks)."""

from __future__ import annotations

import base64
import json
import os
import pathlib

import pytest

from tests.winsim.machine import Machine
from tests.winsim.testkit import run_module

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "plugins" / "plugin_utils" / "powershell"
TEMP = "c:\\users\\administrator\\appdata\\local\\temp\\"


def cim(name, cls, *props, namespace="root\\cimv2"):
    return {"name": name, "kind": "cim", "namespace": namespace, "class": cls, "properties": list(props)}


QUERIES = [
    cim("os", "Win32_OperatingSystem", "Caption", "ProductType", "OSLanguage", "LastBootUpTime", "OSArchitecture"),
    cim("adapters", "MSFT_NetAdapter", "Name", "MacAddress", "NdisPhysicalMedium", "HardwareInterface", "Virtual",
        namespace="root\\StandardCimv2"),
    cim("configs", "Win32_NetworkAdapterConfiguration", "InterfaceIndex", "IPAddress", "DefaultIPGateway"),
    cim("enclosure", "Win32_SystemEnclosure", "ChassisTypes"),
    cim("battery", "BatteryStatus", "PowerOnline", namespace="root\\wmi"),
    cim("tpm", "Win32_Tpm", "SpecVersion", "IsEnabled_InitialValue", namespace="root\\cimv2\\Security\\MicrosoftTpm"),
    cim("client", "SMS_Client", "ClientVersion", namespace="root\\ccm"),
    cim("no_class", "Win32_NoSuchClass", "Name"),
    {"name": "firmware", "kind": "registry", "path": "HKLM:\\SYSTEM\\CurrentControlSet\\Control",
     "value": "PEFirmwareType"},
    {"name": "no_value", "kind": "registry", "path": "HKLM:\\SYSTEM\\CurrentControlSet\\Control", "value": "Nope"},
    {"name": "no_key", "kind": "registry", "path": "HKLM:\\SOFTWARE\\NoSuchVendor", "value": "X"},
    {"name": "odd", "kind": "wmi"},
]


def script_text(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")


def mutated(name: str, tmp_path) -> str:
    """A temp copy of the script with its body (everything after the comment header) replaced."""
    lines = script_text(name).splitlines(keepends=True)
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    copy = tmp_path / f"mutated-{name}"
    copy.write_text("".join(header) + "throw 'mutated'\n", encoding="utf-8")
    return copy.read_text(encoding="utf-8")


# host_query.ps1 ----------------------------------------------------------------------------------------

def host_query(machine, text, queries=None, depth=5, **kwargs):
    queries = QUERIES if queries is None else queries
    out = run_module(machine, "win_powershell", {"script": text, "parameters": {"Queries": queries},
                                                 "depth": depth}, **kwargs)[0]
    return out


def check_host_query(machine: Machine, text: str) -> None:
    out = host_query(machine, text)
    assert "failed" not in out and out["error"] == [], out
    (answers,) = out["output"]
    os_ = answers["os"]["rows"][0]
    assert os_["Caption"] == machine.state["os"]["caption"] and os_["ProductType"] == 1
    assert os_["OSLanguage"] == machine.state["os"]["lcid"] and os_["OSArchitecture"] == "64-bit"
    assert os_["LastBootUpTime"].endswith("+00:00")                       # a DateTime, as ToString('o')
    adapters = answers["adapters"]["rows"]
    assert [(a["Name"], a["HardwareInterface"], a["Virtual"]) for a in adapters] == [
        ("Ethernet", True, False), ("Wi-Fi", True, False), ("WAN Miniport (IP)", False, True),
        ("vEthernet (Default Switch)", False, True)]
    assert adapters[0]["MacAddress"] == machine.state["network_adapters"][0]["mac"].replace(":", "-")
    assert [a["NdisPhysicalMedium"] for a in adapters[:2]] == [14, 9]
    wired = answers["configs"]["rows"][0]
    assert wired["IPAddress"] == ["192.0.2.10"] and wired["DefaultIPGateway"] == ["192.0.2.1"]
    assert answers["enclosure"]["rows"] == [{"ChassisTypes": [10]}]
    assert answers["battery"] == {"rows": [{"PowerOnline": True}], "error": None}
    assert answers["tpm"]["rows"] == [{"SpecVersion": "2.0, 0, 1.38", "IsEnabled_InitialValue": True}]
    assert answers["client"] == {"rows": [{"ClientVersion": "5.00.9128.1000"}], "error": None}
    assert answers["no_class"] == {"rows": [], "error": "Invalid class "}
    assert answers["firmware"] == {"rows": [{"value": 2}], "error": None}
    assert answers["no_value"]["error"] == \
        "Property Nope does not exist at path HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control."
    assert answers["no_key"]["error"] == "Cannot find path 'HKLM:\\SOFTWARE\\NoSuchVendor' because it does not exist."
    assert answers["odd"] == {"rows": [], "error": "unknown query kind 'wmi'"}


def test_host_query(tmp_path):
    machine = Machine("win01", tmp_path)
    check_host_query(machine, script_text("host_query.ps1"))


def test_host_query_without_client_tpm_or_battery(tmp_path):
    # A desktop without a TPM or a ConfigMgr client: empty answers and a missing namespace, no crash.
    machine = Machine("win01", tmp_path, seed={"hardware": {"form": "desktop", "tpm": {"present": False}},
                                               "configmgr_client_version": None})
    answers = host_query(machine, script_text("host_query.ps1"))["output"][0]
    assert answers["battery"] == {"rows": [], "error": None}
    assert answers["tpm"] == {"rows": [], "error": None}
    assert answers["client"] == {"rows": [], "error": "Invalid namespace "}
    assert answers["enclosure"]["rows"] == [{"ChassisTypes": [3]}]


def test_host_query_depth_and_check_mode(tmp_path):
    machine = Machine("win01", tmp_path)
    text = script_text("host_query.ps1")
    # win_powershell's default depth: the rows list is past the limit and arrives as its [string].
    answers = host_query(machine, text, depth=2)["output"][0]
    assert answers["os"] == {"rows": "System.Collections.Specialized.OrderedDictionary", "error": None}
    # One level short: each row is the type name of the ordered dictionary it was.
    answers = host_query(machine, text, depth=3)["output"][0]
    assert answers["os"]["rows"] == ["System.Collections.Specialized.OrderedDictionary"]
    # Four levels: rows are dictionaries, but an array value (IPAddress) is past the limit.
    answers = host_query(machine, text, depth=4)["output"][0]
    assert answers["configs"]["rows"][0]["IPAddress"] == "192.0.2.10"
    # Read-only and SupportsShouldProcess: it runs in check mode too.
    out = host_query(machine, text, queries=QUERIES[:1], check_mode=True)
    assert out["output"][0]["os"]["rows"][0]["Caption"] == machine.state["os"]["caption"]
    out = host_query(machine, text, queries=[])
    assert out["failed"] and "because it is an empty array" in out["error"][0]["exception"]["message"]


def test_host_query_tpm_needs_an_administrator(tmp_path):
    machine = Machine("win01", tmp_path)
    answers = host_query(machine, script_text("host_query.ps1"), queries=QUERIES[5:6],
                         become=("deploy", None))["output"][0]
    assert answers["tpm"] == {"rows": [], "error": "Access denied "}


def test_host_query_paths_keys_value_types_and_file_versions(tmp_path):
    # The sequence engine's host conditions: paths, registry keys, value types and a filtered CIM_DataFile.
    machine = Machine("win01", tmp_path, seed={
        "files": {"C:\\Tools\\agent.exe": {"content": "x", "version": "2.1.0.0"}, "C:\\Tools\\it's.txt": {"content": "y"}},
        "registry": {"HKLM:\\SOFTWARE\\Contoso": {"Ring": 2, "Site": {"type": "REG_SZ", "data": "Berlin"}}}})
    machine.state["files"]["c:\\tools\\agent.exe"]["mtime"] = 1704067200.5
    queries = [{"name": "file", "kind": "path", "path": "C:\\Tools\\agent.exe"},
               {"name": "folder", "kind": "path", "path": "%SystemDrive%\\Tools"},
               {"name": "missing", "kind": "path", "path": "C:\\Tools\\[nope].exe"},
               {"name": "key", "kind": "key", "path": "HKLM:\\SOFTWARE\\Contoso"},
               {"name": "no_key", "kind": "key", "path": "HKLM:\\SOFTWARE\\NoSuchVendor"},
               {"name": "ring", "kind": "registry", "path": "HKLM:\\SOFTWARE\\Contoso", "value": "Ring", "type": True},
               {"name": "site", "kind": "registry", "path": "HKLM:\\SOFTWARE\\Contoso", "value": "site", "type": True},
               {**cim("version", "CIM_DataFile", "Name", "Version"), "filter": "Name='C:\\\\Tools\\\\agent.exe'"},
               {**cim("quoted", "CIM_DataFile", "Name", "Version"), "filter": "Name='c:\\\\tools\\\\it\\'s.txt'"},
               {**cim("none", "CIM_DataFile", "Name", "Version"), "filter": "Name='c:\\\\nope.exe'"}]
    out = host_query(machine, script_text("host_query.ps1"), queries=queries)
    assert out["error"] == [], out
    answers = out["output"][0]
    filetime = (1704067200 * 10_000_000 + 5_000_000) + 116_444_736_000_000_000   # 100 ns ticks since 1601
    assert answers["file"] == {"rows": [{"folder": False, "time": filetime}], "error": None}
    assert answers["folder"]["rows"][0]["folder"] is True
    assert answers["missing"] == {"rows": [], "error": None}
    assert answers["key"] == {"rows": [{}], "error": None} and answers["no_key"] == {"rows": [], "error": None}
    assert answers["ring"] == {"rows": [{"value": 2, "type": "DWord"}], "error": None}
    assert answers["site"] == {"rows": [{"value": "Berlin", "type": "String"}], "error": None}
    assert answers["version"] == {"rows": [{"Name": "c:\\tools\\agent.exe", "Version": "2.1.0.0"}], "error": None}
    assert answers["quoted"] == {"rows": [{"Name": "c:\\tools\\it's.txt", "Version": None}], "error": None}
    assert answers["none"] == {"rows": [], "error": None}


# run_script.ps1 -------------------------------------------------------------------------------------------

def run_script(machine, text, request, policy=None, chdir=None):
    encoded = base64.b64encode(text.encode("utf-16-le")).decode()
    argv = ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive"]
    argv += ["-ExecutionPolicy", policy] if policy else []
    args = {"argv": [*argv, "-EncodedCommand", encoded], "stdin": json.dumps(request)}
    if chdir:
        args["chdir"] = chdir
    out = run_module(machine, "win_command", args)[0]
    return out["rc"], out["stdout"], out["stderr"]


def temp_scripts(machine) -> list[str]:
    return [k for k in machine.state["files"] if k.startswith(TEMP + "ts-")]


NAMED = "param([string]$Name, [int]$Count, [switch]$Flag, [string]$Owner)\n" \
        "\"name=$Name count=$Count flag=$Flag owner=$Owner\"\n"


def check_run_script(machine: Machine, text: str) -> None:
    # ConfigMgr's parameter string is PowerShell: quoting, '' in a single-quoted literal, a switch.
    rc, out, err = run_script(machine, text, {"script": NAMED, "path": None,
                                              "parameters": "-Name 'a b' -Count 3 -Flag -Owner 'O''Neil'"})
    assert (rc, out, err) == (0, "name=a b count=3 flag=True owner=O'Neil\r\n", "")
    # A dictionary is splatted: its values are data, never parsed as code.
    evil = "O'Neil'; Remove-Item C:\\Windows\\System32\\cmd.exe; '"
    rc, out, _err = run_script(machine, text, {"script": NAMED, "path": None,
                                               "parameters": {"Name": "x y", "Count": 2, "Owner": evil}})
    assert (rc, out) == (0, f"name=x y count=2 flag=False owner={evil}\r\n")
    assert machine.fs_exists("C:\\Windows\\System32\\cmd.exe")
    # The exit code is the script's: exit N, a normal end after a failing program, a throw.
    assert run_script(machine, text, {"script": "exit 7", "path": None, "parameters": None})[0] == 7
    assert run_script(machine, text, {"script": "exit 7", "path": None, "parameters": {}})[0] == 7
    rc, out, _err = run_script(machine, text, {"script": "cmd.exe /c exit 3\n'done'", "path": None,
                                               "parameters": None})
    assert (rc, out) == (0, "done\r\n")
    rc, out, err = run_script(machine, text, {"script": "'before'\nthrow 'it broke'", "path": None,
                                              "parameters": None})
    assert (rc, out) == (1, "before\r\n") and err.startswith("it broke")
    assert temp_scripts(machine) == []   # removed, even after the throw
    # A script on the host, run where the step says (win_command's chdir), with a dictionary.
    machine.fs_mkdir("C:\\Tools")
    machine.fs_write("C:\\Tools\\where.ps1", b"param($Tag)\n\"$Tag in $(Get-Location)\"\n")
    rc, out, _err = run_script(machine, text, {"script": None, "path": "C:\\Tools\\where.ps1",
                                               "parameters": {"Tag": "t"}}, chdir="C:\\Windows")
    assert (rc, out) == (0, "t in C:\\Windows\r\n")
    # The execution policy applies to the inline script's temp copy.
    rc, out, err = run_script(machine, text, {"script": "'unsigned'", "path": None, "parameters": None},
                              policy="AllSigned")
    assert rc == 1 and out == "" and "is not digitally signed" in err
    assert temp_scripts(machine) == []


def test_run_script(tmp_path):
    check_run_script(Machine("win01", tmp_path), script_text("run_script.ps1"))


def test_run_script_exit_code_with_a_parameter_string(tmp_path):
    machine = Machine("win01", tmp_path)
    rc = run_script(machine, script_text("run_script.ps1"), {"script": "param($Name)\nexit 7", "path": None,
                                                             "parameters": "-Name 'x'"})[0]
    assert rc == 7


# the mutation test ---------------------------------------------------------------------------------------

CHECKS = {"host_query.ps1": check_host_query, "run_script.ps1": check_run_script}


def test_every_shipped_script_has_checks():
    assert sorted(p.name for p in SCRIPTS.glob("*.ps1")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_mutated_scripts_fail_their_checks(tmp_path, name):
    original = script_text(name)
    text = mutated(name, tmp_path)
    assert text != original and text.rstrip().endswith("throw 'mutated'")
    machine = Machine("win01", tmp_path / "m")
    with pytest.raises(AssertionError):
        CHECKS[name](machine, text)
    assert script_text(name) == original and not os.path.exists(SCRIPTS / f"mutated-{name}")
