"""run_command_line and run_powershell_script against a recorded host."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleActionFail


def test_command_line_one_execution_with_environment(run_step, make_process_host, remote_params):
    host = make_process_host(rc=0, stdout="hello\r\n")
    res = run_step("run_command_line", {"command_line": "cmd /c echo %Greeting%", "start_in": r"C:\Work"},
                   task_vars={"tsenv": {"Greeting": "hello"}}, host=host)
    p = remote_params(host)
    assert p["command_line"] == "cmd /c echo hello"
    assert p["working_directory"] == r"C:\Work"
    assert p["environment"]["Greeting"] == "hello"
    assert p["environment"]["_SMSTSCurrentActionName"] == "Step"
    assert p["redirect_wow64"] is True  # ConfigMgr default: redirection on
    assert p["_sensitive"] is False
    assert res["rc"] == 0 and res["stdout"] == "hello\r\n" and not res.get("failed")
    assert res["reboot_required"] is False


def test_3010_is_success_and_asks_for_reboot(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "setup.exe"}, host=make_process_host(rc=3010))
    assert not res.get("failed") and res["reboot_required"] is True
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionRetCode"] == "3010"


def test_rc_outside_success_codes_fails(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "setup.exe", "success_codes": [0]}, host=make_process_host(rc=3010))
    assert res["failed"] is True and "3010" in res["msg"]
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionSucceeded"] == "false"


def test_continue_on_error_keeps_facts_flowing(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "bad.exe", "continue_on_error": True}, host=make_process_host(rc=5))
    assert not res.get("failed") and res["step_failed"] is True
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionSucceeded"] == "false"
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionRetCode"] == "5"


def test_timeout_and_not_found(run_step, make_process_host, remote_params):
    res = run_step("run_command_line", {"command_line": "slow.exe", "timeout": 60}, host=make_process_host(timed_out=True))
    assert res["failed"] and res["rc"] == 1460 and res["timed_out"] is True
    assert remote_params(run_step.host)["timeout_seconds"] == 60
    res = run_step("run_command_line", {"command_line": "nope.exe"},
                   host=make_process_host(command_found=False, stderr="The system cannot find the file specified"))
    assert res["failed"] and res["rc"] == 2 and "cannot find" in res["msg"]


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
    ({"command_line": "x", "start_in": "C:\\", "package_id": "P01"}, "mutually exclusive"),
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
    assert remote_params(host)["working_directory"] == r"C:\_SMSTaskSequence\Packages\PS100001"
    res = run_step("run_command_line", {"command_line": "setup.exe", "package_id": "PS199999"}, host=make_process_host())
    assert res["failed"] and "package_id: no content location is known" in res["msg"]


def test_hidden_values_reach_the_process_but_not_the_result(run_step, make_process_host, remote_params):
    first = run_step("set_task_sequence_variable", {"name": "Pw", "value": "Hunter2!x", "hidden": True})
    facts = first["ansible_facts"]
    host = make_process_host(stdout="password is Hunter2!x\n")
    res = run_step("run_command_line", {"command_line": "tool.exe /p:%Pw%", "output_variable": "Out"},
                   task_vars=facts, host=host)
    p = remote_params(host)
    assert p["command_line"] == "tool.exe /p:Hunter2!x"
    assert p["environment"]["Pw"] == "Hunter2!x"
    assert p["_sensitive"] is True and "Hunter2!x" not in json.dumps(host.calls[0]["args"]["parameters"])
    assert host.calls and "Hunter2!x" not in json.dumps(res)
    assert res["cmd"] == "tool.exe /p:********"
    assert res["ansible_facts"]["tsenv"]["Out"] == "********" and "Out" in res["ansible_facts"]["tsenv_hidden"]
    assert run_step.action._task.no_log is False  # restored after the sensitive call


def test_run_as_password_scrubbed_and_become_restored(run_step, make_process_host):
    host = make_process_host(stdout="using Pa55word\n")
    res = run_step("run_command_line", {"command_line": "whoami", "run_as_user": "deploy", "run_as_password": "Pa55word"},
                   host=host)
    assert "Pa55word" not in json.dumps(res)
    assert run_step.action._connection.become is None


def test_powershell_inline_with_dict_parameters(run_step, make_process_host, remote_params):
    host = make_process_host(stdout="ok\n")
    res = run_step("run_powershell_script", {"script": "param($Site, [switch]$Force)\nWrite-Output ok",
                                             "parameters": {"Site": "%Site%", "Force": True, "Name": "O'Neil"},
                                             "execution_policy": "AllSigned"},
                   task_vars={"tsenv": {"Site": "LON"}}, host=host)
    p = remote_params(host)
    assert p["command_line"] is None
    assert p["powershell"]["script_text"].startswith("param($Site")
    assert p["powershell"]["arguments"] == "-Site 'LON' -Force -Name 'O''Neil'"
    assert p["powershell"]["execution_policy"] == "AllSigned"
    assert p["_sensitive"] is True   # parameters are not logged unless asked
    assert "LON" not in res["cmd"] and "parameters not logged" in res["cmd"]
    assert host.calls and res["rc"] == 0


def test_powershell_string_parameters_logged_when_asked(run_step, make_process_host, remote_params):
    host = make_process_host()
    res = run_step("run_powershell_script", {"script": "Write-Output 1", "parameters": "-Name '%Who%'",
                                             "execution_policy": "Undefined", "log_parameters": True},
                   task_vars={"tsenv": {"Who": "Ann"}}, host=host)
    assert remote_params(host)["powershell"]["execution_policy"] is None
    assert res["cmd"] == "powershell.exe & '<inline script>' -Name 'Ann'"


def test_powershell_script_from_package(run_step, make_process_host, remote_params):
    host = make_process_host()
    run_step("run_powershell_script", {"script_name": "Fix.ps1", "package_id": "P0100001"},
             task_vars={"tsenv_packages": {"P0100001": r"D:\Content\P0100001"}}, host=host)
    p = remote_params(host)
    assert p["powershell"]["script_text"] is None
    assert p["powershell"]["script_path"] == r"D:\Content\P0100001\Fix.ps1"


@pytest.mark.parametrize("args,needle", [
    ({}, "one of the following is required: script, script_name"),
    ({"script": "x", "script_name": "a.ps1"}, "mutually exclusive"),
    ({"script_name": "a.bat"}, "must name a .ps1 file"),
    ({"script": "x", "execution_policy": "Unrestricted"}, "execution_policy"),
    ({"script": "x", "parameters": ["-a"]}, "parameters:"),
    ({"script": "x", "timeout": 59941}, "timeout: 59941 is out of range"),
])
def test_powershell_bad_options(run_step, make_process_host, args, needle):
    host = make_process_host()
    with pytest.raises(AnsibleActionFail, match=needle):
        run_step("run_powershell_script", args, host=host)
    assert host.calls == []


def test_script_failure_on_host_is_a_step_failure(run_step, make_process_host):
    res = run_step("run_command_line", {"command_line": "x", "continue_on_error": True}, host=make_process_host(failed=True))
    assert res["step_failed"] and "run_process script failed on the host" in res["msg"]
