#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/sequence_step.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: sequence_step
short_description: Run one step of a task sequence - internal to the task_sequence role
version_added: 0.1.0
description:
  - One task per step of the C(tasksequence.windows.task_sequence) role; use the role, not this module.
  - Enters the step's groups (a disabled group is skipped; a group's condition is evaluated once),
    evaluates the step's condition (the conditions that need the host in one remote execution),
    runs the step module's own action plugin with the run's variables, applies ConfigMgr's
    continue-on-error rules and checkpoints the run on the controller.
options:
  index:
    description: The step's position in the plan.
    type: int
    required: true
extends_documentation_fragment:
  - tasksequence.windows.step.engine
seealso:
  - module: tasksequence.windows.sequence_start
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Use the role instead
  ansible.builtin.include_role:
    name: tasksequence.windows.task_sequence
  vars:
    task_sequence_definition_file: apps.sequence.yml
"""

RETURN = r"""
sequence_step:
  description:
    - What the engine did - index, name, path of groups, module, status (C(succeeded), C(failed),
      C(failed_continue), C(skipped)), reason, conditions evaluated with their results, rc, variables set
      (hidden ones masked), restarts, start, end and duration.
  returned: always
  type: dict
step_failed:
  description: The step failed and the sequence goes on (continue on error of the step or a group).
  returned: when the step failed and the sequence goes on
  type: bool
ansible_facts:
  description: C(tsenv) and C(tsenv_hidden) after the step.
  returned: when the step ran
  type: dict
"""
