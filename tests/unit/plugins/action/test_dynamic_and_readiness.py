"""set_dynamic_variables and check_readiness on a recorded inventory."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleActionFail


def rules_result(run_step, host, rules, variables=(), task_vars=None):
    return run_step("set_dynamic_variables", {"rules": rules, "variables": list(variables)}, host=host,
                    task_vars=task_vars or {})


def test_engine_variables_and_one_inventory(run_step, make_inventory_host, hardware):
    host = make_inventory_host(hardware())
    res = rules_result(run_step, host, [])
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["_SMSTSMake"] == "Dell Inc." and tsenv["_SMSTSModel"] == "Latitude 7440"
    assert tsenv["_SMSTSMacAddresses"] == "00:15:5D:01:02:03,00:15:5D:01:02:04"
    assert tsenv["_SMSTSDefaultGateways"] == "192.0.2.1"
    assert tsenv["_SMSTSUUID"].startswith("4C4C4544")
    assert len(host.calls) == 1 and res["inventory_gathered"] is True
    # The next step on the same boot reuses the cached inventory: zero executions.
    again = make_inventory_host(hardware())
    res2 = rules_result(run_step, again, [], task_vars=res["ansible_facts"] | {"ansible_lastboot": "2026-11-25 01:02:04Z"})
    assert again.calls == [] and res2["inventory_gathered"] is False
    # After a reboot (newer boot time in fresh facts) it asks again.
    after = make_inventory_host(hardware(boot_time="2026-11-25 02:00:00Z"))
    rules_result(run_step, after, [], task_vars=res["ansible_facts"] | {"ansible_lastboot": "2026-11-25 02:00:00Z"})
    assert len(after.calls) == 1


@pytest.mark.parametrize("rule,matches", [
    ({"type": "computer", "serial_number": "5cg1234xyz"}, True),
    ({"type": "computer", "asset_tag": "nope", "mac_address": "00-15-5d-01-02-04"}, True),
    ({"type": "computer", "asset_tag": "nope", "uuid": "nope"}, False),
    ({"type": "location", "default_gateway": "192.0.2.1"}, True),
    ({"type": "location", "default_gateway": "198.51.100.1"}, False),
    ({"type": "make_model", "make": "dell*", "model": "Latitude 7?40"}, True),
    ({"type": "make_model", "make": "Dell*", "model": "Latitude 5*"}, False),
    ({"type": "make_model", "make": "HP*", "model": "*"}, False),
    ({"type": "variable", "variable": "Role", "operator": "equals", "value": "KIOSK"}, True),
    ({"type": "variable", "variable": "Role", "operator": "not_exists"}, False),
    ({"type": "variable", "variable": "Count", "operator": "greater", "value": "9"}, True),
    ({"type": "variable", "variable": "Role", "operator": "like", "value": "Ki%"}, True),
])
def test_rule_matching(run_step, make_inventory_host, hardware, rule, matches):
    rule = dict(rule, variables=[{"name": "Hit", "value": "yes"}])
    res = rules_result(run_step, make_inventory_host(hardware()), [rule],
                       task_vars={"tsenv": {"Role": "Kiosk", "Count": "10"}})
    assert ("Hit" in res["ansible_facts"]["tsenv"]) is matches
    assert res["matched_rules"] == ([0] if matches else [])


def test_rules_in_order_see_earlier_results_and_rule_less_last(run_step, make_inventory_host, hardware):
    rules = [
        {"type": "location", "default_gateway": "192.0.2.1", "variables": [{"name": "Site", "value": "LON"}]},
        {"type": "variable", "variable": "Site", "value": "LON", "variables": [{"name": "Server", "value": "srv-%Site%"}]},
    ]
    res = rules_result(run_step, make_inventory_host(hardware()), rules,
                       variables=[{"name": "Site", "value": "Default"}, {"name": "Secret", "value": "k3y!", "hidden": True}])
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["Server"] == "srv-LON" and tsenv["Site"] == "Default"
    assert tsenv["Secret"] == "********" and "k3y!" not in json.dumps(res)


@pytest.mark.parametrize("rule,needle", [
    ({"type": "computer"}, "rules[0]: a computer rule needs"),
    ({"type": "location", "make": "x", "default_gateway": "1"}, "rules[0]: make do not apply"),
    ({"type": "variable", "variable": "bad name"}, "rules[0].variable"),
    ({"type": "make_model"}, "rules[0]: a make_model rule needs"),
])
def test_bad_rules_fail_before_the_host(run_step, make_inventory_host, hardware, rule, needle):
    host = make_inventory_host(hardware())
    with pytest.raises(AnsibleActionFail) as err:
        rules_result(run_step, host, [dict(rule, variables=[{"name": "A", "value": "1"}])])
    assert needle in str(err.value) and host.calls == []


def test_readiness_all_pass(run_step, make_inventory_host, hardware):
    res = run_step("check_readiness", {"memory_mb": 8192, "os_type": "client", "architecture": "x64",
                                       "min_os_version": "10.0.19041", "os_language": "1033", "uefi": True,
                                       "tpm_activated": True, "network_wired": True}, host=make_inventory_host(hardware()))
    assert not res.get("failed") and res["rc"] == 0
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["_TS_CRMEMORY"] == "1" and tsenv["_TS_CROSLANGUAGE"] == "1"
    assert "_TS_CRDISK" not in tsenv  # off: blank


def test_readiness_runs_every_check_then_fails_4316(run_step, make_inventory_host, hardware):
    hw = hardware(memory_mb=2048, os={"version": "10.0.17763"}, on_ac_power=False,
                  network_adapters=[{"name": "Wi-Fi", "mac": "00:15:5D:01:02:05", "connected": True, "wireless": True,
                                     "ip_addresses": ["192.0.2.12"], "default_gateways": ["192.0.2.1"]}],
                  tpm={"present": True, "spec_version": "1.2", "enabled": True, "activated": True},
                  configmgr_client_version=None)
    res = run_step("check_readiness", {"memory_mb": 4096, "free_disk_mb": 1024, "min_os_version": "10.0.19041",
                                       "max_os_version": "10.0.99999", "ac_power": True, "network_connected": True,
                                       "network_wired": True, "tpm_enabled": True, "min_client_version": "5.0"},
                   host=make_inventory_host(hw))
    assert res["failed"] and res["rc"] == 4316
    assert set(res["failed_checks"]) == {"memory_mb", "min_os_version", "ac_power", "network_wired", "tpm_enabled",
                                         "min_client_version"}
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["_TS_CRMEMORY"] == "0" and tsenv["_TS_CRDISK"] == "1" and tsenv["_TS_CRNETWORK"] == "1"
    assert tsenv["_SMSTSLastActionRetCode"] == "4316"
    assert "memory_mb (required 4096, found 2048)" in res["msg"]


def test_readiness_continue_on_error(run_step, make_inventory_host, hardware):
    res = run_step("check_readiness", {"memory_mb": 999999, "continue_on_error": True}, host=make_inventory_host(hardware()))
    assert not res.get("failed") and res["step_failed"]
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionSucceeded"] == "false"


@pytest.mark.parametrize("args,needle", [
    ({"min_os_version": "ten"}, "min_os_version:"),
    ({"memory_mb": -1}, "memory_mb:"),
    ({"architecture": "arm"}, "architecture"),
])
def test_readiness_bad_options(run_step, make_inventory_host, hardware, args, needle):
    host = make_inventory_host(hardware())
    with pytest.raises(AnsibleActionFail, match=needle):
        run_step("check_readiness", args, host=host)
    assert host.calls == []


def test_readiness_check_mode_still_reads_inventory(run_step, make_inventory_host, hardware):
    host = make_inventory_host(hardware())
    res = run_step("check_readiness", {"memory_mb": 1}, host=host, check_mode=True)
    assert len(host.calls) == 1 and res["checks"]["memory_mb"]["passed"] is True


def test_dynamic_unchanged_when_values_already_set(run_step, make_inventory_host, hardware):
    first = rules_result(run_step, make_inventory_host(hardware()), [], variables=[{"name": "Site", "value": "LON"}])
    assert first["changed"] is True
    again = rules_result(run_step, make_inventory_host(hardware()), [], variables=[{"name": "Site", "value": "LON"}],
                         task_vars=first["ansible_facts"])
    assert again["changed"] is False


def test_virtual_and_wan_adapters_do_not_make_a_host_wired(run_step, make_inventory_host, hardware):
    # The recorded host also has a connected Hyper-V switch and a WAN Miniport (wmi_answers):
    # with only Wi-Fi as hardware, the wired check must fail (MACAddress IS NOT NULL passed it).
    hw = hardware(network_adapters=[{"name": "Wi-Fi", "mac": "00:15:5D:01:02:05", "connected": True,
                                     "wireless": True, "ip_addresses": [], "default_gateways": []}])
    res = run_step("check_readiness", {"network_connected": True, "network_wired": True, "continue_on_error": True},
                   host=make_inventory_host(hw))
    assert res["checks"]["network_connected"]["passed"] is True
    assert res["checks"]["network_wired"]["passed"] is False
    assert res["ansible_facts"]["tsenv_hardware"]["mac_addresses"] == ["00:15:5D:01:02:05"]


def test_inventory_cut_by_depth_is_a_step_failure_not_a_crash(run_step, hardware):
    from tests.unit.conftest import FakeHost, wmi_answers

    answers = wmi_answers(hardware())
    # What win_powershell returns when depth is too small: nested objects become type names.
    answers["adapters"] = {"rows": ["System.Collections.Specialized.OrderedDictionary"], "error": None}
    host = FakeHost(lambda name, args: {"changed": False, "output": [answers]})
    res = run_step("check_readiness", {"network_wired": True, "continue_on_error": True}, host=host)
    assert res["step_failed"] is True and "arrived as 'System.Collections.Specialized.OrderedDictionary'" in res["msg"]


def test_inventory_language_and_units_from_wmi(run_step, make_inventory_host, hardware):
    hw = hardware(os={"lcid": 1031, "language": "ignored"}, memory_mb=8192)
    res = run_step("check_readiness", {"os_language": "de-DE", "memory_mb": 8192}, host=make_inventory_host(hw))
    got = res["ansible_facts"]["tsenv_hardware"]
    assert got["os"]["language"] == "de-DE" and got["memory_mb"] == 8192 and not res.get("failed")
