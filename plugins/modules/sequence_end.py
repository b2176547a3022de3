#!/usr/bin/python
# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Action-only module: the logic is in plugins/action/sequence_end.py.

from __future__ import annotations

DOCUMENTATION = r"""
module: sequence_end
short_description: End a task sequence run - internal to the task_sequence role
version_added: 0.1.0
description:
  - The last task of the C(tasksequence.windows.task_sequence) role; use the role, not this module.
  - Summarises the run per host and closes its checkpoint, so that the next run starts over.
  - Runs on the controller only.
options: {}
extends_documentation_fragment:
  - tasksequence.windows.step.engine
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
task_sequence:
  description: The run's outcome - status, counts by status, each step's status and reason, restarts, resumes.
  returned: always
  type: dict
"""
