from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleActionFail


def test_sets_variable_without_touching_the_host(run_step):
    res = run_step("set_task_sequence_variable", {"name": "SiteCode", "value": "PS1"})
    assert not res.get("failed"), res
    assert res["ansible_facts"]["tsenv"]["SiteCode"] == "PS1"
    assert res["variables"] == {"SiteCode": "PS1"}
    assert res["changed"] is True
    assert run_step.host.calls == []
    assert run_step.action._requires_connection is False


def test_case_insensitive_keeps_first_spelling(run_step):
    res = run_step("set_task_sequence_variable", {"name": "sitecode", "value": "LON"},
                   task_vars={"tsenv": {"SiteCode": "PS1"}})
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["SiteCode"] == "LON"
    assert "sitecode" not in tsenv


def test_expands_other_variables_and_keeps_unknown(run_step):
    res = run_step("set_task_sequence_variable", {"name": "Root", "value": r"C:\Deploy\%SITECODE%\%Nope%"},
                   task_vars={"tsenv": {"SiteCode": "PS1"}})
    assert res["ansible_facts"]["tsenv"]["Root"] == r"C:\Deploy\PS1\%Nope%"


def test_empty_value_deletes(run_step):
    res = run_step("set_task_sequence_variable", {"name": "SiteCode", "value": ""},
                   task_vars={"tsenv": {"SiteCode": "PS1"}})
    assert "SiteCode" not in res["ansible_facts"]["tsenv"]
    assert res["changed"] is True and res["variables"] == {"SiteCode": None}


@pytest.mark.parametrize("name,needle", [
    ("_SMSTSMake", "read-only"),
    ("bad name", "not a valid task sequence variable name"),
    ("x" * 257, "not a valid task sequence variable name"),
])
def test_refuses_bad_names_naming_the_option(run_step, name, needle):
    with pytest.raises(AnsibleActionFail) as err:
        run_step("set_task_sequence_variable", {"name": name, "value": "v"})
    assert "name:" in str(err.value) and needle in str(err.value)


def test_refuses_long_value(run_step):
    with pytest.raises(AnsibleActionFail, match="at most 4000"):
        run_step("set_task_sequence_variable", {"name": "Big", "value": "x" * 4001})


def test_builtins_updated(run_step):
    res = run_step("set_task_sequence_variable", {"name": "A", "value": "1"}, name="Set A")
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["_SMSTSCurrentActionName"] == "Set A"
    assert tsenv["_SMSTSLastActionName"] == "Set A"
    assert tsenv["_SMSTSLastActionSucceeded"] == "true"
    assert tsenv["_SMSTSLastActionRetCode"] == "0"


def test_hidden_value_never_in_result_but_usable(run_step):
    secret = "S3cr3t-Value!"
    res = run_step("set_task_sequence_variable", {"name": "JoinPassword", "value": secret, "hidden": True})
    assert secret not in json.dumps(res)
    assert res["ansible_facts"]["tsenv"]["JoinPassword"] == "********"
    token = res["ansible_facts"]["tsenv_hidden"]["JoinPassword"]
    assert token and secret not in token
    # A later step expands it on the controller, and its own result is scrubbed.
    res2 = run_step("set_task_sequence_variable", {"name": "Copy", "value": "pw=%JoinPassword%"},
                    task_vars={"tsenv": res["ansible_facts"]["tsenv"], "tsenv_hidden": res["ansible_facts"]["tsenv_hidden"]})
    assert secret not in json.dumps(res2)
    # A value built from a hidden one is hidden too, so its real value is kept (encrypted).
    assert res2["ansible_facts"]["tsenv"]["Copy"] == "********"
    assert "Copy" in res2["ansible_facts"]["tsenv_hidden"]


def test_hidden_value_from_another_controller_key_is_a_clear_error(run_step, monkeypatch, tmp_path):
    res = run_step("set_task_sequence_variable", {"name": "Pw", "value": "x1", "hidden": True})
    monkeypatch.setenv("TASKSEQUENCE_WINDOWS_KEY_FILE", str(tmp_path / "other.key"))
    with pytest.raises(AnsibleActionFail, match="'Pw' cannot be decrypted on this controller"):
        run_step("set_task_sequence_variable", {"name": "Copy", "value": "%Pw%"},
                 task_vars={"tsenv": res["ansible_facts"]["tsenv"], "tsenv_hidden": res["ansible_facts"]["tsenv_hidden"]})


def test_check_mode_sets_variables_on_controller(run_step):
    res = run_step("set_task_sequence_variable", {"name": "A", "value": "1"}, check_mode=True)
    assert res["ansible_facts"]["tsenv"]["A"] == "1"


def test_unchanged_when_value_already_set(run_step):
    res = run_step("set_task_sequence_variable", {"name": "sitecode", "value": "PS1"}, task_vars={"tsenv": {"SiteCode": "PS1"}})
    assert res["changed"] is False
    res = run_step("set_task_sequence_variable", {"name": "SiteCode", "value": "PS1", "hidden": True},
                   task_vars={"tsenv": {"SiteCode": "PS1"}})
    assert res["changed"] is True  # same value, now hidden


def test_short_secret_never_corrupts_ciphertexts_or_engine_variables(run_step):
    facts = {}
    for value in ("A", "0", "g"):   # characters that occur in Fernet tokens and return codes
        res = run_step("set_task_sequence_variable", {"name": f"S{value}", "value": value, "hidden": True}, task_vars=facts)
        facts = res["ansible_facts"]
    res = run_step("set_task_sequence_variable", {"name": "Plain", "value": "x"}, task_vars=facts)
    sealed = res["ansible_facts"]["tsenv_hidden"]
    assert set(sealed) == {"SA", "S0", "Sg"}
    assert "_SMSTSLastActionRetCode" not in sealed and "_SMSTSLastActionSucceeded" not in sealed
    # Every token still decrypts: a later step reads the values back.
    res = run_step("set_task_sequence_variable", {"name": "Joined", "value": "%SA%%S0%%Sg%"}, task_vars=res["ansible_facts"])
    assert "Joined" in res["ansible_facts"]["tsenv_hidden"]
