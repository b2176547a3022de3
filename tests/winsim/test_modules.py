"""Module handlers, run through real ansible-core payloads: return keys, check mode, refusals."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
import zipfile

import pytest

from tests.winsim.machine import DEPLOY_PASSWORD, Machine
from tests.winsim.testkit import run_module

MSI = "{D1D1D1D1-0000-4000-8000-000000000001}"
EXE_ID = "ContosoAgent"
SEED = {
    "files": {
        "C:\\Installers\\tool.msi": {"msi": {"product_code": MSI, "name": "Tool", "version": "1.1"}},
        "C:\\Installers\\reboot.msi": {"msi": {"product_code": "{D1D1D1D1-0000-4000-8000-000000000002}",
                                               "name": "Driver", "rc": 3010}},
        "C:\\Installers\\broken.msi": {"msi": {"product_code": "{D1D1D1D1-0000-4000-8000-000000000003}", "rc": 1603}},
        "C:\\Installers\\agent.exe": {"program": {"rc": 0, "effects": [{"install_product": {
            "product_code": EXE_ID, "name": "Contoso Agent", "msi": False,
            "quiet_uninstall_string": "C:\\Installers\\agent.exe /uninstall"}}],
            "cases": [{"args": "/uninstall", "effects": [{"remove_product": EXE_ID}]}]}},
        "C:\\Tools\\install.bat": {"content": "@echo off\r\necho bat %1\r\n"},
        "C:\\Tools\\slow.exe": {"program": {"seconds": 10}},
    },
    "web": {"https://files.contoso.example/tool.msi": {"content": "MSI-BYTES",
                                                       "msi": {"product_code": "{D1D1D1D1-0000-4000-8000-000000000009}",
                                                               "name": "Web tool"}},
            "https://files.contoso.example/gone": {"status": 404, "reason": "Not Found"}},
    "shares": {"\\\\fs01\\content": {"username": "svc-content", "password": "Share-Test-Pass!"}},
}


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path, reboot_seconds=0.3, seed=SEED)


def mod(machine, name, args=None, **kwargs):
    out, rc = run_module(machine, name, args, **kwargs)
    assert rc == (1 if out.get("failed") else 0)
    return out


# setup ---------------------------------------------------------------------------------------

SETUP_KEYS = {
    "ansible_ip_addresses": list, "ansible_bios_date": str, "ansible_bios_version": str, "ansible_product_name": str,
    "ansible_product_serial": str, "ansible_product_uuid": str, "ansible_date_time": dict, "ansible_distribution": str,
    "ansible_distribution_version": str, "ansible_distribution_major_version": str, "ansible_os_family": str,
    "ansible_os_name": str, "ansible_os_product_type": str, "ansible_os_installation_type": str,
    "ansible_os_install_date": str, "ansible_env": dict, "ansible_interfaces": list, "ansible_memtotal_mb": int,
    "ansible_memfree_mb": int, "ansible_swaptotal_mb": int, "ansible_pagefiletotal_mb": int,
    "ansible_pagefilefree_mb": int, "ansible_domain": str, "ansible_fqdn": str, "ansible_hostname": str,
    "ansible_netbios_name": str, "ansible_kernel": str, "ansible_nodename": str, "ansible_machine_id": str,
    "ansible_owner_name": str, "ansible_system": str, "ansible_system_description": str, "ansible_system_vendor": str,
    "ansible_architecture": str, "ansible_owner_contact": str, "ansible_reboot_pending": bool,
    "ansible_architecture2": str, "ansible_powershell_version": int, "ansible_processor": list,
    "ansible_processor_count": int, "ansible_processor_vcpus": int, "ansible_processor_cores": int,
    "ansible_processor_threads_per_core": (int, float), "ansible_lastboot": str, "ansible_uptime_seconds": int,
    "ansible_user_dir": str, "ansible_user_gecos": str, "ansible_user_id": str, "ansible_user_sid": str,
    "ansible_windows_domain": str, "ansible_windows_domain_member": bool, "ansible_windows_domain_role": str,
    "ansible_virtualization_role": str, "ansible_virtualization_type": str, "gather_subset": list, "module_setup": bool,
}


def test_setup_facts_have_setup_ps1_names_and_types(machine):
    out = mod(machine, "setup")
    facts = out["ansible_facts"]
    assert set(facts) == set(SETUP_KEYS)
    for key, kind in SETUP_KEYS.items():
        assert isinstance(facts[key], kind), key
    assert facts["ansible_distribution_version"] == "10.0.22631.0"
    assert re.match(r"^\d{2}/\d{2}/\d{4}$", facts["ansible_bios_date"])
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", facts["ansible_lastboot"])
    assert set(facts["ansible_date_time"]) >= {"date", "epoch", "epoch_int", "iso8601", "tz", "weekday", "year"}
    nic = facts["ansible_interfaces"][0]
    assert set(nic) == {"connection_name", "default_gateway", "dns_domain", "interface_index", "interface_name", "ipv4",
                        "ipv6", "macaddress", "mtu", "speed"}
    assert nic["ipv4"] == {"address": "192.0.2.10", "prefix": "24"}   # one address: an object, as Select-Object gives
    assert facts["ansible_env"]["USERNAME"] == "Administrator"
    assert out["invocation"]["module_args"]["gather_subset"] == ["all"]


def test_setup_subsets_and_non_admin(machine):
    facts = mod(machine, "setup", {"gather_subset": ["!all", "!min", "bios"]})["ansible_facts"]
    assert set(facts) == {"gather_subset", "module_setup", "ansible_bios_date", "ansible_bios_version",
                          "ansible_product_name", "ansible_product_serial", "ansible_product_uuid"}
    facts = mod(machine, "setup", {"gather_subset": ["distribution", "platform"]},
                become=("deploy", DEPLOY_PASSWORD))["ansible_facts"]
    assert facts["ansible_distribution"] is None and facts["ansible_architecture"] is None   # WMI needs an admin


def test_setup_reboot_pending(machine):
    machine.request_reboot()
    assert mod(machine, "setup", {"gather_subset": ["platform"]})["ansible_facts"]["ansible_reboot_pending"] is True


# ping, command, shell ------------------------------------------------------------------------

def test_win_ping(machine):
    assert mod(machine, "win_ping")["ping"] == "pong"
    out = mod(machine, "win_ping", {"data": "crash"})
    assert out["failed"] and out["msg"] == "Unhandled exception while executing module: boom"
    out = mod(machine, "win_ping", {"date": "x"})
    assert out["msg"] == "Unsupported parameters for (ansible.windows.win_ping) module: date. Supported parameters " \
                         "include: data"


def test_win_command_result_shape(machine):
    out = mod(machine, "win_command", {"cmd": "cmd.exe /c \"echo out & echo err 1>&2\""})
    assert set(out) == {"changed", "cmd", "rc", "stdout", "stderr", "start", "end", "delta", "invocation"}
    assert (out["rc"], out["stdout"], out["stderr"], out["changed"]) == (0, "out \r\n", "err \r\n", True)
    assert re.match(r"^\d+:\d\d:\d\d\.\d{6}$", out["delta"])
    out = mod(machine, "win_command", {"cmd": "cmd.exe /c exit 7"})
    assert out["failed"] and out["rc"] == 7 and out["msg"] == "non-zero return code"


def test_win_command_options(machine):
    out = mod(machine, "win_command", {"argv": ["cmd.exe", "/c", "echo", "a b"]})
    assert out["cmd"] == 'C:\\Windows\\System32\\cmd.exe /c echo "a b"' and out["stdout"] == '"a b"\r\n'
    assert mod(machine, "win_command", {"cmd": "cmd.exe /c cd", "chdir": "C:\\Windows"})["stdout"] == "C:\\Windows\r\n"
    out = mod(machine, "win_command", {"cmd": "hostname", "creates": "C:\\Windows"})
    assert out["skipped"] and out["msg"] == "skipped, since C:\\Windows exists" and out["changed"] is False
    out = mod(machine, "win_command", {"cmd": "hostname", "removes": "C:\\Nope"})
    assert out["skipped"] and out["msg"] == "skipped, since C:\\Nope does not exist"
    out = mod(machine, "win_command", {"cmd": "hostname"}, check_mode=True)
    assert out == {"changed": False, "skipped": True, "invocation": out["invocation"],
                   "msg": "remote module (ansible.windows.win_command) does not support check mode"}
    out = mod(machine, "win_get_url", {"url": "https://files.contoso.example/tool.msi", "dest": "C:\\t.msi",
                                       "url_username": "u"})
    assert out["failed"] and out["msg"] == "simulated host: win_get_url option(s) url_username are not emulated"
    out = mod(machine, "win_command", {"cmd": "no-such-tool --version"})
    assert out["failed"] and out["rc"] == 2 and "The system cannot find the file specified" in out["msg"]
    out = mod(machine, "win_command", {"cmd": "hostname", "argv": ["x"]})
    assert out["msg"] == "parameters are mutually exclusive: _raw_params, argv, cmd"


def test_win_shell(machine):
    out = mod(machine, "win_shell", {"_raw_params": "$env:A = 'x'; Write-Output \"a=$env:A\"; hostname"})
    assert out["stdout"] == "a=x\r\nWIN01\r\n" and out["rc"] == 0 and "invocation" not in out
    out = mod(machine, "win_shell", {"_raw_params": "echo %USERNAME%& exit /b 2", "executable": "cmd"})
    assert out["failed"] and out["rc"] == 2 and out["stdout"] == "Administrator\r\n"
    out = mod(machine, "win_shell", {"_raw_params": "Get-Service"})
    assert out["failed"] and "unsupported PowerShell at line 1: Get-Service" in out["stderr"]
    out = mod(machine, "win_shell", {"_raw_params": "hostname"}, check_mode=True)
    assert out == {"skipped": True, "changed": False, "msg": "remote module does not support check mode"}


# win_powershell ----------------------------------------------------------------------------------
# Any script runs through the PowerShell subset (pwsh.py); the collection's own scripts are
# exercised from their real text in test_host_scripts.py.

def test_win_powershell_result_shape_and_depth(machine):
    script = ("[ordered]@{ a = 1; inner = @{ list = @(1, 2); deeper = @{ x = 1 } } }\n'text'\n"
              "[datetime]'2026-01-02T03:04:05Z'\n")
    out = mod(machine, "win_powershell", {"script": script})
    assert set(out) == {"changed", "result", "host_out", "host_err", "output", "error", "warning", "verbose", "debug",
                        "information", "invocation"}
    # depth 2: the output item is at depth 1, its values at 0, theirs past the limit: [string] of them.
    assert out["output"] == [{"a": 1, "inner": {"list": "1 2", "deeper": "System.Collections.Hashtable"}}, "text",
                             "2026-01-02T03:04:05.0000000Z"]
    assert out["changed"] is True and out["error"] == [] and out["result"] == {}
    out = mod(machine, "win_powershell", {"script": script, "depth": 3})
    assert out["output"][0]["inner"] == {"list": [1, 2], "deeper": {"x": 1}}
    assert machine.counters_snapshot()["modules"]["ansible.windows.win_powershell"] == 2


def test_win_powershell_parameters_and_secrets(machine):
    script = ("param([int]$Count, [string[]]$Names, $Map, $Secret, $Cred)\n$Count + 1\n$Names.Count\n$Map.key\n"
              "$Secret.GetType().FullName\n$Cred.UserName\n$Cred.GetNetworkCredential().Password.Length\n")
    out = mod(machine, "win_powershell", {"script": script, "parameters": {"Count": "4", "Names": ["a", "b"],
                                                                           "Map": {"key": "v"}},
                                          "sensitive_parameters": [{"name": "Secret", "value": "s3cr3t-value"},
                                                                   {"name": "Cred", "username": "svc",
                                                                    "password": "p4ssw0rd"}]})
    assert out["output"] == [5, 2, "v", "System.Security.SecureString", "svc", 8], out["error"]
    assert "s3cr3t-value" not in json.dumps(out["invocation"])
    out = mod(machine, "win_powershell", {"script": "[CmdletBinding()]\nparam($A)\n$A\n", "parameters": {"B": 1}})
    assert out["failed"] and out["error"][0]["exception"]["message"] == \
        "A parameter cannot be found that matches parameter name 'B'."


def test_win_powershell_errors_and_streams(machine):
    script = "Write-Host 'hi'\nWrite-Warning 'careful'\nWrite-Error 'soft'\n'after'\nthrow 'hard'\n'never'\n"
    out = mod(machine, "win_powershell", {"script": script})
    assert out["failed"] and out["output"] == ["after"] and out["host_out"] == "hi\r\n"
    assert out["warning"] == ["careful"]
    assert [i["message_data"] for i in out["information"]] == ["hi"] and out["information"][0]["tags"] == ["PSHOST"]
    soft, hard = out["error"]
    assert set(soft) == {"output", "error_details", "exception", "target_object", "category_info",
                         "fully_qualified_error_id", "script_stack_trace", "pipeline_iteration_info"}
    assert soft["exception"]["type"] == "Microsoft.PowerShell.Commands.WriteErrorException"
    assert soft["exception"]["message"] == "soft" and soft["category_info"]["category"] == "NotSpecified"
    assert hard["exception"] == {"message": "hard", "type": "System.Management.Automation.RuntimeException",
                                 "help_link": None, "source": None, "hresult": -2146233087, "inner_exception": None}
    assert hard["fully_qualified_error_id"] == "hard" and hard["category_info"]["category"] == "OperationStopped"
    out = mod(machine, "win_powershell", {"script": "Write-Error 'soft'\n'after'\n", "error_action": "stop"})
    assert out["failed"] and out["output"] == [] and out["error"][0]["exception"]["message"] == "soft"
    out = mod(machine, "win_powershell", {"script": "Write-Error 'soft'\n'after'\n",
                                          "error_action": "silently_continue"})
    assert "failed" not in out and out["output"] == ["after"] and out["error"] == []


def test_win_powershell_ansible_variable_and_check_mode(machine):
    out = mod(machine, "win_powershell", {"script": "$Ansible.Result = @{ k = 'v' }\n$Ansible.Changed = $false\n"})
    assert out["result"] == {"k": "v"} and out["changed"] is False and "failed" not in out
    assert mod(machine, "win_powershell", {"script": "$Ansible.Failed = $true"})["failed"] is True
    out = mod(machine, "win_powershell", {"script": "New-Item -Path C:\\Temp\\made -ItemType Directory"},
              check_mode=True)
    assert out["changed"] and out["msg"] == "skipped, running in check mode" and not machine.fs_exists("C:\\Temp\\made")
    script = ("[CmdletBinding(SupportsShouldProcess)]\nparam()\n"
              "if ($PSCmdlet.ShouldProcess('C:\\Temp\\made', 'Create')) { 'did' } else { 'skipped' }\n"
              "New-Item -Path C:\\Temp\\made -ItemType Directory | Out-Null\n$Ansible.CheckMode\n")
    out = mod(machine, "win_powershell", {"script": script}, check_mode=True)
    assert out["output"] == ["skipped", True] and not machine.fs_exists("C:\\Temp\\made")
    assert out["host_out"].startswith('What if: Performing the operation "Create" on target "C:\\Temp\\made".')
    assert mod(machine, "win_powershell", {"script": script})["output"] == ["did", False]
    assert machine.fs_isdir("C:\\Temp\\made")


def test_win_powershell_refusals(machine):
    out = mod(machine, "win_powershell", {"script": "Get-Process | Stop-Process"})
    assert out["failed"] and out["error"][0]["exception"]["message"].startswith(
        "simulated host: unsupported PowerShell at line 1: Get-Process | Stop-Process")
    out = mod(machine, "win_powershell", {"script": "if ($true) {"})
    assert out["failed"] and out["error"][0]["exception"]["type"] == "System.Management.Automation.ParseException"


def test_unknown_module(machine):
    out = mod(machine, "win_service", {"name": "x"})
    assert out == {"failed": True, "msg": "simulated host: module 'ansible.windows.win_service' is not emulated"}


# win_package -------------------------------------------------------------------------------------

def test_win_package_msi(machine):
    out = mod(machine, "win_package", {"path": "C:\\Installers\\tool.msi"}, check_mode=True)
    assert out["changed"] and machine.find_product(MSI) is None
    out = mod(machine, "win_package", {"path": "C:\\Installers\\tool.msi", "arguments": "ALLUSERS=1"})
    assert out["changed"] and out["rc"] == 0 and out["reboot_required"] is False and machine.find_product(MSI)
    assert out["checksum"] == hashlib.sha1(b"").hexdigest().upper()
    out = mod(machine, "win_package", {"path": "C:\\Installers\\tool.msi"})
    assert out["changed"] is False and out["rc"] == 0
    out = mod(machine, "win_package", {"product_id": MSI.lower(), "state": "absent"})
    assert out["changed"] and machine.find_product(MSI) is None
    out = mod(machine, "win_package", {"path": "C:\\Installers\\reboot.msi"})
    assert out["rc"] == 3010 and out["reboot_required"] is True and machine.pending_reboot()


def test_win_package_failures(machine):
    out = mod(machine, "win_package", {"path": "C:\\Installers\\broken.msi"})
    assert out["failed"] and out["rc"] == 1603 and {"stdout", "stderr", "log"} <= set(out)
    assert out["msg"].startswith("unexpected rc from 'C:\\Windows\\System32\\msiexec.exe /i C:\\Installers\\broken.msi ")
    out = mod(machine, "win_package", {"path": "C:\\Installers\\missing.msi"})
    assert out["msg"] == "the file at the path 'C:\\Installers\\missing.msi' cannot be reached"
    out = mod(machine, "win_package", {"path": "C:\\Installers\\tool.msi", "creates_service": "svc"})
    assert out["msg"] == "simulated host: win_package option(s) creates_service are not emulated"
    out = mod(machine, "win_package", {"state": "absent"})
    assert out["failed"] and "path, product_id" in out["msg"]
    out = mod(machine, "win_package", {"path": "\\\\fs01\\content\\tool.msi"})
    assert out["msg"] == "the file at the path '\\\\fs01\\content\\tool.msi' cannot be reached"   # the double hop


def test_win_package_exe_with_product_id(machine):
    args = {"path": "C:\\Installers\\agent.exe", "product_id": EXE_ID, "arguments": ["/quiet", "/log x y"]}
    out = mod(machine, "win_package", args)
    assert out["changed"] and machine.find_product(EXE_ID)
    assert mod(machine, "win_package", args)["changed"] is False
    out = mod(machine, "win_package", {"product_id": EXE_ID, "state": "absent"})   # its QuietUninstallString
    assert out["changed"] and machine.find_product(EXE_ID) is None


def test_win_package_from_the_web_table(machine):
    out = mod(machine, "win_package", {"path": "https://files.contoso.example/tool.msi"})
    assert out["changed"] and machine.find_product("{D1D1D1D1-0000-4000-8000-000000000009}")
    out = mod(machine, "win_package", {"path": "https://nowhere.example/x.msi"})
    assert out["failed"] and "The remote name could not be resolved: 'nowhere.example'" in out["msg"]


# win_updates ---------------------------------------------------------------------------------------

UPDATES = {"updates": {"available": [
    {"id": "u-sec", "title": "2026-11 Cumulative Update (KB5070001)", "kb": ["5070001"],
     "categories": ["Security Updates"], "mandatory": True, "reboot_required": True},
    {"id": "u-def", "title": "Defender definitions (KB2267602)", "kb": ["2267602"], "categories": ["Definition Updates"]},
    {"id": "u-next", "title": "Follow-up (KB5070002)", "kb": ["5070002"], "categories": ["Security Updates"],
     "requires": ["u-sec"]},
], "installed": []}}


def updates_round(machine, options, check_mode=False):
    """What the action plugin does: start, poll until 'exit', cancel; the records through its UpdateResult."""
    from tests.winsim.testkit import _collection_loader

    _collection_loader()
    from ansible_collections.ansible.windows.plugins.action.win_updates import UpdateResult

    start = mod(machine, "win_updates", {**options, "_operation": "start"}, check_mode=check_mode)
    assert set(start["poll_options"]) == {"pipe_name"} and set(start["cancel_options"]) == {"cancel_id", "task_pid"}
    result, tasks = UpdateResult(), []
    while not tasks or tasks[-1] != "exit":
        poll = mod(machine, "win_updates", {**options, "_operation": "poll",
                                            "_operation_options": start["poll_options"]})
        for record in poll["output"]:
            tasks.append(record["task"])
            result.process_result(record["task"], record["result"], "win01")
    mod(machine, "win_updates", {**options, "_operation": "cancel", "_operation_options": start["cancel_options"]})
    return result, tasks


def test_win_updates_protocol(tmp_path):
    m = Machine("win01", tmp_path, reboot_seconds=0.2, seed=UPDATES)
    result, tasks = updates_round(m, {"category_names": ["SecurityUpdates"]})
    assert tasks == ["started", "search_result", "download_result", "install_result", "exit"]
    assert result.selected_updates == {"u-sec"} and result.filtered_updates == {"u-def": ["category_names"]}
    assert result.changed and result.reboot_required and not result.failed
    assert result.install_results["u-sec"]["result_code"] == 2
    # A pending restart blocks the next round, as Windows Update does.
    result, _tasks = updates_round(m, {"category_names": ["SecurityUpdates"]})
    assert result.failed and result.msg == "A reboot is required before more updates can be installed"
    m.schedule_restart(0)
    time.sleep(0.4)
    result, _tasks = updates_round(m, {"category_names": ["*"], "reject_list": ["KB2267602"]})
    assert result.selected_updates == {"u-next"} and result.filtered_updates == {"u-def": ["reject_list"]}
    assert [u["id"] for u in m.state["updates"]["installed"]] == ["u-sec", "u-next"]


def test_win_updates_search_check_mode_and_refusals(tmp_path):
    m = Machine("win01", tmp_path, seed=UPDATES)
    result, tasks = updates_round(m, {"state": "searched", "category_names": ["*"]})
    assert tasks == ["started", "search_result", "exit"] and not result.changed and len(result.updates) == 2
    result, _tasks = updates_round(m, {"category_names": ["*"], "accept_list": ["Cumulative"]}, check_mode=True)
    assert result.changed and result.selected_updates == {"u-sec"} and not m.state["updates"]["installed"]
    out = mod(m, "win_updates", {"_operation": "poll", "_operation_options": {"pipe_name": "nope"}})
    assert out["failed"] and out["msg"] == "Timed out waiting for server pipe to be available"
    out = mod(m, "win_updates", {"log_path": "C:\\wu.log"})
    assert out["msg"] == "simulated host: win_updates option(s) log_path are not emulated"
    out = mod(m, "win_updates", {"_operation_options": {"wait": True}})
    assert "async" in out["msg"]


# files ---------------------------------------------------------------------------------------------

def test_win_stat(machine):
    machine.fs_write("C:\\Temp\\a.txt", b"abc")
    stat = mod(machine, "win_stat", {"path": "C:\\Temp\\a.txt"})["stat"]
    assert stat["exists"] and stat["isreg"] and stat["checksum"] == hashlib.sha1(b"abc").hexdigest()
    assert stat["size"] == 3 and stat["extension"] == ".txt" and stat["filename"] == "a.txt"
    stat = mod(machine, "win_stat", {"path": "%SystemRoot%\\System32", "get_size": False})["stat"]
    assert stat["isdir"] and stat["path"] == "C:\\Windows\\System32" and "size" not in stat
    assert mod(machine, "win_stat", {"path": "C:\\nope"})["stat"] == {"exists": False}


def test_win_file(machine):
    assert mod(machine, "win_file", {"path": "C:\\Data\\x", "state": "directory"}, check_mode=True)["changed"]
    assert not machine.fs_exists("C:\\Data\\x")
    assert mod(machine, "win_file", {"path": "C:\\Data\\x", "state": "directory"}) == {"changed": True}
    assert mod(machine, "win_file", {"path": "C:\\Data\\x", "state": "directory"}) == {"changed": False}
    assert mod(machine, "win_file", {"path": "C:\\Data\\x\\t.txt", "state": "touch"})["changed"]
    out = mod(machine, "win_file", {"path": "C:\\Data\\x\\t.txt", "state": "directory"})
    assert out["failed"] and out["msg"] == "path C:\\Data\\x\\t.txt is not a directory"
    out = mod(machine, "win_file", {"path": "C:\\Data\\y.txt", "state": "file"})
    assert out["msg"] == "path C:\\Data\\y.txt will not be created"
    assert mod(machine, "win_file", {"path": "C:\\Data", "state": "absent"})["changed"]
    assert not machine.fs_exists("C:\\Data\\x\\t.txt")


def test_win_copy_modes(machine):
    machine.fs_write("C:\\Temp\\source", b"new")
    machine.fs_write("C:\\Temp\\same.txt", b"same")
    query = mod(machine, "win_copy", {"_copy_mode": "query", "dest": "C:\\Temp", "force": True, "files": [
        {"src": "/ctl/same.txt", "dest": "same.txt", "checksum": hashlib.sha1(b"same").hexdigest()},
        {"src": "/ctl/b.txt", "dest": "b.txt", "checksum": "x"}], "directories": [{"src": "/ctl/d", "dest": "d"}]})
    assert [f["dest"] for f in query["files"]] == ["b.txt"] and query["directories"] == [{"src": "/ctl/d", "dest": "d"}]
    out = mod(machine, "win_copy", {"_copy_mode": "single", "src": "C:\\Temp\\source", "dest": "C:\\Data\\",
                                    "_original_basename": "b.txt"})
    assert out == {"changed": True} and machine.fs_read("C:\\Data\\b.txt") == b"new"
    out = mod(machine, "win_copy", {"_copy_mode": "single", "src": "C:\\Temp\\source", "dest": "C:\\No\\b.txt"})
    assert out["msg"] == "Destination directory 'C:\\No' does not exist"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr(base64.b64encode(b"sub/c.txt").decode(), "zip content")
    machine.fs_write("C:\\Temp\\source.zip", zipped.getvalue())
    assert mod(machine, "win_copy", {"_copy_mode": "explode", "src": "C:\\Temp\\source.zip", "dest": "C:\\Out"})["changed"]
    assert machine.fs_read("C:\\Out\\sub\\c.txt") == b"zip content"
    out = mod(machine, "win_copy", {"_copy_mode": "remote", "src": "C:\\Out\\sub\\c.txt", "dest": "C:\\Copy\\"})
    assert out["changed"] and out["dest"] == "C:\\Copy\\c.txt" and out["size"] == 11
    assert not mod(machine, "win_copy", {"_copy_mode": "remote", "src": "C:\\Out\\sub\\c.txt",
                                         "dest": "C:\\Copy\\"})["changed"]


def test_slurp(machine):
    machine.fs_write("C:\\Temp\\a.txt", b"abc")
    assert mod(machine, "slurp", {"src": "C:\\Temp\\a.txt"}) == {"changed": False, "content": "YWJj",
                                                                 "encoding": "base64"}
    assert mod(machine, "slurp", {"path": "C:\\Temp"})["msg"] == "Path C:\\Temp is a directory"
    assert mod(machine, "slurp", {"src": "C:\\nope"})["msg"] == "Path C:\\nope is not found"


def test_win_get_url(machine):
    out = mod(machine, "win_get_url", {"url": "https://files.contoso.example/tool.msi", "dest": "C:\\Temp"})
    assert out["changed"] and out["dest"] == "C:\\Temp\\tool.msi" and out["status_code"] == 200
    assert out["checksum_dest"] == hashlib.sha1(b"MSI-BYTES").hexdigest() and out["size"] == 9
    assert machine.fs_get("C:\\Temp\\tool.msi")["msi"]["name"] == "Web tool"
    again = mod(machine, "win_get_url", {"url": "https://files.contoso.example/tool.msi", "dest": "C:\\Temp\\tool.msi"})
    assert again["changed"] is False
    out = mod(machine, "win_get_url", {"url": "https://files.contoso.example/gone", "dest": "C:\\Temp\\g"})
    assert out["failed"] and out["status_code"] == 404 and "(404) Not Found" in out["msg"]
    out = mod(machine, "win_get_url", {"url": "https://files.contoso.example/tool.msi", "dest": "C:\\Temp\\x",
                                       "url_password": "p"})
    assert out["msg"].startswith("simulated host: win_get_url option(s) url_password")
    assert out["invocation"]["module_args"]["url_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


# registry, drives ------------------------------------------------------------------------------------

def test_win_reg_stat(machine):
    machine.reg_set("HKLM\\SOFTWARE\\Contoso", "Mask", "REG_DWORD", -1)
    machine.reg_set("HKLM\\SOFTWARE\\Contoso", "Blob", "REG_BINARY", [1, 255])
    machine.reg_create_key("HKLM\\SOFTWARE\\Contoso\\Sub")
    out = mod(machine, "win_reg_stat", {"path": "HKLM:\\SOFTWARE\\Contoso"})
    assert out["exists"] and out["sub_keys"] == ["Sub"]
    assert out["properties"]["Mask"] == {"type": "REG_DWORD", "value": 4294967295, "raw_value": 4294967295}
    assert out["properties"]["Blob"]["raw_value"] == ["0x01", "0xff"]
    assert mod(machine, "win_reg_stat", {"path": "HKLM:\\SOFTWARE\\Contoso", "name": "nope"})["exists"] is False
    assert "not a valid registry path" in mod(machine, "win_reg_stat", {"path": "HKLM\\SOFTWARE"})["msg"]


def test_win_mapped_drive(machine):
    out = mod(machine, "win_mapped_drive", {"letter": "S", "path": "\\\\fs01\\content"})
    assert out["failed"] and "Access is denied" in out["msg"]   # no credentials: the double hop
    args = {"letter": "S", "path": "\\\\fs01\\content", "username": "svc-content", "password": "Share-Test-Pass!"}
    out = mod(machine, "win_mapped_drive", args)
    assert out["changed"] and "Share-Test-Pass!" not in json.dumps(out)
    assert machine.state["mapped_drives"]["Administrator"]["S"] == {"path": "\\\\fs01\\content",
                                                                    "username": "svc-content"}
    assert mod(machine, "win_mapped_drive", args)["changed"] is False
    out = mod(machine, "win_mapped_drive", {"letter": "C", "path": "\\\\fs01\\content"})
    assert "this letter is in use" in out["msg"]
    assert mod(machine, "win_mapped_drive", {"letter": "S", "state": "absent"})["changed"]


def test_an_update_that_rolls_back_is_offered_again_after_the_restart(tmp_path):
    m = Machine("win01", tmp_path, reboot_seconds=0.1, seed={"updates": {"available": [
        {"id": "u-bad", "title": "Bad driver (KB5070009)", "kb": ["5070009"], "categories": ["Critical Updates"],
         "reboot_required": True, "rolls_back": True}], "installed": []}})
    result, _tasks = updates_round(m, {})
    assert result.install_results["u-bad"]["result_code"] == 2 and result.reboot_required
    m.schedule_restart(0)
    time.sleep(0.3)
    assert [u["id"] for u in m.state_snapshot()["updates"]["available"]] == ["u-bad"]
