"""run_command_line and run_powershell_script against a recorded host (ansible.windows.win_command)."""

from __future__ import annotations

import base64
import json

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _cmdline
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import project_script


def test_command_line_one_win_command_with_environment(run_step, make_process_host, remote_params):
    host = make_process_host(rc=0, stdout="hello\r\n")
    res = run_step("run_command_line", {"command_line": r"C:\Tools\greet.exe %Greeting%", "start_in": r"C:\Work"},
                   task_vars={"tsenv": {"Greeting": "hello"}}, host=host)
    p = remote_params(host)
    assert p["cmd"] == r"C:\Tools\greet.exe hello" and "argv" not in p   # verbatim, as CreateProcess gets it
    assert p["chdir"] == r"C:\Work"
    assert p["environment"]["Greeting"] == "hello"
    assert p["environment"]["_SMSTSCurrentActionName"] == "Step"
    assert p["_sensitive"] is False
    assert res["rc"] == 0 and res["stdout"] == "hello\r\n" and not res.get("failed")
    assert res["reboot_required"] is False
    assert run_step.action._task.environment == []   # the task's own environment is given back


def test_command_line_goes_verbatim_with_its_working_folder(run_step, make_process_host, remote_params):
    # win_command resolves setup.exe on PATH, then in chdir: no re-quoting of the arguments.
    host = make_process_host()
    line = 'setup.exe /S /D="C:\\Program Files\\App" PROP="a b"'
    run_step("run_command_line", {"command_line": line, "start_in": r"C:\Pkg"}, host=host)
    p = remote_params(host)
    assert p["cmd"] == line and "argv" not in p
    assert p["chdir"] == r"C:\Pkg"


def test_wow64_redirection_is_configmgr_default(run_step, make_process_host, remote_params):
    host = make_process_host()
    run_step("run_command_line", {"command_line": r"C:\Windows\System32\reg.exe query HKLM"}, host=host)
    assert remote_params(host)["cmd"] == r"C:\Windows\SysWOW64\reg.exe query HKLM"
    host = make_process_host()
    run_step("run_command_line", {"command_line": r"C:\Windows\System32\reg.exe query HKLM",
                                  "disable_wow64_redirection": True}, host=host)
    assert remote_params(host)["cmd"] == r"C:\Windows\System32\reg.exe query HKLM"


def test_3010_is_success_and_asks_for_reboot(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "setup.exe"}, host=make_process_host(rc=3010))
    assert not res.get("failed") and res["reboot_required"] is True
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionRetCode"] == "3010"


def test_rc_outside_success_codes_fails(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "setup.exe", "success_codes": [0]}, host=make_process_host(rc=3010))
    assert res["failed"] is True and "3010" in res["msg"]
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionSucceeded"] == "false"


def test_nonzero_success_code_is_success_though_win_command_failed(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "tool.exe", "success_codes": [0, 5]}, host=make_process_host(rc=5))
    assert not res.get("failed") and res["rc"] == 5


def test_continue_on_error_keeps_facts_flowing(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "bad.exe", "continue_on_error": True}, host=make_process_host(rc=5))
    assert not res.get("failed") and res["step_failed"] is True
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionSucceeded"] == "false"
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionRetCode"] == "5"


def test_timeout_stops_the_remote_command_and_closes_the_shell(run_step, make_process_host):
    host = make_process_host(seconds=5)
    answer = host.handler

    def handler(name, args):   # a WinRM connection with a shell open when the time runs out
        connection = host.action._connection
        connection.shell_id = "shell-1"
        connection.reset.side_effect = lambda: setattr(connection, "shell_id", "shell-2")
        return answer(name, args)

    host.handler = handler
    res = run_step("run_command_line", {"command_line": "slow.exe", "timeout": 1}, host=host)
    assert res["failed"] and res["rc"] == 1460 and res["timed_out"] is True
    connection = run_step.action._connection
    connection.reset.assert_called_once()                              # a fresh session for what follows
    connection.protocol.close_shell.assert_called_once_with("shell-1")  # the old shell (and its job) goes


def test_not_found_is_rc_2(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "nope.exe"}, host=make_process_host(not_found=True))
    assert res["failed"] and res["rc"] == 2 and "cannot find the file" in res["msg"]


def test_output_variable_keeps_last_1000_chars(run_step, make_process_host):
    out = "a" * 500 + "b" * 1000
    res = run_step("run_command_line", {"command_line": "x.exe", "output_variable": "Out"}, host=make_process_host(stdout=out))
    assert res["ansible_facts"]["tsenv"]["Out"] == "b" * 1000


@pytest.mark.parametrize("args,needle", [
    ({"command_line": "x", "timeout": 0}, "timeout:"),
    ({"command_line": "x", "timeout": 60000}, "timeout:"),
    ({"command_line": "   "}, "command_line:"),
    ({"command_line": "x" * 32001}, "command_line:"),
    ({"command_line": "x", "output_variable": "_Bad"}, "output_variable:"),
    ({"command_line": "x", "run_as_user": "u"}, "run_as_password"),
    ({"command_line": "x", "start_in": "C:\\", "package_id": "P01"}, "start_in: 'C:\\\\' is a full path"),
])
def test_bad_options_fail_before_the_host(run_step, make_process_host, args, needle):
    host = make_process_host()
    with pytest.raises(AnsibleActionFail, match=needle):
        run_step("run_command_line", args, host=host)
    assert host.calls == []


def test_check_mode_runs_nothing(run_step, make_process_host):
    host = make_process_host()
    res = run_step("run_command_line", {"command_line": "format.exe D:"}, host=host, check_mode=True)
    assert host.calls == [] and res["changed"] is True and "would run format.exe D:" in res["msg"]


def test_package_id_uses_recorded_location(run_step, make_process_host, remote_params):
    host = make_process_host()
    run_step("run_command_line", {"command_line": "setup.exe", "package_id": "ps100001"},
             task_vars={"tsenv_packages": {"PS100001": r"C:\_SMSTaskSequence\Packages\PS100001"}}, host=host)
    assert remote_params(host)["chdir"] == r"C:\_SMSTaskSequence\Packages\PS100001"
    host = make_process_host()
    run_step("run_command_line", {"command_line": "setup.exe", "package_id": "ps100001", "start_in": "bin\\x64"},
             task_vars={"tsenv_packages": {"PS100001": r"C:\_SMSTaskSequence\Packages\PS100001"}}, host=host)
    assert remote_params(host)["chdir"] == r"C:\_SMSTaskSequence\Packages\PS100001\bin\x64"
    res = run_step("run_command_line", {"command_line": "setup.exe", "package_id": "PS199999"}, host=make_process_host())
    assert res["failed"] and "package_id: no content location is known" in res["msg"]


def test_hidden_values_reach_the_process_but_not_the_result(run_step, make_process_host, remote_params):
    first = run_step("set_task_sequence_variable", {"name": "Pw", "value": "Hunter2!x", "hidden": True})
    facts = first["ansible_facts"]
    host = make_process_host(stdout="password is Hunter2!x\n")
    res = run_step("run_command_line", {"command_line": "tool.exe /p:%Pw%", "output_variable": "Out"},
                   task_vars=facts, host=host)
    p = remote_params(host)
    assert p["cmd"] == "tool.exe /p:Hunter2!x"
    assert p["environment"]["Pw"] == "Hunter2!x"
    assert p["_sensitive"] is True   # no_log: Ansible.Basic censors the invocation
    assert "Hunter2!x" not in json.dumps(res)
    assert res["cmd"] == "tool.exe /p:********"
    assert res["ansible_facts"]["tsenv"]["Out"] == "********" and "Out" in res["ansible_facts"]["tsenv_hidden"]
    assert run_step.action._task.no_log is False  # restored after the sensitive call


def test_run_as_password_scrubbed_and_become_restored(run_step, make_process_host):
    host = make_process_host(stdout="using Pa55word\n")
    res = run_step("run_command_line", {"command_line": "whoami", "run_as_user": "deploy", "run_as_password": "Pa55word"},
                   host=host)
    assert "Pa55word" not in json.dumps(res)
    assert run_step.action._connection.become is None


def _request(p) -> dict:
    return json.loads(p["stdin"])


def test_powershell_call_is_run_script_through_win_command(run_step, make_process_host, remote_params):
    host = make_process_host(stdout="ok\n")
    res = run_step("run_powershell_script", {"script": "Write-Output ok", "execution_policy": "AllSigned"}, host=host)
    p = remote_params(host)
    argv = p["argv"]
    assert argv[:4] == ["powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive"]
    assert argv[4:6] == ["-ExecutionPolicy", "AllSigned"] and argv[6] == "-EncodedCommand"
    assert base64.b64decode(argv[7]).decode("utf-16-le") == project_script("run_script")
    assert _request(p) == {"script": "Write-Output ok", "path": None, "parameters": None}
    assert res["rc"] == 0 and res["stdout"] == "ok\n"


def test_powershell_dict_parameters_are_data_not_code(run_step, make_process_host, remote_params):
    host = make_process_host(stdout="ok\n")
    res = run_step("run_powershell_script", {"script": "param($Site, [switch]$Force, $Owner)\nWrite-Output ok",
                                             "parameters": {"Site": "%Site%", "Force": True, "Owner": "%Owner%",
                                                            "Ports": [80, 443]}},
                   task_vars={"tsenv": {"Site": "LON", "Owner": "O'Neil'; Remove-Item C:\\x; '"}}, host=host)
    p = remote_params(host)
    # Expanded after nothing was quoted: the apostrophes arrive as data, splatted by run_script.ps1.
    assert _request(p)["parameters"] == {"Site": "LON", "Force": True, "Owner": "O'Neil'; Remove-Item C:\\x; '",
                                         "Ports": [80, 443]}
    assert p["_sensitive"] is True   # parameters are not logged unless asked
    assert "LON" not in res["cmd"] and "parameters not logged" in res["cmd"]


def test_powershell_string_parameters_logged_when_asked(run_step, make_process_host, remote_params):
    host = make_process_host()
    res = run_step("run_powershell_script", {"script": "Write-Output 1", "parameters": "-Name '%Who%'",
                                             "execution_policy": "Undefined", "log_parameters": True},
                   task_vars={"tsenv": {"Who": "Ann"}}, host=host)
    p = remote_params(host)
    assert "-ExecutionPolicy" not in p["argv"]
    assert _request(p)["parameters"] == "-Name 'Ann'"
    assert res["cmd"] == "powershell.exe & '<inline script>' -Name 'Ann'"


def test_powershell_script_from_package(run_step, make_process_host, remote_params):
    host = make_process_host()
    run_step("run_powershell_script", {"script_name": "Fix.ps1", "package_id": "P0100001", "start_in": r"D:\Work"},
             task_vars={"tsenv_packages": {"P0100001": r"D:\Content\P0100001"}}, host=host)
    p = remote_params(host)
    assert _request(p) == {"script": None, "path": r"D:\Content\P0100001\Fix.ps1", "parameters": None}
    assert p["chdir"] == r"D:\Work"


def test_powershell_exit_code_judged_by_success_codes(run_step, make_process_host):
    res = run_step("run_powershell_script", {"script": "exit 7", "success_codes": [0, 7]}, host=make_process_host(rc=7))
    assert not res.get("failed") and res["rc"] == 7


@pytest.mark.parametrize("args,needle", [
    ({}, "one of the following is required: script, script_name"),
    ({"script": "x", "script_name": "a.ps1"}, "mutually exclusive"),
    ({"script_name": "a.bat"}, "must name a .ps1 file"),
    ({"script": "x", "execution_policy": "Unrestricted"}, "execution_policy"),
    ({"script": "x", "parameters": ["-a"]}, "parameters: is a list"),
    ({"script": "x", "parameters": {"bad name": 1}}, "not a PowerShell parameter name"),
    ({"script": "x", "parameters": {"Opts": {"a": 1}}}, "parameters.Opts: a dict"),
    ({"script": "x", "timeout": 59941}, "timeout: 59941 is out of range"),
])
def test_powershell_bad_options(run_step, make_process_host, args, needle):
    host = make_process_host()
    with pytest.raises(AnsibleActionFail, match=needle):
        run_step("run_powershell_script", args, host=host)
    assert host.calls == []


def test_split_program_takes_the_first_token_without_escapes():
    assert _cmdline.split_program(r'"C:\Program Files\x\setup.exe" /s "a b"') == (r"C:\Program Files\x\setup.exe", '/s "a b"')
    assert _cmdline.split_program("  tool.exe") == ("tool.exe", "")
