"""The simulated machine without the network: state, restarts, payloads, programs, PowerShell subset."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest

from tests.winsim import payload, programs, pwsh, scripts
from tests.winsim.machine import ExecResult, Machine


class Stdin:
    def __init__(self, data=b""):
        self.data = data

    def read_all(self, timeout=None):
        return self.data


def run(machine, line, stdin=b""):
    return machine.execute(line, Stdin(stdin), user="Administrator", cancel=threading.Event())


def encoded(script: str) -> str:
    return ("PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
            + base64.b64encode(script.encode("utf-16-le")).decode())


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path, reboot_seconds=0.5)


def test_state_persists_across_instances(tmp_path):
    m = Machine("win01", tmp_path)
    run(m, "cmd.exe /c mkdir C:\\Kept")
    again = Machine("win01", tmp_path)
    assert "c:\\kept" in again.state["files"]


def test_hosts_differ_and_seed_merges(tmp_path):
    a = Machine("win01", tmp_path, index=0)
    b = Machine("win02", tmp_path, index=1, seed={"hardware": {"model": "Seeded"}})
    assert a.state["hardware"]["serial_number"] != b.state["hardware"]["serial_number"]
    assert b.state["hardware"]["model"] == "Seeded" and b.state["hardware"]["make"] == "HP"


def test_restart_life_cycle(machine):
    boot, boot_time = machine.boot_id(), machine.boot_time()
    machine.state["boot"]["pending_reboot"] = True
    assert machine.schedule_restart(0.2)
    assert not machine.schedule_restart(1)          # 1190: already scheduled
    assert machine.is_up()
    time.sleep(0.3)
    assert not machine.is_up()                      # down for reboot_seconds
    time.sleep(0.5)
    assert machine.is_up() and machine.boot_id() == boot + 1
    assert machine.boot_time() > boot_time
    assert machine.state["boot"]["pending_reboot"] is False


def test_win_reboot_raw_commands(machine):
    res = run(machine, encoded("(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)"
                               ".LastBootUpTime.ToFileTime(); If (-not $?) { exit 1 }"))
    assert res.rc == 0 and int(res.stdout) > 130_000_000_000_000_000
    res = run(machine, encoded("$x = 1\n$stderr = . { C:\\Windows\\System32\\shutdown.exe /r /t 0 /c 'bye' "
                               "| Set-Variable stdout } 2>&1\nRemove-Item -LiteralPath 'x'"))
    assert json.loads(res.stdout)["rc"] == 0
    res = run(machine, encoded("$x = 1\n. { C:\\Windows\\System32\\shutdown.exe /r /t 5 /c 'again' }"))
    assert json.loads(res.stdout)["rc"] == 1190


def test_unknown_raw_powershell_is_refused(machine):
    res = run(machine, encoded("Get-Process | Stop-Process"))
    assert res.rc == 1 and b"only recognised scripts are emulated" in res.stderr


def _module_payload(module: str, args: dict, become: tuple | None = None) -> bytes:
    """A real exec payload, built by ansible-core itself."""
    import os

    from ansible.executor.powershell import module_manifest

    root = os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "collections", "ansible_collections",
                        "ansible", "windows", "plugins", "modules")
    path = os.path.join(root, f"{module}.ps1")
    become_plugin = None
    if become:
        from ansible.plugins.loader import become_loader

        become_plugin = become_loader.get("runas")
        become_plugin.set_options(direct={"become_user": become[0], "become_pass": become[1]})
    return module_manifest._create_powershell_wrapper(
        name=f"ansible_collections.ansible.windows.plugins.modules.{module}", module_data=open(path, "rb").read(),
        module_path=path, module_args=args, environment={"TS_X": "1"}, async_timeout=0, become_plugin=become_plugin,
        substyle="powershell", task_vars={}, profile="legacy")


def test_real_exec_payload_runs_a_module(machine):
    from ansible.executor.powershell.module_manifest import _get_powershell_script

    bootstrap = _get_powershell_script("bootstrap_wrapper.ps1").decode()
    res = run(machine, encoded(bootstrap), _module_payload("win_ping", {"data": "hi"}))
    out = json.loads(res.stdout)
    assert res.rc == 0 and out["ping"] == "hi" and out["invocation"]["module_args"]["data"] == "hi"
    assert machine.counters_snapshot()["modules"] == {"ansible.windows.win_ping": 1}


def test_become_with_a_wrong_password_fails_like_logonuser(machine):
    from ansible.executor.powershell.module_manifest import _get_powershell_script

    bootstrap = _get_powershell_script("bootstrap_wrapper.ps1").decode()
    res = run(machine, encoded(bootstrap), _module_payload("win_ping", {}, become=("deploy", "nope")))
    assert json.loads(res.stdout)["failed"] and b"1326" in res.stdout


def test_no_log_options_masked_in_invocation(machine):
    from tests.winsim.modules import run as run_module

    inv = payload.Invocation("ansible.windows.win_powershell", {
        "script": "# tasksequence.windows script: run_process\n", "parameters": {"working_directory": None},
        "sensitive_parameters": [{"name": "sensitive_payload", "value": json.dumps(
            {"command_line": "cmd.exe /c echo s3cret", "environment": {}, "powershell": None})}]}, {}, "Administrator")
    out = run_module(machine, inv, threading.Event())
    assert out["output"][0]["stdout"] == "s3cret\r\n"
    assert "s3cret" not in json.dumps(out["invocation"])


def test_arbitrary_powershell_refused_by_win_powershell(machine):
    from tests.winsim.modules import run as run_module

    out = run_module(machine, payload.Invocation("ansible.windows.win_powershell", {"script": "Get-Date"}, {}, "x"),
                     threading.Event())
    assert out["failed"] and "cannot run arbitrary PowerShell" in out["msg"]


def test_unknown_module_named(machine):
    from tests.winsim.modules import run as run_module

    out = run_module(machine, payload.Invocation("ansible.windows.win_dsc", {}, {}, "x"), threading.Event())
    assert out == {"failed": True, "msg": "simulated host: module 'ansible.windows.win_dsc' is not emulated"}


@pytest.mark.parametrize("line,rc,out", [
    ("cmd.exe /c echo a&& exit /b 3", 3, b"a\r\n"),
    ("cmd.exe /c type C:\\nofile.txt || echo recovered", 0, b"recovered\r\n"),
    ("cmd.exe /c exit 1 || echo never", 1, b""),
    ("cmd.exe /c nosuchthing", 9009, b""),
    ("cmd.exe /c set COMPUTERNAME", 0, b"COMPUTERNAME=WIN01\r\n"),
    ("hostname", 0, b"WIN01\r\n"),
    ("C:\\Windows\\System32\\whoami.exe", 0, b"win01\\administrator\r\n"),
])
def test_programs(machine, line, rc, out):
    res = programs.run_command_line(machine, line, env={}, cwd=None, user="Administrator", cancel=threading.Event())
    assert res.rc == rc and res.stdout == out


def test_missing_program_is_windows_error_2(machine):
    res = programs.run_command_line(machine, "nope.exe", env={}, cwd=None, user="x", cancel=threading.Event())
    assert res.rc == 2 and b"cannot find the file specified" in res.stderr


def test_declared_program_and_msi_effects(tmp_path):
    seed = {"files": {
        "c:\\i\\setup.exe": {"path": "C:\\i\\setup.exe", "type": "file", "program": {
            "rc": 3010, "stdout": "installed {args}", "effects": [{"install_product": {
                "product_code": "{AAAA0000-0000-0000-0000-000000000001}", "name": "Agent", "version": "2.0"}},
                {"request_reboot": True}]}},
        "c:\\i\\tool.msi": {"path": "C:\\i\\tool.msi", "type": "file", "msi": {
            "product_code": "{BBBB0000-0000-0000-0000-000000000002}", "name": "Tool", "version": "1.1"}}}}
    m = Machine("win01", tmp_path, seed=seed)
    res = programs.run_command_line(m, "C:\\i\\setup.exe /quiet", env={}, cwd=None, user="x", cancel=threading.Event())
    assert (res.rc, res.stdout) == (3010, b"installed /quiet")
    assert "{AAAA0000-0000-0000-0000-000000000001}" in m.state["products"] and m.state["boot"]["pending_reboot"]
    res = programs.run_command_line(m, 'msiexec.exe /i "C:\\i\\tool.msi" /qn', env={}, cwd=None, user="x",
                                    cancel=threading.Event())
    assert res.rc == 0 and "{BBBB0000-0000-0000-0000-000000000002}" in m.state["products"]
    res = programs.run_command_line(m, "msiexec.exe /x {CCCC0000-0000-0000-0000-000000000003} /qn", env={}, cwd=None,
                                    user="x", cancel=threading.Event())
    assert res.rc == 1605


def _ctx(machine, env=None):
    return programs.Context(machine, programs.process_env(machine, env), "C:\\Temp", "Administrator", threading.Event())


def _put(machine, path, text):
    machine.state["files"][path.lower()] = {"path": path, "type": "file", "content_b64": base64.b64encode(text.encode()).decode()}


def test_pwsh_subset_params_and_exit(machine):
    _put(machine, "C:\\Temp\\a.ps1", "param([string]$Name, [switch]$Loud, $Count = 2)\n"
         "$greeting = \"hi $Name\"\nif ($Loud) { Write-Output 'LOUD' } else { Write-Output 'quiet' }\n"
         "Write-Output \"$greeting x$Count env=$env:TS_X\"\nexit 5\n")
    res = pwsh.run_script_file(_ctx(machine, {"TS_X": "7"}), "C:\\Temp\\a.ps1", "-Name 'O''Neil' -Loud", "Bypass")
    assert res.rc == 5 and res.stdout == b"LOUD\r\nhi O'Neil x2 env=7\r\n"


def test_pwsh_subset_refuses_what_it_does_not_know(machine):
    _put(machine, "C:\\Temp\\b.ps1", "Write-Output 'one'\nGet-Process | Stop-Process\n")
    res = pwsh.run_script_file(_ctx(machine), "C:\\Temp\\b.ps1", "", "Bypass")
    assert res.rc == 1 and b"unsupported PowerShell at line 2" in res.stderr


def test_pwsh_allsigned_refuses_unsigned(machine):
    _put(machine, "C:\\Temp\\c.ps1", "Write-Output 'x'\n")
    res = pwsh.run_script_file(_ctx(machine), "C:\\Temp\\c.ps1", "", "AllSigned")
    assert res.rc == 1 and b"is not digitally signed" in res.stderr


def test_run_process_timeout_kills(machine):
    inv = payload.Invocation("x", {}, {}, "Administrator")
    start = time.time()
    out, _errors = scripts.run(machine, "run_process", {"timeout_seconds": 1, "payload_json": json.dumps(
        {"command_line": "ping.exe -n 20 127.0.0.1", "environment": {}, "powershell": None})}, inv, threading.Event())
    assert out[0]["timed_out"] and out[0]["rc"] is None and time.time() - start < 5


def test_hardware_inventory_matches_the_contract(machine):
    out, _errors = scripts.run(machine, "hardware_inventory", {}, payload.Invocation("x", {}, {}, "a"), threading.Event())
    hw = out[0]
    assert set(hw) == {"boot_time", "computer_name", "make", "model", "serial_number", "asset_tag", "uuid",
                       "mac_addresses", "ip_addresses", "default_gateways", "memory_mb", "cpu_mhz",
                       "system_drive_free_mb", "os", "configmgr_client_version", "on_ac_power", "network_adapters",
                       "uefi", "tpm"}
    assert set(hw["os"]) == {"caption", "version", "product_type", "architecture", "language", "lcid"}


def test_exec_result_is_plain_data():
    assert ExecResult(b"a", b"", 0).rc == 0
