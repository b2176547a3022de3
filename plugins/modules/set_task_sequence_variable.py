#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/set_task_sequence_variable.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: set_task_sequence_variable
short_description: Set a task sequence variable (ConfigMgr's Set Task Sequence Variable step)
version_added: 0.1.0
description:
  - Sets, changes or (with an empty value) deletes one variable in the C(tsenv) fact.
  - Runs on the controller only; nothing is sent to the host.
options:
  name:
    description:
      - The variable's name. Names starting with C(_) are read-only and refused.
    type: str
    required: true
  value:
    description:
      - The value; C(%Name%) references expand. An empty value deletes the variable.
      - Task sequence variables hold text. A number is stored as written in decimal and a
        boolean as C(true) or C(false); a list or a dictionary is refused.
    type: raw
    default: ""
  hidden:
    description:
      - ConfigMgr's C(Do not display this value). The value is kept encrypted in
        C(tsenv_hidden), shown as C(********) in C(tsenv) and scrubbed from every result.
    type: bool
    default: false
extends_documentation_fragment:
  - tasksequence.windows.step
seealso:
  - module: tasksequence.windows.set_dynamic_variables
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Set a variable
  tasksequence.windows.set_task_sequence_variable:
    name: SiteCode
    value: PS1

- name: Build one from another
  tasksequence.windows.set_task_sequence_variable:
    name: InstallRoot
    value: C:\Deploy\%SiteCode%

- name: A secret nobody sees again
  tasksequence.windows.set_task_sequence_variable:
    name: JoinPassword
    value: "{{ vault_join_password }}"
    hidden: true

- name: Delete a variable
  tasksequence.windows.set_task_sequence_variable:
    name: SiteCode
    value: ""
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
