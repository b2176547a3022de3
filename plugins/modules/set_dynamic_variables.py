#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/set_dynamic_variables.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: set_dynamic_variables
short_description: Set variables by rules on the host's identity (ConfigMgr's Set Dynamic Variables step)
version_added: 0.1.0
description:
  - Evaluates ConfigMgr's rules in order and sets each matching rule's variables, then the
    variables listed without a rule. A later rule sees what earlier rules set.
  - Always sets the read-only C(_SMSTSMake), C(_SMSTSModel), C(_SMSTSMacAddresses),
    C(_SMSTSIPAddresses), C(_SMSTSSerialNumber), C(_SMSTSAssetTag), C(_SMSTSUUID) and
    C(_SMSTSDefaultGateways) (lists comma-separated).
  - The host is asked once per boot, by one small inventory script; the answer is kept in the
    C(tsenv_hardware) fact and used again by this step and M(tasksequence.windows.check_readiness)
    until the host restarts (a newer C(ansible_lastboot) fact) or O(refresh_inventory) is set.
options:
  rules:
    description:
      - Rules, evaluated in order.
    type: list
    elements: dict
    default: []
    suboptions:
      type:
        description:
          - C(computer) matches when any of O(rules[].asset_tag), O(rules[].uuid),
            O(rules[].serial_number), O(rules[].mac_address) matches.
          - C(location) matches one of the host's default gateways.
          - C(make_model) needs both O(rules[].make) and O(rules[].model) to match (C(*) and
            C(?) wildcards, case-insensitive; an unset one matches anything).
          - C(variable) compares a task sequence variable (O(rules[].variable),
            O(rules[].operator), O(rules[].value)).
        type: str
        required: true
        choices: [computer, location, make_model, variable]
      asset_tag:
        description: Asset tag (computer rule).
        type: str
      uuid:
        description: SMBIOS UUID (computer rule).
        type: str
      serial_number:
        description: Serial number (computer rule).
        type: str
      mac_address:
        description: A MAC address, any separator (computer rule).
        type: str
      default_gateway:
        description: Default gateway address (location rule).
        type: str
      make:
        description: Manufacturer, wildcards allowed (make_model rule).
        type: str
      model:
        description: Model, wildcards allowed (make_model rule).
        type: str
      variable:
        description: Variable name (variable rule).
        type: str
      operator:
        description:
          - Comparison (variable rule). Numbers compare as numbers, other text without regard
            to case; C(like) takes C(%) or C(*) for any text and C(_) or C(?) for one character.
        type: str
        choices: [exists, not_exists, equals, not_equals, less, less_equal, greater, greater_equal, like]
        default: equals
      value:
        description: The value compared with (variable rule).
        type: str
      variables:
        description: Variables set when the rule matches.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Variable name.
            type: str
            required: true
          value:
            description: Value (C(%Name%) expands); empty deletes. A number or boolean is
              stored as text (C(true)/C(false)); a list or dictionary is refused.
            type: raw
            default: ""
          hidden:
            description: Do not display this value.
            type: bool
            default: false
  variables:
    description:
      - Variables set without a rule, after the rules.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Variable name.
        type: str
        required: true
      value:
        description: Value (C(%Name%) expands); empty deletes. A number or boolean is stored
          as text (C(true)/C(false)); a list or dictionary is refused.
        type: raw
        default: ""
      hidden:
        description: Do not display this value.
        type: bool
        default: false
  refresh_inventory:
    description:
      - Ask the host again even if this boot's inventory is already known.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
seealso:
  - module: tasksequence.windows.check_readiness
  - module: tasksequence.windows.set_task_sequence_variable
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Per-site and per-model settings
  tasksequence.windows.set_dynamic_variables:
    rules:
      - type: location
        default_gateway: 192.0.2.1
        variables:
          - name: SiteCode
            value: LON
      - type: make_model
        make: Dell*
        model: Latitude 7?40
        variables:
          - name: DriverPack
            value: DELL-LAT-7x40
      - type: computer
        serial_number: 5CG1234XYZ
        mac_address: 00-15-5D-01-02-03
        variables:
          - name: Role
            value: Kiosk
      - type: variable
        variable: Role
        operator: equals
        value: Kiosk
        variables:
          - name: AutoLogon
            value: "true"
    variables:
      - name: DeployedBy
        value: Ansible
"""

RETURN = r"""
rc:
  description: The step's return code, as C(_SMSTSLastActionRetCode) holds it.
  returned: always
  type: int
reboot_required:
  description: The step asks for a restart before the sequence goes on (exit code 3010).
  returned: always
  type: bool
variables:
  description: Task sequence variables this step set (hidden values masked; C(null) for a deleted one).
  returned: always
  type: dict
step_failed:
  description: The step failed but O(continue_on_error) let the sequence go on.
  returned: when the step failed with continue_on_error
  type: bool
ansible_facts:
  description: The task sequence variables after the step.
  returned: always
  type: dict
  contains:
    tsenv:
      description: Variable name to value; hidden values are C(********).
      type: dict
    tsenv_hidden:
      description: Hidden variables' values, encrypted with the controller's key.
      type: dict
matched_rules:
  description: Indexes (from 0) of the rules that matched.
  returned: success
  type: list
  elements: int
inventory_gathered:
  description: Whether the host was asked for its inventory by this task (false when this boot's was known).
  returned: success
  type: bool
restarted:
  description: The host restarted during or after this step (planned, requested or unexpected).
  returned: always
  type: bool
restarts:
  description: Each restart of this step - kind, when, reason, the new boot time, seconds waited.
  returned: always
  type: list
  elements: dict
"""
