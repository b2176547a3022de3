"""Bad input for every step: refused before anything reaches the host, with a message that
names the field. Each case asserts zero remote executions (the recorded host saw no call)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.conftest import inventory_host, process_host, sample_hardware

RCL = "run_command_line"
RPS = "run_powershell_script"
STV = "set_task_sequence_variable"
SDV = "set_dynamic_variables"
CR = "check_readiness"
RULE = {"type": "location", "default_gateway": "192.0.2.1", "variables": [{"name": "A", "value": "1"}]}

CASES = [
    # run_command_line: types
    (RCL, {"command_line": ["setup.exe", "/s"]}, "command_line: is a list"),
    (RCL, {"command_line": {"a": 1}}, "command_line: is a dict"),
    (RCL, {"command_line": 5}, "command_line: is a int"),
    (RCL, {"command_line": True}, "command_line: is a bool"),
    (RCL, {"command_line": "x", "start_in": ["C:\\"]}, "start_in: is a list"),
    (RCL, {"command_line": "x", "timeout": [5]}, "timeout: is a list"),
    (RCL, {"command_line": "x", "timeout": True}, "timeout: is a bool"),
    (RCL, {"command_line": "x", "timeout": 1.5}, "timeout: is a float"),
    (RCL, {"command_line": "x", "timeout": "soon"}, "timeout"),
    (RCL, {"command_line": "x", "output_variable": ["A"]}, "output_variable: is a list"),
    (RCL, {"command_line": "x", "run_as_user": {"u": 1}, "run_as_password": "p"}, "run_as_user: is a dict"),
    (RCL, {"command_line": "x", "disable_wow64_redirection": ["yes"]}, "disable_wow64_redirection: is a list"),
    (RCL, {"command_line": "x", "continue_on_error": [True]}, "continue_on_error: is a list"),
    (RCL, {"command_line": "x", "output_encoding": 65001}, "output_encoding: is a int"),
    (RCL, {"command_line": "x", "package_id": ["P"]}, "package_id: is a list"),
    # run_command_line: success codes as Windows reports exit codes
    (RCL, {"command_line": "x", "success_codes": [99999999999999999999]}, "success_codes: 99999999999999999999"),
    (RCL, {"command_line": "x", "success_codes": [4294967296]}, "success_codes: 4294967296"),
    (RCL, {"command_line": "x", "success_codes": [-2147483649]}, "success_codes: -2147483649"),
    (RCL, {"command_line": "x", "success_codes": []}, "success_codes: is empty"),
    (RCL, {"command_line": "x", "success_codes": "0 3010"}, "success_codes: is a str"),
    (RCL, {"command_line": "x", "success_codes": [True]}, "success_codes[0]: is a bool"),
    (RCL, {"command_line": "x", "success_codes": ["0"]}, "success_codes[0]: is a str"),
    (RCL, {"command_line": "x", "success_codes": [0.5]}, "success_codes[0]: is a float"),
    (RCL, {"command_line": "x", "success_codes": [[0]]}, "success_codes[0]: is a list"),
    # run_command_line: values and combinations
    (RCL, {}, "command_line"),
    (RCL, {"command_line": ""}, "command_line: is empty"),
    (RCL, {"command_line": "x" * 32001}, "command_line: has 32001 characters"),
    (RCL, {"command_line": "x", "timeout": 0}, "timeout: 0 is out of range"),
    (RCL, {"command_line": "x", "timeout": -5}, "timeout: -5 is out of range"),
    (RCL, {"command_line": "x", "timeout": 59941}, "timeout: 59941 is out of range"),
    (RCL, {"command_line": "x", "output_variable": "_SMSTSX"}, "output_variable: '_SMSTSX' is read-only"),
    (RCL, {"command_line": "x", "output_variable": "has space"}, "output_variable: 'has space'"),
    (RCL, {"command_line": "x", "output_variable": "%Pw%"}, "output_variable: '%Pw%'"),
    (RCL, {"command_line": "x", "output_variable": "x" * 257}, "output_variable:"),
    (RCL, {"command_line": "x", "run_as_user": "u"}, "run_as_password"),
    (RCL, {"command_line": "x", "run_as_password": "p"}, "run_as_user"),
    (RCL, {"command_line": "x", "start_in": "C:\\", "package_id": "P01"}, "start_in: 'C:\\' is a full path"),
    (RCL, {"command_line": "x", "bogus": 1}, "bogus"),
    # run_powershell_script
    (RPS, {}, "one of the following is required: script, script_name"),
    (RPS, {"script": ["Write-Output 1"]}, "script: is a list"),
    (RPS, {"script": 1}, "script: is a int"),
    (RPS, {"script": "   "}, "script: is empty"),
    (RPS, {"script": "x", "script_name": "a.ps1"}, "mutually exclusive"),
    (RPS, {"script": "x", "package_id": "P01"}, "mutually exclusive"),
    (RPS, {"script_name": "a.bat"}, "script_name: 'a.bat' must name a .ps1 file"),
    (RPS, {"script_name": ["a.ps1"]}, "script_name: is a list"),
    (RPS, {"script": "x", "execution_policy": "Unrestricted"}, "execution_policy"),
    (RPS, {"script": "x", "execution_policy": ["Bypass"]}, "execution_policy: is a list"),
    (RPS, {"script": "x", "parameters": ["-a"]}, "parameters: is a list"),
    (RPS, {"script": "x", "parameters": 5}, "parameters: is a int"),
    (RPS, {"script": "x", "parameters": {"bad name": 1}}, "parameters: 'bad name' is not a PowerShell parameter name"),
    (RPS, {"script": "x", "parameters": {"9lives": 1}}, "parameters: '9lives'"),
    (RPS, {"script": "x", "parameters": {"Opts": {"a": 1}}}, "parameters.Opts: a dict"),
    (RPS, {"script": "x", "parameters": {"L": [1, {"a": 1}]}}, "parameters.L[1]: a dict"),
    (RPS, {"script": "x", "success_codes": [4294967296]}, "success_codes: 4294967296"),
    (RPS, {"script": "x", "success_codes": []}, "success_codes: is empty"),
    (RPS, {"script": "x", "timeout": 0}, "timeout: 0 is out of range"),
    (RPS, {"script": "x", "output_variable": "_X"}, "output_variable: '_X' is read-only"),
    (RPS, {"script": "x", "log_parameters": [True]}, "log_parameters: is a list"),
    (RPS, {"script": "x", "run_as_user": "u"}, "run_as_password"),
    # set_task_sequence_variable
    (STV, {"value": "x"}, "name"),
    (STV, {"name": "A", "value": {"a": 1}}, "value: is a dict"),
    (STV, {"name": "A", "value": [1, 2]}, "value: is a list"),
    (STV, {"name": ["A"], "value": "1"}, "name: is a list"),
    (STV, {"name": "_SMSTSLastActionName", "value": "x"}, "name: '_SMSTSLastActionName' is read-only"),
    (STV, {"name": "", "value": "x"}, "name: '' is not a valid"),
    (STV, {"name": "a b", "value": "x"}, "name: 'a b'"),
    (STV, {"name": "A" * 257, "value": "x"}, "name:"),
    (STV, {"name": "A", "value": "x" * 4001}, "value: the value of 'A' has 4001 characters"),
    (STV, {"name": "A", "value": "1", "hidden": "maybe"}, "hidden"),
    (STV, {"name": "A", "value": "1", "hidden": [True]}, "hidden: is a list"),
    # set_dynamic_variables
    (SDV, {"rules": [{"type": "computer", "variables": [{"name": "A", "value": "1"}]}]}, "rules[0]: a computer rule needs"),
    (SDV, {"rules": [{"type": "location", "variables": [{"name": "A"}]}]}, "rules[0]: a location rule needs default_gateway"),
    (SDV, {"rules": [{"type": "make_model", "variables": [{"name": "A"}]}]}, "rules[0]: a make_model rule needs"),
    (SDV, {"rules": [{"type": "variable", "variable": "bad name", "operator": "equals", "variables": []}]},
     "rules[0].variable"),
    (SDV, {"rules": [dict(RULE, make="x")]}, "rules[0]: make do not apply"),
    (SDV, {"rules": [dict(RULE, type="weather")]}, "type"),
    (SDV, {"rules": [dict(RULE, default_gateway=["192.0.2.1"])]}, "rules[0].default_gateway: is a list"),
    (SDV, {"rules": [dict(RULE, variables=[{"name": "A", "value": {"x": 1}}])]}, "rules[0].variables[0].value: is a dict"),
    (SDV, {"rules": [dict(RULE, variables=[{"name": "_A", "value": "1"}])]}, "rules[0].variables[0].name: '_A' is read-only"),
    (SDV, {"rules": [dict(RULE, variables="A=1")]}, "rules[0].variables: is a str"),
    (SDV, {"rules": "everything"}, "rules: is a str"),
    (SDV, {"rules": ["not a rule"]}, "rules[0]: is a str"),
    (SDV, {"variables": [{"name": "bad name", "value": "1"}]}, "variables[0].name: 'bad name'"),
    (SDV, {"variables": [{"name": "A", "value": [1]}]}, "variables[0].value: is a list"),
    (SDV, {"variables": [{"value": "1"}]}, "name"),
    (SDV, {"refresh_inventory": ["yes"]}, "refresh_inventory: is a list"),
    # check_readiness
    (CR, {"memory_mb": -1}, "memory_mb: -1 is negative"),
    (CR, {"memory_mb": "lots"}, "memory_mb"),
    (CR, {"memory_mb": [4096]}, "memory_mb: is a list"),
    (CR, {"memory_mb": True}, "memory_mb: is a bool"),
    (CR, {"cpu_speed_mhz": -5}, "cpu_speed_mhz: -5 is negative"),
    (CR, {"free_disk_mb": -1}, "free_disk_mb: -1 is negative"),
    (CR, {"min_os_version": "ten"}, "min_os_version: 'ten' is not a version"),
    (CR, {"max_os_version": "10.0.x"}, "max_os_version: '10.0.x' is not a version"),
    (CR, {"min_client_version": "5.00.9128.1000.7"}, "min_client_version:"),
    (CR, {"min_os_version": 10}, "min_os_version: is a int"),
    (CR, {"architecture": "arm"}, "architecture"),
    (CR, {"os_type": "desktop"}, "os_type"),
    (CR, {"os_language": ["en-US"]}, "os_language: is a list"),
    (CR, {"uefi": "sometimes"}, "uefi"),
    (CR, {"tpm_enabled": [True]}, "tpm_enabled: is a list"),
]


@pytest.mark.parametrize("module,args,needle", CASES, ids=[f"{m}-{i}" for i, (m, _a, _n) in enumerate(CASES)])
def test_refused_before_the_host(run_step, module, args, needle):
    host = inventory_host(sample_hardware()) if module in (SDV, CR) else process_host()
    with pytest.raises(AnsibleActionFail) as err:
        run_step(module, args, host=host)
    assert needle in str(err.value)
    assert host.calls == [], "nothing may reach the host"


def test_corpus_size():
    assert len(CASES) >= 60


def _hidden(run_step, name, value):
    return run_step(STV, {"name": name, "value": value, "hidden": True})["ansible_facts"]


def test_a_hidden_value_in_an_expanded_option_never_shows_in_an_error(run_step):
    facts = _hidden(run_step, "AdminPw", "S3cr3t-Value")
    with pytest.raises(AnsibleActionFail) as err:
        run_step(RPS, {"script_name": "%AdminPw%.bat"}, task_vars=facts, host=process_host())
    assert "S3cr3t-Value" not in str(err.value) and "********" in str(err.value)


def test_output_variable_is_a_name_not_an_expansion(run_step):
    facts = _hidden(run_step, "AdminPw", "S3cr3t-Value")
    with pytest.raises(AnsibleActionFail) as err:
        run_step(RCL, {"command_line": "x", "output_variable": "%AdminPw%"}, task_vars=facts, host=process_host())
    assert "S3cr3t-Value" not in str(err.value)


def test_masking_never_alters_stored_or_sent_data(run_step, remote_params):
    facts = _hidden(run_step, "Pin", "1")
    facts = run_step(STV, {"name": "Box", "value": "Box-10"}, task_vars=facts)["ansible_facts"]
    assert facts["tsenv"]["Box"] == "Box-10"
    host = process_host(stdout="box Box-10 pin 1\n")
    res = run_step(RCL, {"command_line": "tool.exe %Box% %Pin%"}, task_vars=facts, host=host)
    sent = remote_params(host)
    assert sent["cmd"] == "tool.exe Box-10 1" and sent["environment"]["Box"] == "Box-10"
    assert res["ansible_facts"]["tsenv"]["Box"] == "Box-10"           # stored as it was
    assert res["stdout"] == "box Box-10 pin ********\n"              # shown: the value alone is masked
    assert res["cmd"] == "tool.exe Box-10 ********"


def test_exit_codes_written_signed_or_unsigned_are_the_same(run_step):
    res = run_step(RCL, {"command_line": "x", "success_codes": [-1]}, host=process_host(rc=4294967295))
    assert not res.get("failed")


def test_key_file_readable_by_others_is_refused(run_step, tmp_path, monkeypatch):
    key = tmp_path / "open.key"
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(key))
    run_step(STV, {"name": "A", "value": "x", "hidden": True})   # creates it, mode 0600
    key.chmod(0o644)
    with pytest.raises(AnsibleActionFail) as err:
        run_step(STV, {"name": "B", "value": "y", "hidden": True})
    assert str(key) in str(err.value) and "chmod 600" in str(err.value)


def test_corrupt_key_file_is_named(run_step, tmp_path, monkeypatch):
    key = tmp_path / "bad.key"
    key.write_text("not a key")
    key.chmod(0o600)
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(key))
    with pytest.raises(AnsibleActionFail) as err:
        run_step(STV, {"name": "B", "value": "y", "hidden": True})
    assert str(key) in str(err.value) and "not a valid key" in str(err.value)
