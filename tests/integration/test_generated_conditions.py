"""Conditions no ansible.windows module reads (WMI, OS language, installed software, file version)
in a generated playbook: evaluated on the simulated host by evaluate_conditions, with the engine's
semantics. Expected outcomes come from the sequence format's rules, not from the code."""

from __future__ import annotations

import json

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import playbook_text

pytestmark = pytest.mark.integration
VERSIONED = "C:\\Windows\\System32\\only64.exe"   # seeded by conftest.SEED on every simulated host
VC_REDIST_NAME = "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.40.33810"


DUMP_PLAY = """
- name: Keep the variables the sequence left
  hosts: win01
  gather_facts: false
  tasks:
    - name: Write tsenv on the controller
      ansible.builtin.copy:
        content: "{{{{ tsenv | to_json }}}}"
        dest: "{dest}"
        mode: "0600"
      delegate_to: localhost
"""


def _step(name, condition):
    return {"name": name, "module": "set_task_sequence_variable", "options": {"name": name, "value": "ran"},
            "conditions": condition}


CASES = {
    # The default simulated host is a workstation (ProductType 1), en-US, 64-bit, with the VC++ runtime.
    "WmiClient": ({"wmi": {"namespace": "root\\cimv2",
                           "query": "SELECT * FROM Win32_OperatingSystem WHERE ProductType = 1"}}, True),
    "WmiServer": ({"wmi": {"namespace": "root\\cimv2",
                           "query": "SELECT * FROM Win32_OperatingSystem WHERE ProductType = 3"}}, False),
    # No WHERE: any instance makes it hold (whole instances asked for, no property named).
    "WmiAnyBios": ({"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_BIOS"}}, True),
    "WmiBadIgnored": ({"wmi": {"namespace": "root\\nosuch", "query": "SELECT * FROM X",
                               "ignore_query_failure": True}}, False),
    "English": ({"os_language": {"language": "en-US"}}, True),
    "German": ({"os_language": {"language": "1031"}}, False),
    "Runtime": ({"software": {"match": "any_version", "product_name": VC_REDIST_NAME}}, True),
    "NoSuchApp": ({"software": {"match": "any_version", "product_name": "No Such App"}}, False),
    "NewEnough": ({"file": {"path": VERSIONED, "version": "2.0", "version_operator": "greater_equal"}}, True),
    "TooOld": ({"file": {"path": VERSIONED, "version": "3.0", "version_operator": "greater_equal"}}, False),
}


def test_host_conditions_in_a_generated_playbook(ansible, fleet, tmp_path):
    if not getattr(fleet, "simulated", False):
        pytest.skip("simulator-only: the file version is set in the simulated host's state")
    for name in fleet.names:
        machine = fleet.machine(name)
        with machine.lock:
            machine.state["files"][VERSIONED.lower()]["version"] = "2.5.0.0"
    definition = {"format_version": 1, "name": "host conditions",
                  "steps": [_step(name, cond) for name, (cond, _expected) in CASES.items()]}
    dump = tmp_path / "tsenv.json"
    play = tmp_path / "conditions.yml"
    # The generated play, then one that keeps the variables it left (facts outlive their play).
    play.write_text(playbook_text(definition) + DUMP_PLAY.format(dest=dump))
    fleet.reset_counters("win01")
    ansible.playbook(str(play), "-e", "tasksequence_hosts=win01", limit="win01")
    tsenv = json.loads(dump.read_text())
    got = {name: name in tsenv for name in CASES}
    assert got == {name: expected for name, (_cond, expected) in CASES.items()}
    # One host_query execution per such condition (each step's own check), and nothing else on the host
    # but the facts the generated play gathers.
    modules = fleet.counters("win01")["host_side"]["modules"]
    assert modules.get("ansible.windows.win_powershell") == len(CASES)
    assert set(modules) <= {"ansible.windows.win_powershell", "ansible.windows.setup"}
