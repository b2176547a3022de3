# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsenv import TaskSequenceEnvironment

DOCUMENTATION = r"""
name: tsexpand
short_description: Expand %Name% task sequence variable references
version_added: 0.1.0
description:
- Replaces each C(%Name%) with the variable's value from the C(tsenv) fact, looking names up without regard
  to case; unknown names stay as written (as ConfigMgr leaves them). Hidden variables give the mask.
positional: tsenv
options:
  _input:
    description: Text with C(%Name%) references.
    type: str
    required: true
  tsenv:
    description: The C(tsenv) fact.
    type: dict
    required: true
author:
- Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Where the OS disk is
  ansible.windows.win_stat:
    path: "{{ '%OSDisk%\\Windows' | tasksequence.windows.tsexpand(tsenv | default({})) }}"
"""

RETURN = r"""
_value:
  description: The expanded text.
  type: str
"""


def tsexpand(text, tsenv):
    """%Name% -> value from the tsenv fact (unknown names stay), as the steps expand their options."""
    if not isinstance(tsenv, dict):
        raise AnsibleFilterError("tsexpand: give the tsenv fact, e.g. '%OSDisk%' | tasksequence.windows.tsexpand(tsenv)")
    return TaskSequenceEnvironment(tsenv).expand(text)


class FilterModule:
    def filters(self):
        return {"tsexpand": tsexpand}
