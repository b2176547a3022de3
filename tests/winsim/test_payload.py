"""What arrives over WinRM, built by ansible-core and ansible.windows themselves, decoded and dispatched."""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
import threading

import pytest

from tests.winsim import payload
from tests.winsim.machine import DEPLOY_PASSWORD, LOGON_UI_KEY, Machine
from tests.winsim.testkit import (
    Stdin,
    bootstrap_line,
    core_script_payload,
    encoded,
    module_payload,
    raw_encoded,
    run,
    run_module,
)


@pytest.fixture
def machine(tmp_path):
    return Machine("win01", tmp_path, reboot_seconds=0.3)


def test_decodes_encoded_commands():
    assert payload.decode_encoded(raw_encoded("hostname")) == "hostname"
    assert payload.decode_encoded("powershell.exe -e " + base64.b64encode("x".encode("utf-16-le")).decode()) == "x"
    assert payload.decode_encoded("cmd.exe /c echo") is None
    assert payload.decode_encoded("PowerShell -EncodedCommand !!!") is None
    assert payload.decode_encoded("PowerShell -EncodedCommand QUJD") == ""   # base64, but not UTF-16LE text


def test_recognises_the_bootstrap_wrapper_and_splits_the_payload():
    assert payload.is_bootstrap(payload.decode_encoded(bootstrap_line()))
    boot, manifest, extra = payload.split_payload(module_payload("win_ping", {"data": "x"}))
    assert boot["name"] == "exec_wrapper" and extra == b""
    last = manifest["actions"][-1]
    assert last["name"] == "module_wrapper.ps1"
    assert payload.module_name(last["params"]["Script"]) == "ansible.windows.win_ping"
    assert last["params"]["Variables"][0]["Value"]["data"] == "x"


def test_module_run_counts_and_result(machine):
    out, rc = run_module(machine, "win_ping", {"data": "hi"})
    assert rc == 0 and out["ping"] == "hi" and out["changed"] is False
    assert out["invocation"] == {"module_args": {"data": "hi"}}
    c = machine.counters_snapshot()
    assert c["modules"] == {"ansible.windows.win_ping": 1} and c["executions"] == 1 and c["raw"] == 0


def test_module_environment_reaches_programs(machine):
    out, _rc = run_module(machine, "win_command", {"cmd": "cmd.exe /c echo %TS_SITE%"}, environment={"TS_SITE": "Berlin"})
    assert out["stdout"] == "Berlin\r\n"


def test_become_runs_as_the_other_account(machine):
    out, rc = run_module(machine, "win_command", {"cmd": "whoami"}, become=("deploy", DEPLOY_PASSWORD))
    assert rc == 0 and out["stdout"] == "win01\\deploy\r\n"


def test_become_with_a_wrong_password_fails_like_logonuser(machine):
    res = run(machine, bootstrap_line(), module_payload("win_ping", {}, become=("deploy", "not-it")))
    out = json.loads(res.stdout)
    assert res.rc == 1 and out["failed"]
    assert out["msg"].startswith("failure during exec_wrapper: ")
    assert "Failed to logon .\\deploy (The user name or password is incorrect, Win32ErrorCode 1326" in out["msg"]


def test_async_is_refused_clearly(machine):
    res = run(machine, bootstrap_line(), module_payload("win_ping", {}, async_timeout=30))
    assert res.rc == 1 and b"async tasks (async_wrapper.ps1) are not emulated" in res.stderr


def test_bad_stdin_is_refused(machine):
    res = run(machine, bootstrap_line(), b"not a manifest")
    assert res.rc == 1 and b"no exec manifest" in res.stderr


def test_put_and_fetch_file_as_the_winrm_plugin_does(machine):
    data = bytes(range(256)) * 5000   # over one base64 line
    chunks = [data[i:i + 250000] for i in range(0, len(data), 250000)]
    line, stdin = core_script_payload("winrm_put_file.ps1", {"Path": "C:\\Temp\\blob.bin"}, chunks)
    res = run(machine, line, stdin)
    assert res.rc == 0 and json.loads(res.stdout) == {"sha1": hashlib.sha1(data).hexdigest()}
    line, stdin = core_script_payload("winrm_fetch_file.ps1",
                                      {"Path": "C:\\Temp\\blob.bin", "BufferSize": 524288, "Offset": 524288})
    res = run(machine, line, stdin)
    assert base64.b64decode(res.stdout) == data[524288:524288 * 2]
    line, stdin = core_script_payload("winrm_fetch_file.ps1", {"Path": "C:\\Temp", "BufferSize": 10, "Offset": 0})
    assert run(machine, line, stdin).stdout.strip() == b"[DIR]"
    line, stdin = core_script_payload("winrm_fetch_file.ps1", {"Path": "C:\\nope", "BufferSize": 10, "Offset": 0})
    res = run(machine, line, stdin)
    assert res.rc == 1 and b"does not exist" in res.stderr
    line, stdin = core_script_payload("winrm_put_file.ps1", {"Path": "Q:\\x\\y.bin"}, [b"x"])
    assert run(machine, line, stdin).rc == 1
    assert machine.counters_snapshot()["raw"] == 5


def test_mkdtemp_expand_user_and_temp_removal(machine):
    from ansible.plugins.loader import shell_loader

    shell = shell_loader.get("powershell")
    shell.set_options(var_options={}, direct={"remote_tmp": "%TEMP%"})
    cmd = shell._mkdtemp2("ansible-tmp-1", tmpdir="%TEMP%")
    res = run(machine, cmd.command, cmd.input_data)
    path = res.stdout.decode().strip()
    assert res.rc == 0 and path == "C:\\Users\\Administrator\\AppData\\Local\\Temp\\ansible-tmp-1"
    assert machine.fs_isdir(path)
    cmd = shell._expand_user2("~\\x")
    assert run(machine, cmd.command, cmd.input_data, user="deploy").stdout.strip() == b"C:\\Users\\deploy\\x"
    assert run(machine, shell.remove(path, recurse=True)).rc == 0
    assert not machine.fs_exists(path)


def test_raw_commands_run_by_the_powershell_subset(machine):
    res = run(machine, encoded("hostname"))
    assert (res.rc, res.stdout) == (0, b"WIN01\r\n")
    res = run(machine, encoded("cmd.exe /c exit 3", preserve_rc=True))
    assert res.rc == 3
    res = run(machine, encoded("cmd.exe /c exit 3"))
    assert res.rc == 1   # powershell -EncodedCommand: 1 when the last statement failed
    res = run(machine, encoded("Get-Process | Stop-Process"))
    assert res.rc == 1 and b"simulated host: unsupported PowerShell at line 1: Get-Process | Stop-Process" in res.stderr


class FakeConnection:
    """Enough of a connection plugin for ansible.windows' reboot helper, straight to the machine."""

    def __init__(self, machine):
        self.machine = machine

    def exec_command(self, cmd, in_data=None, sudoable=True):
        from ansible.errors import AnsibleConnectionFailure

        if not self.machine.is_up():
            raise AnsibleConnectionFailure("connection refused")
        res = self.machine.execute(cmd, Stdin(in_data or b""), user="Administrator", cancel=threading.Event())
        return res.rc, res.stdout, res.stderr

    def get_option(self, name):
        raise KeyError(name)

    def close(self):
        pass

    def reset(self):
        pass


def test_win_reboot_protocol_with_the_real_helper(machine):
    from tests.winsim.testkit import _collection_loader

    _collection_loader()
    from ansible_collections.ansible.windows.plugins.plugin_utils import _reboot

    before = machine.boot_id()
    result = _reboot.reboot_host("ansible.windows.win_reboot", FakeConnection(machine), pre_reboot_delay=0,
                                 reboot_timeout=30)
    assert result["failed"] is False and result["rebooted"] is True, result
    assert machine.boot_id() == before + 1
    assert machine.state["boot"]["shutdown_message"] is None


def test_win_reboot_commands(machine):
    from tests.winsim.testkit import _collection_loader

    _collection_loader()
    from ansible_collections.ansible.windows.plugins.plugin_utils import _reboot

    conn = FakeConnection(machine)
    boot = _reboot._get_system_boot_time("t", conn, _reboot._DEFAULT_BOOT_TIME_COMMAND)
    assert int(boot) > 130_000_000_000_000_000
    machine.schedule_restart(60)
    from ansible_collections.ansible.windows.plugins.plugin_utils._quote import quote_pwsh

    # The shutdown script exactly as reboot_host builds it (its template, taken from its source).
    template = re.search(r'reboot_command = r"""(.*?)""" %', inspect.getsource(_reboot.reboot_host), re.S).group(1)
    script = template % ("True", _reboot._LOGON_UI_KEY, 2, quote_pwsh("It's time"))
    rc, out, _err = _reboot._execute_command("t", conn, script)
    assert rc == 0 and json.loads(out)["rc"] == 1190   # one is already scheduled
    assert machine.reg_key(LOGON_UI_KEY) is None
    rc, _out, _err = _reboot._execute_command("t", conn, r"C:\Windows\System32\shutdown.exe /a")
    assert rc == 0
    rc, out, _err = _reboot._execute_command("t", conn, script)
    assert json.loads(out) == {"stdout": "", "stderr": "", "rc": 0}
    assert machine.state["boot"]["shutdown_message"] == "It's time"
    with pytest.raises(_reboot._TestCommandFailure):   # LogonUI has not recreated its key yet
        _reboot._run_test_command("t", conn, f"Get-Item -LiteralPath '{_reboot._LOGON_UI_KEY}' -ErrorAction Stop; "
                                             "'success-0a1b2c3d-0000-4000-8000-000000000000'",
                                  expected="success-0a1b2c3d-0000-4000-8000-000000000000")
