#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/sequence_start.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: sequence_start
short_description: Start (or resume) a task sequence run - internal to the task_sequence role
version_added: 0.1.0
description:
  - The first task of the C(tasksequence.windows.task_sequence) role; use the role, not this module.
  - Loads and checks the definition, builds the plan (steps in order with their groups), sets up the
    variables (the sequence's own < collection < device) or restores them from the checkpoint of an
    unfinished run, and opens the run's journal on the controller.
  - Runs on the controller, except for one read of the host's checkpoint (unless O(host_checkpoint=never),
    O(resume=false) or check mode); it resumes from the host's checkpoint when the controller's journal
    is missing or older.
options:
  definition:
    description: The sequence definition as data.
    type: raw
  definition_file:
    description: A file holding the sequence definition.
    type: path
  collection_variables:
    description: Collection variables (name to value, or to a dict with C(value) and C(hidden)).
    type: dict
    default: {}
  device_variables:
    description: Device variables (name to value, or to a dict with C(value) and C(hidden)).
    type: dict
    default: {}
  child_sequences:
    description:
      - Child definitions (or their files) for Run Task Sequence placeholders, keyed by the package ID of
        the placeholder's C(child_sequence) (C(child_sequence.package_id), without case).
      - A hand-written placeholder without C(child_sequence) is looked up by its step name instead.
    type: dict
    default: {}
  inherit_tsenv:
    description: Start from the host's current C(tsenv) fact.
    type: bool
    default: false
  resume:
    description: Continue an unfinished run of the same definition.
    type: bool
    default: true
  state_dir:
    description: Controller folder for checkpoints and plans (default C(~/.ansible/tasksequence_windows/state)).
    type: path
  retry_delay:
    description: Seconds between the attempts of a step with C(retry_count).
    type: int
    default: 10
  host_checkpoint:
    description:
      - When the checkpoint is also written to the host, sealed with the controller's key, in
        C(%ProgramData%\TaskSequence\<plan id>\state.json) - V(boundaries) (a step leaves a group,
        ends the sequence or is its last step), V(every_step), or V(never).
    type: str
    default: never
    choices: [boundaries, every_step, never]
extends_documentation_fragment:
  - tasksequence.windows.step.engine
seealso:
  - module: tasksequence.windows.sequence_step
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
sequence:
  description: The run - name, plan id, run id, steps, whether it resumed and at which step.
  returned: always
  type: dict
ansible_facts:
  description: C(tsenv), C(tsenv_hidden) and the role's internal C(__task_sequence_run).
  returned: always
  type: dict
"""
